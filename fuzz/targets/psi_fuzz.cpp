// Fuzzes ParsePsi: /proc/pressure/memory ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0").
#include <cmath>
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "host/procfs/psi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto psi = ParsePsi(kvmem::fuzz::AsText(data, size), "pressure/memory");
  if (!psi) return 0;
  KVMEM_FUZZ_CHECK(psi->some || psi->full);
  for (const auto& line : {psi->some, psi->full}) {
    if (!line) continue;
    KVMEM_FUZZ_CHECK(std::isfinite(line->avg10) && std::isfinite(line->avg60) && std::isfinite(line->avg300));
  }
  return 0;
}
