// Fuzzes ParseBuddyinfo (/proc/buddyinfo) and the kernel's fragmentation arithmetic run on
// what it returns, for every order the zones have.
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "host/procfs/buddyinfo.h"

namespace {

// Exact free pages of a node, to know when the kernel's 64-bit arithmetic cannot wrap.
unsigned __int128 ExactFreePages(const std::vector<kvmem::procfs::BuddyZone>& zones, int node) {
  unsigned __int128 sum = 0;
  for (const auto& z : zones) {
    if (z.node != node) continue;
    for (size_t k = 0; k < z.free_blocks.size() && k < 64; ++k) {
      sum += static_cast<unsigned __int128>(z.free_blocks[k]) << k;
    }
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto zones = ParseBuddyinfo(kvmem::fuzz::AsText(data, size), "buddyinfo");
  if (!zones) return 0;
  KVMEM_FUZZ_CHECK(!zones->empty());
  const size_t orders = zones->front().free_blocks.size();
  for (const auto& z : *zones) KVMEM_FUZZ_CHECK(z.free_blocks.size() == orders);
  for (unsigned order = 0; order < orders && order < 64; ++order) {
    for (const auto& [node, info] : NodeContigInfo(*zones, order)) {
      double unusable = UnusableIndex(info, order), frag = FragmentationIndex(info, order);
      KVMEM_FUZZ_CHECK(std::isfinite(unusable) && std::isfinite(frag));
      // Within what a real host can have (2^50 pages = 4 EiB), the indexes keep their ranges.
      if (ExactFreePages(*zones, node) < (static_cast<unsigned __int128>(1) << 50)) {
        KVMEM_FUZZ_CHECK(unusable >= 0.0 && unusable <= 1.0);
        KVMEM_FUZZ_CHECK(frag >= -1.0 && frag <= 1.0);
      }
    }
  }
  return 0;
}
