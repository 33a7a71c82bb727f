// The libvirt collector: per-VM balloon, guest memory, virtio-mem, hugepage backing, NUMA
// residency and KSM, plus libvirt's own health and the host's free pages per cell, all from
// a virt::LibvirtSource (cached, budgeted), never from libvirt on the scrape thread.
#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "exporter/collectors/domain_cgroup.h"

#include "host/procfs/meminfo.h"
#include "host/procfs/tiering.h"
#include "host/virt/source.h"

namespace kvmem::collectors {
namespace {

using Labels = std::vector<std::string>;
const Labels kVm{"domain", "uuid"};
Labels Vm(std::initializer_list<std::string> extra) {
  Labels l = kVm;
  l.insert(l.end(), extra);
  return l;
}

const FamilyDesc kUp{"kvmem_libvirt_up",
                     "Whether the last libvirt refresh succeeded within --libvirt.timeout (1) or not (0).",
                     kGauge,
                     {}};
const FamilyDesc kConnErrors{"kvmem_libvirt_connection_errors_total",
                             "Failed libvirt connection attempts and dropped connections.",
                             kCounter,
                             {}};
const FamilyDesc kProcDenied{
    "kvmem_libvirt_proc_read_denied_total",
    "Reads of a QEMU process's /proc/PID/<file> refused for lack of privilege (numa_maps, ksm_stat need ptrace-read "
    "access: QEMU's uid or CAP_SYS_PTRACE); the per-VM metrics they feed are left out.",
    kCounter,
    {"file"}};
const FamilyDesc kTimeouts{"kvmem_libvirt_timeouts_total",
                           "Scrapes that served cached libvirt values because a refresh exceeded --libvirt.timeout.",
                           kCounter,
                           {}};
const FamilyDesc kDomains{"kvmem_libvirt_domains", "Active domains in the published libvirt snapshot.", kGauge, {}};
const FamilyDesc kFreePages{
    "kvmem_libvirt_node_free_pages",
    "Free pages per host NUMA cell and page size in bytes, as libvirt sees them (virNodeGetFreePages).",
    kGauge,
    {"node", "size"}};

const FamilyDesc kBalloonCurrent{"kvmem_domain_balloon_current_bytes",
                                 "Memory the balloon leaves the guest now (balloon.current / virDomainGetInfo memory).",
                                 kGauge, kVm};
const FamilyDesc kBalloonMaximum{"kvmem_domain_balloon_maximum_bytes",
                                 "Maximum balloon size: the domain's <memory> (balloon.maximum).", kGauge, kVm};
const FamilyDesc kAvailable{"kvmem_domain_guest_available_bytes",
                            "Memory the guest OS sees (balloon stat available: guest MemTotal).", kGauge, kVm};
const FamilyDesc kUsable{"kvmem_domain_guest_usable_bytes",
                         "Memory the guest could use without swapping (balloon stat usable: guest MemAvailable).",
                         kGauge, kVm};
const FamilyDesc kUnused{"kvmem_domain_guest_unused_bytes",
                         "Memory the guest leaves unused (balloon stat unused: guest MemFree).", kGauge, kVm};
const FamilyDesc kDiskCaches{"kvmem_domain_guest_disk_caches_bytes",
                             "Guest page cache that can be reclaimed (balloon stat disk_caches).", kGauge, kVm};
const FamilyDesc kRss{"kvmem_domain_rss_bytes", "Resident set size of the QEMU process on the host (balloon stat rss).",
                      kGauge, kVm};
const FamilyDesc kSwapIn{"kvmem_domain_guest_swap_in_bytes_total",
                         "Memory the guest swapped in (balloon stat swap_in).", kCounter, kVm};
const FamilyDesc kSwapOut{"kvmem_domain_guest_swap_out_bytes_total",
                          "Memory the guest swapped out (balloon stat swap_out).", kCounter, kVm};
const FamilyDesc kMajor{"kvmem_domain_guest_major_faults_total",
                        "Major page faults in the guest (balloon stat major_fault).", kCounter, kVm};
const FamilyDesc kMinor{"kvmem_domain_guest_minor_faults_total",
                        "Minor page faults in the guest (balloon stat minor_fault).", kCounter, kVm};
const FamilyDesc kHugeAlloc{"kvmem_domain_guest_hugetlb_allocations_total",
                            "Successful hugetlb page allocations in the guest (balloon stat hugetlb_pgalloc).",
                            kCounter, kVm};
const FamilyDesc kHugeFail{"kvmem_domain_guest_hugetlb_failures_total",
                           "Failed hugetlb page allocations in the guest (balloon stat hugetlb_pgfail).", kCounter,
                           kVm};
const FamilyDesc kLastUpdate{"kvmem_domain_guest_stats_last_update_timestamp_seconds",
                             "When the guest last reported balloon stats (balloon stat last-update).", kGauge, kVm};
const FamilyDesc kStatsState{
    "kvmem_domain_guest_stats_state",
    "Guest balloon stats: ok, stale (older than 3 stats periods, at least 10 s), missing (no balloon or no guest "
    "driver) or disabled (stats period 0). One series per state; the current one is 1.",
    kGauge, Vm({"state"})};
const FamilyDesc kAge{"kvmem_domain_stats_age_seconds",
                      "Age of this domain's values: 0 when refreshed for this scrape, more when libvirt was slow or "
                      "failed and cached values are served.",
                      kGauge, kVm};
const FamilyDesc kInfo{"kvmem_domain_info",
                       "Memory facts from the domain XML: hugepage backing and page sizes, numatune, vCPU pinning "
                       "(<vcpupin> or <vcpu cpuset>), balloon model, stats period, autodeflate and free page "
                       "reporting. Always 1.",
                       kGauge,
                       Vm({"hugepages", "hugepage_size_bytes", "numatune_mode", "numatune_nodeset", "pinned",
                           "balloon_model", "balloon_stats_period_seconds", "autodeflate", "free_page_reporting"})};
const FamilyDesc kMinGuarantee{"kvmem_domain_memory_min_guarantee_bytes",
                               "Memory the domain is guaranteed (<memtune><min_guarantee>).", kGauge, kVm};
const FamilyDesc kVmemSize{"kvmem_domain_virtio_mem_size_bytes",
                           "virtio-mem device size: the most it can plug (<target><size>).", kGauge,
                           Vm({"device", "node"})};
const FamilyDesc kVmemRequested{"kvmem_domain_virtio_mem_requested_bytes",
                                "virtio-mem size the host asks the guest to plug (<target><requested>).", kGauge,
                                Vm({"device", "node"})};
const FamilyDesc kVmemCurrent{"kvmem_domain_virtio_mem_current_bytes",
                              "virtio-mem size the guest has plugged (<target><current>).", kGauge,
                              Vm({"device", "node"})};
const FamilyDesc kVmemBlock{"kvmem_domain_virtio_mem_block_size_bytes",
                            "virtio-mem block size, the plug granularity (<target><block>).", kGauge,
                            Vm({"device", "node"})};
const FamilyDesc kNumaBytes{"kvmem_domain_numa_memory_bytes",
                            "Bytes of the VM's memory on each host NUMA node (its cgroup's memory.numa_stat, else the "
                            "QEMU process's numa_maps).",
                            kGauge, Vm({"node"})};
const FamilyDesc kVcpus{"kvmem_domain_vcpus",
                        "vCPUs of the VM currently running on CPUs of each host NUMA node (virDomainGetVcpus).", kGauge,
                        Vm({"node"})};
const FamilyDesc kLocality{"kvmem_domain_numa_locality_ratio",
                           "Share of the VM's resident memory on host nodes where its vCPUs run, 0 to 1.", kGauge, kVm};
const FamilyDesc kKsmMerging{"kvmem_domain_ksm_merging_pages",
                             "Pages of the VM that KSM currently merges (/proc/PID/ksm_stat ksm_merging_pages).",
                             kGauge, kVm};
const FamilyDesc kKsmProfit{"kvmem_domain_ksm_profit_bytes",
                            "Memory KSM saves for the VM, net of its metadata (/proc/PID/ksm_stat ksm_process_profit).",
                            kGauge, kVm};

const FamilyDesc kThpAnon{"kvmem_domain_thp_anon_bytes",
                          "The VM's QEMU memory backed by transparent huge pages (/proc/PID/smaps_rollup "
                          "AnonHugePages); hugetlb-backed memory is not counted.",
                          kGauge, kVm};
const FamilyDesc kTierBytes{"kvmem_domain_tier_memory_bytes",
                            "Bytes of the VM's memory in each memory tier: kvmem_domain_numa_memory_bytes summed over "
                            "the nodes of the tier (memory_tierN/nodelist).",
                            kGauge, Vm({"tier"})};
const FamilyDesc kFprMissing{
    "kvmem_domain_free_page_reporting_missing",
    "1 when the VM could use free page reporting but its balloon lacks it (virtio balloon, no hugetlb backing, no "
    "<hostdev> or hostdev interface, freePageReporting not on); 0 when eligible and on; absent when not eligible.",
    kGauge, kVm};

const FamilyDesc* const kAll[] = {&kThpAnon,        &kTierBytes,      &kFprMissing, &kUp,
                                  &kConnErrors,     &kTimeouts,       &kDomains,    &kFreePages,
                                  &kBalloonCurrent, &kBalloonMaximum, &kAvailable,  &kUsable,
                                  &kUnused,         &kDiskCaches,     &kRss,        &kSwapIn,
                                  &kSwapOut,        &kMajor,          &kMinor,      &kHugeAlloc,
                                  &kHugeFail,       &kLastUpdate,     &kStatsState, &kAge,
                                  &kInfo,           &kMinGuarantee,   &kVmemSize,   &kVmemRequested,
                                  &kVmemCurrent,    &kVmemBlock,      &kNumaBytes,  &kVcpus,
                                  &kLocality,       &kKsmMerging,     &kKsmProfit,  &kProcDenied};

// The per-VM families --collector.libvirt.vm-detail=fleet keeps: what the fleet recording rules
// (kvmem-fleet-host) and a fleet dashboard read, and every kvmem_domain_* an alert or its
// recording rules read (kvmem-vm, kvmem-density). kvmem_libvirt_* are per host and always stay.
constexpr std::string_view kFleetFamilies[] = {
    "kvmem_domain_info",
    "kvmem_domain_balloon_current_bytes",
    "kvmem_domain_balloon_maximum_bytes",
    "kvmem_domain_guest_available_bytes",
    "kvmem_domain_guest_usable_bytes",
    "kvmem_domain_numa_locality_ratio",
    "kvmem_domain_numa_memory_bytes",
    "kvmem_domain_stats_age_seconds",
    "kvmem_domain_memory_pressure_stalled_seconds_total",
    "kvmem_domain_cgroup_swap_refaults_total",
    "kvmem_domain_cgroup_usage_bytes",
    "kvmem_domain_cgroup_swap_bytes",
    // Read by alerts: KvmemGuest{MemoryPressure,SwapInHigh,MajorFaultsHigh,StatsStale} and
    // KvmemVmRefaultStorm's refault ratio.
    "kvmem_domain_guest_stats_state",
    "kvmem_domain_guest_stats_last_update_timestamp_seconds",
    "kvmem_domain_guest_swap_in_bytes_total",
    "kvmem_domain_guest_major_faults_total",
    "kvmem_domain_cgroup_memory_bytes",
};

bool ServedAt(VmDetail detail, const FamilyDesc& f) {
  if (detail == VmDetail::kFull || !f.name.starts_with("kvmem_domain_")) return true;
  return std::find(std::begin(kFleetFamilies), std::end(kFleetFamilies), f.name) != std::end(kFleetFamilies);
}

const char* Bool(bool b) { return b ? "true" : "false"; }

class LibvirtCollector final : public Collector {
 public:
  LibvirtCollector(virt::SourceOptions options, std::chrono::milliseconds budget,
                   std::optional<uint64_t> host_hugepage_bytes, std::shared_ptr<checks::DomainBoard> board,
                   VmDetail detail)
      : root_(options.root),
        source_(std::move(options)),
        budget_(budget),
        host_hugepage_bytes_(host_hugepage_bytes),
        board_(std::move(board)) {
    for (const FamilyDesc* f : Declared()) (ServedAt(detail, *f) ? served_ : omitted_).push_back(f);
  }

  void Collect(MetricSink& out) override {
    for (const FamilyDesc* f : omitted_) out.Omit(*f);
    virt::Snapshot snap = source_.Get(budget_);
    if (board_) board_->Publish(snap);
    // The tier map is one small directory; a kernel without tiers leaves it empty.
    auto tiers = procfs::ReadMemoryTiers(root_);
    node_tier_ = tiers ? procfs::NodeTiers(*tiers) : std::map<int, int>{};
    out.Add(kUp, {}, snap.up ? 1 : 0);
    out.Add(kConnErrors, {}, static_cast<double>(snap.connection_errors));
    out.Add(kTimeouts, {}, static_cast<double>(snap.timeouts));
    for (const auto& [file, n] : snap.proc_read_denied) out.Add(kProcDenied, {file}, static_cast<double>(n));
    out.Add(kDomains, {}, static_cast<double>(snap.domains.size()));
    for (const auto& f : snap.free_pages) {
      out.Add(kFreePages, {std::to_string(f.node), std::to_string(f.page_bytes)}, static_cast<double>(f.free_pages));
    }
    for (const auto& d : snap.domains) Domain(out, d, snap.as_of);
    AddDomainCgroups(out, snap.domains, cgroup_logged_);
  }

  std::vector<const FamilyDesc*> Families() const override { return served_; }

 private:
  static std::vector<const FamilyDesc*> Declared() {
    std::vector<const FamilyDesc*> all(std::begin(kAll), std::end(kAll));
    for (const FamilyDesc* f : DomainCgroupFamilies()) all.push_back(f);
    return all;
  }

  void Domain(MetricSink& out, const virt::DomainSample& d, std::chrono::system_clock::time_point as_of) {
    const std::string& n = d.name;
    const std::string& u = d.uuid;
    out.Add(kBalloonCurrent, {n, u}, d.balloon_current_bytes);
    out.Add(kBalloonMaximum, {n, u}, d.balloon_maximum_bytes);
    const virt::MemoryStats& s = d.stats;
    out.Add(kAvailable, {n, u}, s.available_bytes);
    out.Add(kUsable, {n, u}, s.usable_bytes);
    out.Add(kUnused, {n, u}, s.unused_bytes);
    out.Add(kDiskCaches, {n, u}, s.disk_caches_bytes);
    out.Add(kRss, {n, u}, s.rss_bytes);
    out.Add(kSwapIn, {n, u}, s.swap_in_bytes);
    out.Add(kSwapOut, {n, u}, s.swap_out_bytes);
    out.Add(kMajor, {n, u}, s.major_faults);
    out.Add(kMinor, {n, u}, s.minor_faults);
    out.Add(kHugeAlloc, {n, u}, s.hugetlb_pgalloc);
    out.Add(kHugeFail, {n, u}, s.hugetlb_pgfail);
    out.Add(kLastUpdate, {n, u}, s.last_update);
    std::string_view state = virt::GuestStatsState(d, as_of);
    for (const char* st : virt::kGuestStatsStates) out.Add(kStatsState, {n, u, st}, state == st ? 1 : 0);
    double age = std::chrono::duration<double>(as_of - d.sampled_at).count();
    out.Add(kAge, {n, u}, age > 0 ? age : 0);
    if (d.xml_known) Xml(out, d);
    const virt::Placement& p = d.placement;
    for (auto [node, bytes] : p.resident_bytes)
      out.Add(kNumaBytes, {n, u, std::to_string(node)}, static_cast<double>(bytes));
    for (auto [node, count] : p.vcpus_per_node)
      out.Add(kVcpus, {n, u, std::to_string(node)}, static_cast<double>(count));
    out.Add(kLocality, {n, u}, p.LocalityRatio());
    out.Add(kKsmMerging, {n, u}, p.ksm_merging_pages);
    out.Add(kKsmProfit, {n, u}, p.ksm_profit_bytes);
    out.Add(kThpAnon, {n, u}, p.thp_anon_bytes);
    std::map<int, uint64_t> per_tier;
    for (auto [node, bytes] : p.resident_bytes) {
      if (auto it = node_tier_.find(node); it != node_tier_.end()) per_tier[it->second] += bytes;
    }
    for (auto [tier, bytes] : per_tier) out.Add(kTierBytes, {n, u, std::to_string(tier)}, static_cast<double>(bytes));
    if (d.xml_known && virt::FreePageReportingEligible(d.xml))
      out.Add(kFprMissing, {n, u}, d.xml.free_page_reporting ? 0 : 1);
  }

  void Xml(MetricSink& out, const virt::DomainSample& d) {
    const virt::DomainXml& x = d.xml;
    std::string sizes;
    for (uint64_t b : x.hugepage_sizes_bytes) sizes += (sizes.empty() ? "" : ",") + std::to_string(b);
    // <hugepages/> without <page> uses the host's default hugepage size.
    if (x.hugepages && sizes.empty() && host_hugepage_bytes_) sizes = std::to_string(*host_hugepage_bytes_);
    out.Add(kInfo,
            {d.name, d.uuid, Bool(x.hugepages), sizes, x.numatune_mode.empty() ? "none" : x.numatune_mode,
             x.numatune_nodeset, Bool(x.vcpupin || !x.vcpu_cpuset.empty()),
             x.balloon_model.empty() ? "none" : x.balloon_model, std::to_string(x.balloon_stats_period.value_or(0)),
             Bool(x.autodeflate), Bool(x.free_page_reporting)},
            1);
    out.Add(kMinGuarantee, {d.name, d.uuid}, x.min_guarantee_bytes);
    for (const auto& v : x.virtio_mem) {
      std::string node = std::to_string(v.node);
      out.Add(kVmemSize, {d.name, d.uuid, v.alias, node}, static_cast<double>(v.size_bytes));
      out.Add(kVmemRequested, {d.name, d.uuid, v.alias, node}, static_cast<double>(v.requested_bytes));
      out.Add(kVmemCurrent, {d.name, d.uuid, v.alias, node}, v.current_bytes);
      out.Add(kVmemBlock, {d.name, d.uuid, v.alias, node}, static_cast<double>(v.block_bytes));
    }
  }

  procfs::Root root_;
  virt::LibvirtSource source_;
  std::chrono::milliseconds budget_;
  std::optional<uint64_t> host_hugepage_bytes_;
  std::shared_ptr<checks::DomainBoard> board_;
  std::map<int, int> node_tier_;
  std::set<std::string> cgroup_logged_;
  std::vector<const FamilyDesc*> served_, omitted_;
};

}  // namespace

std::unique_ptr<Collector> MakeLibvirtCollector(const CollectorContext& ctx) {
  virt::SourceOptions options;
  options.uri = ctx.libvirt_uri;
  options.root = ctx.root;
  std::optional<uint64_t> huge;
  if (auto mi = procfs::ReadMeminfo(ctx.root)) huge = mi->Get("Hugepagesize");
  return std::make_unique<LibvirtCollector>(std::move(options), ctx.libvirt_timeout, huge, ctx.domains, ctx.vm_detail);
}

std::optional<VmDetail> ParseVmDetail(std::string_view text) {
  if (text == "full") return VmDetail::kFull;
  if (text == "fleet") return VmDetail::kFleet;
  return std::nullopt;
}

}  // namespace kvmem::collectors
