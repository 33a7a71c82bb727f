// The tiering collector: which memory tier each node is in, whether demotion is on, pages
// demoted and promoted (per node and in total), and the work NUMA balancing does.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/node.h"
#include "host/procfs/tiering.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kTier{"kvmem_node_memory_tier_info",
                       "Memory tier of the node (memory_tiering/memory_tierN/nodelist); a lower tier number is faster "
                       "memory, DRAM is 4 by default. Always 1.",
                       kGauge,
                       {"node", "tier"}};
const FamilyDesc kDemotion{"kvmem_tiering_demotion_enabled",
                           "Whether reclaim demotes cold pages to a slower tier instead of dropping them "
                           "(/sys/kernel/mm/numa/demotion_enabled).",
                           kGauge,
                           {}};
const FamilyDesc kDemoted{"kvmem_tiering_demoted_pages_total",
                          "Pages demoted to a slower tier, by who demoted them (/proc/vmstat pgdemote_<reason>).",
                          kCounter,
                          {"reason"}};
const FamilyDesc kPromoted{"kvmem_tiering_promoted_pages_total",
                           "Pages promoted to a faster tier by NUMA balancing (/proc/vmstat pgpromote_success).",
                           kCounter,
                           {}};
const FamilyDesc kCandidates{"kvmem_tiering_promote_candidate_pages_total",
                             "Pages NUMA balancing found hot enough to promote (/proc/vmstat pgpromote_candidate).",
                             kCounter,
                             {}};
const FamilyDesc kNodeDemoted{"kvmem_node_tiering_demoted_pages_total",
                              "Pages demoted away from the node, by who demoted them (nodeN/vmstat pgdemote_<reason>).",
                              kCounter,
                              {"node", "reason"}};
const FamilyDesc kNodePromoted{"kvmem_node_tiering_promoted_pages_total",
                               "Pages promoted onto the node (nodeN/vmstat pgpromote_success).",
                               kCounter,
                               {"node"}};
const FamilyDesc kNodeCandidates{
    "kvmem_node_tiering_promote_candidate_pages_total",
    "Pages on the node NUMA balancing found hot enough to promote (nodeN/vmstat pgpromote_candidate).",
    kCounter,
    {"node"}};

struct BalancingItem {
  const char* item;
  FamilyDesc global, node;
};
BalancingItem B(const char* item, const char* suffix, const char* what) {
  return {item,
          {std::string("kvmem_numa_balancing_") + suffix + "_total",
           std::string(what) + " (/proc/vmstat " + item + ").",
           kCounter,
           {}},
          {std::string("kvmem_node_numa_balancing_") + suffix + "_total",
           std::string(what) + " (nodeN/vmstat " + item + ", where the kernel counts it per node).",
           kCounter,
           {"node"}}};
}
const std::array kBalancing = {
    B("numa_pte_updates", "pte_updates",
      "Page table entries NUMA balancing made inaccessible to sample accesses (each one costs a KVM invalidation for "
      "guest memory)"),
    B("numa_huge_pte_updates", "huge_pte_updates", "Huge page table entries NUMA balancing made inaccessible"),
    B("numa_hint_faults", "hint_faults", "NUMA hinting faults taken on those entries"),
    B("numa_hint_faults_local", "hint_faults_local",
      "NUMA hinting faults where the page was already on the faulting CPU's node"),
    B("numa_pages_migrated", "pages_migrated", "Pages NUMA balancing migrated"),
};

constexpr std::string_view kDemotePrefix = "pgdemote_";

class TieringCollector final : public Collector {
 public:
  explicit TieringCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    if (auto tiers = procfs::ReadMemoryTiers(root_)) {
      for (const auto& t : *tiers) {
        for (int n : t.nodes) out.Add(kTier, {std::to_string(n), std::to_string(t.id)}, 1);
      }
    } else {
      out.Fail(tiers.error());
    }
    if (auto on = procfs::ReadDemotionEnabled(root_)) {
      out.Add(kDemotion, {}, *on ? 1 : 0);
    } else {
      out.Fail(on.error());
    }
    if (auto vm = procfs::ReadVmstat(root_)) {
      Counters(out, *vm, nullptr);
    } else {
      out.Fail(vm.error());
    }
    auto nodes = procfs::ListNodes(root_);
    if (!nodes) return out.Fail(nodes.error());
    for (int node : *nodes) {
      const std::string n = std::to_string(node);
      if (auto vs = procfs::ReadNodeVmstat(root_, node)) {
        Counters(out, *vs, &n);
      } else {
        out.Fail(vs.error());
      }
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out = {&kTier,       &kDemotion,    &kDemoted,      &kPromoted,
                                          &kCandidates, &kNodeDemoted, &kNodePromoted, &kNodeCandidates};
    for (const auto& b : kBalancing) out.insert(out.end(), {&b.global, &b.node});
    return out;
  }

 private:
  // One vmstat, global (node == nullptr) or one node's; items the kernel lacks stay absent.
  static void Counters(MetricSink& out, const procfs::KeyValues& vm, const std::string* node) {
    for (const auto& [item, value] : vm.values) {
      if (!item.starts_with(kDemotePrefix)) continue;
      std::string_view reason = item.substr(kDemotePrefix.size());
      if (node) {
        out.Add(kNodeDemoted, {*node, reason}, static_cast<double>(value));
      } else {
        out.Add(kDemoted, {reason}, static_cast<double>(value));
      }
    }
    if (node) {
      out.Add(kNodePromoted, {*node}, vm.Get("pgpromote_success"));
      out.Add(kNodeCandidates, {*node}, vm.Get("pgpromote_candidate"));
      for (const auto& b : kBalancing) out.Add(b.node, {*node}, vm.Get(b.item));
    } else {
      out.Add(kPromoted, {}, vm.Get("pgpromote_success"));
      out.Add(kCandidates, {}, vm.Get("pgpromote_candidate"));
      for (const auto& b : kBalancing) out.Add(b.global, {}, vm.Get(b.item));
    }
  }

  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeTieringCollector(const procfs::Root& root) {
  return std::make_unique<TieringCollector>(root);
}

}  // namespace kvmem::collectors
