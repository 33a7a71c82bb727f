// The hugepages collector: pools per node and page size, global pools, and the
// hugepage-aware available memory per node.
#include "host/procfs/hugepages.h"
#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/node.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kNodePool{
    "kvmem_node_hugepages_pool_pages",
    "Hugepages in the node's pool; size is the page size in bytes (nodeN/hugepages/hugepages-*/nr_hugepages).",
    kGauge,
    {"node", "size"}};
const FamilyDesc kNodeFree{
    "kvmem_node_hugepages_free_pages", "Free hugepages in the node's pool (free_hugepages).", kGauge, {"node", "size"}};
const FamilyDesc kNodeSurplus{
    "kvmem_node_hugepages_surplus_pages",
    "Surplus hugepages on the node, allocated beyond the pool by overcommit (surplus_hugepages).",
    kGauge,
    {"node", "size"}};
const FamilyDesc kNodePoolBytes{"kvmem_node_hugepages_pool_bytes",
                                "Bytes in the node's hugepage pool of this page size (nr_hugepages * size).",
                                kGauge,
                                {"node", "size"}};
const FamilyDesc kNodeFreeBytes{"kvmem_node_hugepages_free_bytes",
                                "Free bytes in the node's hugepage pool of this page size (free_hugepages * size).",
                                kGauge,
                                {"node", "size"}};
const FamilyDesc kAvailable{
    "kvmem_node_memory_available_bytes",
    "Memory on the node that VMs can still get: MemFree + Active(file) + Inactive(file) + SReclaimable + free "
    "hugepages of every size. Hugepage pools count as used only for their used pages.",
    kGauge,
    {"node"}};
const FamilyDesc kPool{
    "kvmem_hugepages_pool_pages",
    "Hugepages in the system pool; size is the page size in bytes (/sys/kernel/mm/hugepages/hugepages-*/nr_hugepages).",
    kGauge,
    {"size"}};
const FamilyDesc kFree{
    "kvmem_hugepages_free_pages", "Free hugepages in the system pool (free_hugepages).", kGauge, {"size"}};
const FamilyDesc kReserved{"kvmem_hugepages_reserved_pages",
                           "Hugepages promised to mappings but not yet faulted in (resv_hugepages).",
                           kGauge,
                           {"size"}};
const FamilyDesc kSurplus{"kvmem_hugepages_surplus_pages",
                          "Hugepages allocated beyond the pool by overcommit (surplus_hugepages).",
                          kGauge,
                          {"size"}};
const FamilyDesc kOvercommit{"kvmem_hugepages_overcommit_limit_pages",
                             "Maximum surplus hugepages allowed (nr_overcommit_hugepages).",
                             kGauge,
                             {"size"}};

class HugepagesCollector final : public Collector {
 public:
  explicit HugepagesCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    if (auto pools = procfs::ReadGlobalHugepages(root_)) {
      for (const auto& p : *pools) {
        std::string size = std::to_string(p.page_bytes);
        out.Add(kPool, {size}, static_cast<double>(p.total));
        out.Add(kFree, {size}, static_cast<double>(p.free));
        out.Add(kSurplus, {size}, static_cast<double>(p.surplus));
        out.Add(kReserved, {size}, p.reserved);
        out.Add(kOvercommit, {size}, p.overcommit);
      }
    } else {
      out.Fail(pools.error());
    }
    auto nodes = procfs::ListNodes(root_);
    if (!nodes) return out.Fail(nodes.error());
    for (int node : *nodes) CollectNode(out, node);
  }

  std::vector<const FamilyDesc*> Families() const override {
    return {&kNodePool, &kNodeFree, &kNodeSurplus, &kNodePoolBytes, &kNodeFreeBytes, &kAvailable,
            &kPool,     &kFree,     &kReserved,    &kSurplus,       &kOvercommit};
  }

 private:
  void CollectNode(MetricSink& out, int node) {
    std::string n = std::to_string(node);
    auto pools = procfs::ReadNodeHugepages(root_, node);
    if (!pools) return out.Fail(pools.error());
    for (const auto& p : *pools) {
      std::string size = std::to_string(p.page_bytes);
      double bytes = static_cast<double>(p.page_bytes);
      out.Add(kNodePool, {n, size}, static_cast<double>(p.total));
      out.Add(kNodeFree, {n, size}, static_cast<double>(p.free));
      out.Add(kNodeSurplus, {n, size}, static_cast<double>(p.surplus));
      out.Add(kNodePoolBytes, {n, size}, static_cast<double>(p.total) * bytes);
      out.Add(kNodeFreeBytes, {n, size}, static_cast<double>(p.free) * bytes);
    }
    auto mi = procfs::ReadNodeMeminfo(root_, node);
    if (!mi) return out.Fail(mi.error());
    out.Add(kAvailable, {n}, procfs::NodeAvailableBytes(*mi, *pools));
  }

  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeHugepagesCollector(const procfs::Root& root) {
  return std::make_unique<HugepagesCollector>(root);
}

}  // namespace kvmem::collectors
