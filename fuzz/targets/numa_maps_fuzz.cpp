// Fuzzes ParseNumaMaps: /proc/PID/numa_maps (per mapping "N<node>=<pages>" and
// "kernelpagesize_kB=<size>").
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "host/procfs/numa_maps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto bytes = ParseNumaMaps(kvmem::fuzz::AsText(data, size), "numa_maps");
  if (!bytes) return 0;
  for (const auto& [node, n] : *bytes) {
    KVMEM_FUZZ_CHECK(node >= 0 && node <= 1'000'000);
    KVMEM_FUZZ_CHECK(n % 1024 == 0);  // pages times a page size in KiB
  }
  return 0;
}
