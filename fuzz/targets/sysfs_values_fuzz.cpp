// Fuzzes the small /proc and /sys parsers, one per input chosen by its first byte:
//   0 ParseIdList       nodeN/cpulist, node/online, possible, has_cpu, has_memory, ...
//   1 ParseChoice       transparent_hugepage/{enabled,defrag,shmem_enabled}, hugepages-*/enabled,
//                       khugepaged/defrag, ksm/advisor_mode
//   2 ParseSingleU64    hugepage pool counts, hpage_pmd_size, ksm and khugepaged counters
//   3 ParseSingleU64/16 memory/block_size_bytes (hex)
//   4 ParseSingleI64    ksm/general_profit, vm/swappiness, vm/extfrag_threshold, ...
//   5 ParseHugepageDirName  hugepages-<size>kB directory names
//   6 ParseDistances    nodeN/distance
//   7 ParseZramMmStat   /sys/block/zramN/mm_stat
//   8 ParseKsmStat      /proc/PID/ksm_stat
//   9 ParseProcCgroup   /proc/PID/cgroup
//  10 SplitFields, Trim and ParseDouble, which every parser above builds on
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "host/procfs/fields.h"
#include "host/procfs/hugepages.h"
#include "host/procfs/ksm_stat.h"
#include "host/procfs/node.h"
#include "host/procfs/numa_maps.h"
#include "host/procfs/swap.h"

namespace {

using namespace kvmem::procfs;

void Fields(std::string_view text) {
  std::string_view t = Trim(text);
  KVMEM_FUZZ_CHECK(t.size() <= text.size());
  for (std::string_view f : SplitFields(text)) {
    KVMEM_FUZZ_CHECK(!f.empty() && f.find_first_of(" \t\r") == std::string_view::npos);
    if (auto d = ParseDouble(f)) (void)std::isnan(*d);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [which, text] = kvmem::fuzz::Select(data, size, 11);
  switch (which) {
    case 0:
      if (auto ids = ParseIdList(text, "cpulist")) {
        for (int id : *ids) KVMEM_FUZZ_CHECK(id >= 0 && id <= 1'000'000);
      }
      break;
    case 1:
      if (auto c = ParseChoice(text, "enabled")) {
        KVMEM_FUZZ_CHECK(!c->selected.empty());
        bool listed = false;
        for (const auto& o : c->options) listed = listed || o == c->selected;
        KVMEM_FUZZ_CHECK(listed);
      }
      break;
    case 2: (void)ParseSingleU64(text, "nr_hugepages"); break;
    case 3: (void)ParseSingleU64(text, "block_size_bytes", 16); break;
    case 4: (void)ParseSingleI64(text, "general_profit"); break;
    case 5:
      if (auto bytes = ParseHugepageDirName(text)) KVMEM_FUZZ_CHECK(*bytes > 0 && *bytes % 1024 == 0);
      break;
    case 6:
      if (auto d = ParseDistances(text, "distance")) {
        KVMEM_FUZZ_CHECK(!d->empty());
        for (int v : *d) KVMEM_FUZZ_CHECK(v >= 0 && v <= 255);
      }
      break;
    case 7: (void)ParseZramMmStat(text, "mm_stat"); break;
    case 8: (void)ParseKsmStat(text, "ksm_stat"); break;
    case 9: (void)ParseProcCgroup(text, "cgroup"); break;
    default: Fields(text); break;
  }
  return 0;
}
