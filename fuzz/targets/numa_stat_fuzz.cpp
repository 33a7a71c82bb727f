// Fuzzes ParseNumaStat: cgroup v2 memory.numa_stat, v1 memory.numa_stat and
// hugetlb.<size>.numa_stat ("key N0=... N1=..." and "total=... N0=...").
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "host/procfs/numa_maps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto stat = ParseNumaStat(kvmem::fuzz::AsText(data, size), "memory.numa_stat");
  if (!stat) return 0;
  KVMEM_FUZZ_CHECK(!stat->items.empty());
  for (const auto& [key, nodes] : stat->items) {
    KVMEM_FUZZ_CHECK(!key.empty() && stat->Get(key) == &nodes);
    for (const auto& [node, value] : nodes) KVMEM_FUZZ_CHECK(node >= 0 && node <= 1'000'000);
  }
  return 0;
}
