// The fragmentation collector: buddy allocator free blocks per node, zone and order; the
// kernel's unusable-free-space and fragmentation indexes for the THP (PMD) order; compaction
// counters and settings. Formulas: host/procfs/buddyinfo.h and docs/metrics.md.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/buddyinfo.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/read.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kFree{"kvmem_buddy_free_bytes",
                       "Free memory in buddy blocks of one order (/proc/buddyinfo count * 2^order * page size); size "
                       "is the block size in bytes.",
                       kGauge,
                       {"node", "zone", "order", "size"}};
const FamilyDesc kZoneHugeFree{
    "kvmem_fragmentation_huge_free_bytes",
    "Free memory in blocks at or above the THP order, i.e. usable for 2 MiB pages without compaction.",
    kGauge,
    {"node", "zone"}};
const FamilyDesc kZoneUnusable{"kvmem_fragmentation_unusable_ratio",
                               "Unusable free space index for the THP order: share of free memory in blocks too small "
                               "for a huge page (kernel unusable_free_index).",
                               kGauge,
                               {"node", "zone"}};
const FamilyDesc kZoneIndex{"kvmem_fragmentation_index",
                            "Fragmentation index for the THP order (kernel __fragmentation_index / 1000): -1 if a huge "
                            "page is free, else towards 0 lack of memory, towards 1 fragmentation.",
                            kGauge,
                            {"node", "zone"}};
const FamilyDesc kNodeHugeFree{"kvmem_node_fragmentation_huge_free_bytes",
                               "Free memory on the node in blocks at or above the THP order, over all zones.",
                               kGauge,
                               {"node"}};
const FamilyDesc kNodeUnusable{"kvmem_node_fragmentation_unusable_ratio",
                               "Unusable free space index for the THP order over all zones of the node.",
                               kGauge,
                               {"node"}};
const FamilyDesc kNodeIndex{
    "kvmem_node_fragmentation_index",
    "Fragmentation index for the THP order over all zones of the node (-1 when a huge page is free).",
    kGauge,
    {"node"}};
const FamilyDesc kProactiveness{"kvmem_sysctl_vm_compaction_proactiveness",
                                "vm.compaction_proactiveness: how hard the kernel compacts in the background (0-100).",
                                kGauge,
                                {}};
const FamilyDesc kExtfragThreshold{
    "kvmem_sysctl_vm_extfrag_threshold",
    "vm.extfrag_threshold: fragmentation index (in thousandths) above which the kernel compacts rather than reclaims.",
    kGauge,
    {}};

const std::array kCompaction = {
    std::pair{"compact_stall",
              FamilyDesc{"kvmem_compaction_stalls_total",
                         "Allocations that stalled for direct compaction (/proc/vmstat compact_stall).",
                         kCounter,
                         {}}},
    std::pair{"compact_fail", FamilyDesc{"kvmem_compaction_failures_total",
                                         "Direct compactions that did not free a suitable block (compact_fail).",
                                         kCounter,
                                         {}}},
    std::pair{"compact_success", FamilyDesc{"kvmem_compaction_successes_total",
                                            "Direct compactions that freed a suitable block (compact_success).",
                                            kCounter,
                                            {}}},
    std::pair{
        "compact_daemon_wake",
        FamilyDesc{
            "kvmem_compaction_daemon_wakeups_total", "Wake-ups of kcompactd (compact_daemon_wake).", kCounter, {}}},
    std::pair{"compact_migrate_scanned",
              FamilyDesc{"kvmem_compaction_migrate_scanned_pages_total",
                         "Pages scanned for migration by compaction (compact_migrate_scanned).",
                         kCounter,
                         {}}},
    std::pair{"compact_free_scanned", FamilyDesc{"kvmem_compaction_free_scanned_pages_total",
                                                 "Pages scanned for free targets by compaction (compact_free_scanned).",
                                                 kCounter,
                                                 {}}},
    std::pair{"compact_isolated", FamilyDesc{"kvmem_compaction_isolated_pages_total",
                                             "Pages isolated for migration by compaction (compact_isolated).",
                                             kCounter,
                                             {}}},
    std::pair{"compact_daemon_migrate_scanned",
              FamilyDesc{"kvmem_compaction_daemon_migrate_scanned_pages_total",
                         "Pages kcompactd scanned for migration (compact_daemon_migrate_scanned).",
                         kCounter,
                         {}}},
    std::pair{"compact_daemon_free_scanned",
              FamilyDesc{"kvmem_compaction_daemon_free_scanned_pages_total",
                         "Pages kcompactd scanned for free targets (compact_daemon_free_scanned).",
                         kCounter,
                         {}}},
};

class FragmentationCollector final : public Collector {
 public:
  explicit FragmentationCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    CollectBuddy(out);
    if (auto vm = procfs::ReadVmstat(root_)) {
      for (const auto& [key, desc] : kCompaction) out.Add(desc, {}, vm->Get(key));
    } else {
      out.Fail(vm.error());
    }
    for (auto [file, desc] : {std::pair{"sys/vm/compaction_proactiveness", &kProactiveness},
                              std::pair{"sys/vm/extfrag_threshold", &kExtfragThreshold}}) {
      if (auto v = procfs::ReadI64File(root_.Proc(file)))
        out.Add(*desc, {}, static_cast<double>(*v));
      else
        out.Fail(v.error());
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out = {&kFree,      &kZoneHugeFree,  &kZoneUnusable,
                                          &kZoneIndex, &kNodeHugeFree,  &kNodeUnusable,
                                          &kNodeIndex, &kProactiveness, &kExtfragThreshold};
    for (const auto& f : kCompaction) out.push_back(&f.second);
    return out;
  }

 private:
  void CollectBuddy(MetricSink& out) {
    auto zones = procfs::ReadBuddyinfo(root_);
    if (!zones) return out.Fail(zones.error());
    const unsigned order = procfs::ThpOrder(root_);
    const double page = PageSizeBytes();
    const double huge_bytes = page * static_cast<double>(1ULL << order);
    for (const auto& z : *zones) {
      std::string n = std::to_string(z.node);
      for (size_t k = 0; k < z.free_blocks.size() && k < 63; ++k) {
        double block = page * static_cast<double>(1ULL << k);
        out.Add(kFree, {n, z.zone, std::to_string(k), std::to_string(static_cast<uint64_t>(block))},
                static_cast<double>(z.free_blocks[k]) * block);
      }
      auto info = procfs::ComputeContigInfo(z.free_blocks, order);
      out.Add(kZoneHugeFree, {n, z.zone}, static_cast<double>(info.free_blocks_suitable) * huge_bytes);
      out.Add(kZoneUnusable, {n, z.zone}, procfs::UnusableIndex(info, order));
      out.Add(kZoneIndex, {n, z.zone}, procfs::FragmentationIndex(info, order));
    }
    for (const auto& [node, info] : procfs::NodeContigInfo(*zones, order)) {
      std::string n = std::to_string(node);
      out.Add(kNodeHugeFree, {n}, static_cast<double>(info.free_blocks_suitable) * huge_bytes);
      out.Add(kNodeUnusable, {n}, procfs::UnusableIndex(info, order));
      out.Add(kNodeIndex, {n}, procfs::FragmentationIndex(info, order));
    }
  }

  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeFragmentationCollector(const procfs::Root& root) {
  return std::make_unique<FragmentationCollector>(root);
}

}  // namespace kvmem::collectors
