// Fuzzes ParseSwaps: /proc/swaps (a header, then "Filename Type Size Used Priority" in KiB).
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "host/procfs/swap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto swaps = ParseSwaps(kvmem::fuzz::AsText(data, size), "swaps");
  if (!swaps) return 0;
  for (const auto& d : *swaps) {
    KVMEM_FUZZ_CHECK(!d.filename.empty() && !d.type.empty());
    KVMEM_FUZZ_CHECK(d.size_bytes % 1024 == 0 && d.used_bytes % 1024 == 0);
  }
  return 0;
}
