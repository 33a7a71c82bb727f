// The numa collector: per-node meminfo, numastat, vmstat, distances and CPUs.
#include <array>
#include <set>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/node.h"

namespace kvmem::collectors {
namespace {

struct MeminfoField {
  const char* key;  // as in nodeN/meminfo
  FamilyDesc desc;
};

MeminfoField MeminfoGauge(const char* key, const char* suffix, const char* what) {
  return {key,
          {std::string("kvmem_node_memory_") + suffix + "_bytes",
           std::string(what) + " (nodeN/meminfo " + key + ").",
           kGauge,
           {"node"}}};
}

const std::array kMeminfo = {
    MeminfoGauge("MemTotal", "total", "Memory the node manages"),
    MeminfoGauge("MemFree", "free", "Free memory on the node"),
    MeminfoGauge("MemUsed", "used", "Memory in use on the node (MemTotal - MemFree)"),
    MeminfoGauge("Active", "active", "Recently used memory"),
    MeminfoGauge("Inactive", "inactive", "Less recently used memory, first to be reclaimed"),
    MeminfoGauge("Active(anon)", "active_anon", "Recently used anonymous memory"),
    MeminfoGauge("Inactive(anon)", "inactive_anon", "Less recently used anonymous memory"),
    MeminfoGauge("Active(file)", "active_file", "Recently used page cache"),
    MeminfoGauge("Inactive(file)", "inactive_file", "Less recently used page cache"),
    MeminfoGauge("Unevictable", "unevictable", "Memory that cannot be reclaimed"),
    MeminfoGauge("Mlocked", "mlocked", "Memory locked with mlock"),
    MeminfoGauge("Dirty", "dirty", "Page cache waiting to be written back"),
    MeminfoGauge("Writeback", "writeback", "Page cache being written back"),
    MeminfoGauge("FilePages", "file", "Page cache"),
    MeminfoGauge("Mapped", "mapped", "Page cache mapped into processes"),
    MeminfoGauge("AnonPages", "anon", "Anonymous memory"),
    MeminfoGauge("Shmem", "shmem", "Shared memory and tmpfs"),
    MeminfoGauge("KernelStack", "kernel_stack", "Kernel stacks"),
    MeminfoGauge("PageTables", "page_tables", "Page tables"),
    MeminfoGauge("SecPageTables", "secondary_page_tables", "Secondary page tables (KVM's stage-2/EPT)"),
    MeminfoGauge("KReclaimable", "kernel_reclaimable", "Kernel memory the kernel can reclaim under pressure"),
    MeminfoGauge("Slab", "slab", "Slab allocator memory"),
    MeminfoGauge("SReclaimable", "slab_reclaimable", "Reclaimable slab memory"),
    MeminfoGauge("SUnreclaim", "slab_unreclaimable", "Unreclaimable slab memory"),
    MeminfoGauge("AnonHugePages", "anon_huge", "Anonymous memory in transparent huge pages"),
    MeminfoGauge("ShmemHugePages", "shmem_huge", "Shared memory in transparent huge pages"),
    MeminfoGauge("ShmemPmdMapped", "shmem_pmd_mapped", "Shared memory mapped with PMD-sized pages"),
    MeminfoGauge("FileHugePages", "file_huge", "Page cache in transparent huge pages"),
    MeminfoGauge("FilePmdMapped", "file_pmd_mapped", "Page cache mapped with PMD-sized pages"),
    MeminfoGauge("SwapCached", "swap_cached", "Swapped-out memory also still in RAM"),
};

const std::array kNumastat = {
    std::pair{"numa_hit", FamilyDesc{"kvmem_node_numa_hit_pages_total",
                                     "Pages allocated on this node as intended (numastat numa_hit).",
                                     kCounter,
                                     {"node"}}},
    std::pair{"numa_miss",
              FamilyDesc{"kvmem_node_numa_miss_pages_total",
                         "Pages allocated on this node although another node was preferred (numastat numa_miss).",
                         kCounter,
                         {"node"}}},
    std::pair{"numa_foreign", FamilyDesc{"kvmem_node_numa_foreign_pages_total",
                                         "Pages meant for this node but allocated elsewhere (numastat numa_foreign).",
                                         kCounter,
                                         {"node"}}},
    std::pair{"interleave_hit",
              FamilyDesc{"kvmem_node_numa_interleave_hit_pages_total",
                         "Interleaved pages allocated on this node as intended (numastat interleave_hit).",
                         kCounter,
                         {"node"}}},
    std::pair{"local_node", FamilyDesc{"kvmem_node_numa_local_pages_total",
                                       "Pages allocated on this node for a task running on it (numastat local_node).",
                                       kCounter,
                                       {"node"}}},
    std::pair{"other_node",
              FamilyDesc{"kvmem_node_numa_other_pages_total",
                         "Pages allocated on this node for a task running on another node (numastat other_node).",
                         kCounter,
                         {"node"}}},
};

const FamilyDesc kVmstatGauge{
    "kvmem_node_vmstat",
    "Per-node vmstat gauge item (nodeN/vmstat nr_* and workingset_nodes), raw value, mostly pages.",
    kGauge,
    {"node", "item"}};
const FamilyDesc kVmstatCounter{"kvmem_node_vmstat_events_total",
                                "Per-node vmstat event counter item (nodeN/vmstat), raw value, mostly pages.",
                                kCounter,
                                {"node", "item"}};
const FamilyDesc kDistance{"kvmem_node_distance",
                           "NUMA distance from node to to_node (nodeN/distance; 10 is local).",
                           kGauge,
                           {"node", "to_node"}};
const FamilyDesc kCpus{
    "kvmem_node_cpus", "Number of CPUs on the node (nodeN/cpulist); 0 for a memory-only node.", kGauge, {"node"}};
const FamilyDesc kInfo{
    "kvmem_node_info", "NUMA node facts: its CPU list (nodeN/cpulist). Always 1.", kGauge, {"node", "cpulist"}};

// nr_* items that count events rather than hold a level.
const std::set<std::string, std::less<>> kCountingNrItems = {"nr_dirtied", "nr_written", "nr_throttled_written",
                                                             "nr_foll_pin_acquired", "nr_foll_pin_released"};

bool IsGaugeItem(std::string_view item) {
  if (item == "workingset_nodes") return true;
  return item.substr(0, 3) == "nr_" && !kCountingNrItems.contains(item);
}

std::string FormatIdList(const std::vector<int>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) out += "-" + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

class NumaCollector final : public Collector {
 public:
  explicit NumaCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    auto nodes = procfs::ListNodes(root_);
    if (!nodes) return out.Fail(nodes.error());
    for (size_t i = 0; i < nodes->size(); ++i) {
      int node = (*nodes)[i];
      std::string n = std::to_string(node);
      CollectMeminfo(out, node, n);
      CollectCounters(out, node, n);
      if (auto cpus = procfs::ReadNodeCpus(root_, node)) {
        out.Add(kCpus, {n}, static_cast<double>(cpus->size()));
        out.Add(kInfo, {n, FormatIdList(*cpus)}, 1);
      } else {
        out.Fail(cpus.error());
      }
      if (auto dist = procfs::ReadNodeDistances(root_, node)) {
        if (dist->size() != nodes->size()) {
          out.Fail(
              {ErrorKind::kParse,
               "has " + std::to_string(dist->size()) + " distances for " + std::to_string(nodes->size()) + " nodes",
               root_.Node(node, "distance"), 1});
        } else {
          for (size_t j = 0; j < dist->size(); ++j) {
            out.Add(kDistance, {n, std::to_string((*nodes)[j])}, (*dist)[j]);
          }
        }
      } else {
        out.Fail(dist.error());
      }
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out;
    for (const auto& f : kMeminfo) out.push_back(&f.desc);
    for (const auto& f : kNumastat) out.push_back(&f.second);
    for (auto* d : {&kVmstatGauge, &kVmstatCounter, &kDistance, &kCpus, &kInfo}) out.push_back(d);
    return out;
  }

 private:
  void CollectMeminfo(MetricSink& out, int node, const std::string& n) {
    auto mi = procfs::ReadNodeMeminfo(root_, node);
    if (!mi) return out.Fail(mi.error());
    for (const auto& f : kMeminfo) out.Add(f.desc, {n}, mi->Get(f.key));
  }

  void CollectCounters(MetricSink& out, int node, const std::string& n) {
    if (auto ns = procfs::ReadNodeNumastat(root_, node)) {
      for (const auto& [key, desc] : kNumastat) out.Add(desc, {n}, ns->Get(key));
    } else {
      out.Fail(ns.error());
    }
    if (auto vs = procfs::ReadNodeVmstat(root_, node)) {
      for (const auto& [item, value] : vs->values) {
        out.Add(IsGaugeItem(item) ? kVmstatGauge : kVmstatCounter, {n, item}, static_cast<double>(value));
      }
    } else {
      out.Fail(vs.error());
    }
  }

  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeNumaCollector(const procfs::Root& root) { return std::make_unique<NumaCollector>(root); }

}  // namespace kvmem::collectors
