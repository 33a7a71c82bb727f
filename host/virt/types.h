// Owned value types that carry what libvirt and /proc say about domains out of kvmem::virt.
// No libvirt type appears here. Plain values: thread-safe to copy and read; throw only
// std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kvmem::virt {

// The balloon driver's view (virDomainMemoryStats / the bulk "balloon." group), converted
// to bytes. Guest fields are absent when the guest has no balloon driver or stats are off.
struct MemoryStats {
  std::optional<uint64_t> actual_bytes;     // balloon size the guest holds now
  std::optional<uint64_t> available_bytes;  // guest MemTotal
  std::optional<uint64_t> usable_bytes;     // guest MemAvailable
  std::optional<uint64_t> unused_bytes;     // guest MemFree
  std::optional<uint64_t> disk_caches_bytes;
  std::optional<uint64_t> rss_bytes;        // QEMU process RSS on the host
  std::optional<uint64_t> swap_in_bytes;    // cumulative
  std::optional<uint64_t> swap_out_bytes;   // cumulative
  std::optional<uint64_t> major_faults;     // cumulative
  std::optional<uint64_t> minor_faults;     // cumulative
  std::optional<uint64_t> hugetlb_pgalloc;  // cumulative
  std::optional<uint64_t> hugetlb_pgfail;   // cumulative
  std::optional<int64_t> last_update;       // seconds since the epoch of the guest's last report

  bool HasGuestStats() const {
    return available_bytes || usable_bytes || unused_bytes || disk_caches_bytes || major_faults || minor_faults ||
           swap_in_bytes || swap_out_bytes || last_update;
  }
  bool operator==(const MemoryStats&) const = default;
};

struct VirtioMem {
  std::string alias;  // "virtiomem0"; "virtio-mem<index>" when the XML carries no alias
  int node = 0;       // guest NUMA node
  uint64_t size_bytes = 0, block_bytes = 0, requested_bytes = 0;
  std::optional<uint64_t> current_bytes;  // live XML only
  bool operator==(const VirtioMem&) const = default;
};

// A guest NUMA cell, <cpu><numa><cell id memory unit>.
struct GuestCell {
  int id = 0;
  uint64_t memory_bytes = 0;
  bool operator==(const GuestCell&) const = default;
};

// <numatune><memnode cellid mode nodeset>: where one guest cell's memory goes on the host.
struct MemNode {
  int cellid = 0;
  std::string mode;     // strict|preferred|interleave|restrictive; libvirt's default "strict"
  std::string nodeset;  // host nodes, libvirt syntax ("0-1,^1")
  bool operator==(const MemNode&) const = default;
};

// One <memoryBacking><hugepages><page size unit nodeset>.
struct HugepagePage {
  uint64_t size_bytes = 0;
  std::string nodeset;  // guest cells it backs; "" = every cell no other <page> names
  bool operator==(const HugepagePage&) const = default;
};

// The namespace of the live metadata element kvmem_controller leaves on a domain whose vCPUs
// it pinned (libvirt keys it by this URI; the prefix is only for the XML it shows).
inline constexpr const char* kKvmemPlacementNs = "https://kvmem.dev/xmlns/placement/1";
inline constexpr const char* kKvmemPlacementPrefix = "kvmem";
// <metadata><memory xmlns=kKvmemMemoryNs priority="N"/>: the administrator's priority for the
// VM's memory, -1000 to 1000 (model::VmObservation::priority).
inline constexpr const char* kKvmemMemoryNs = "https://kvmem.dev/xmlns/memory/1";

// Facts from the domain XML. Sizes in bytes. Autostart is not in the XML.
struct DomainXml {
  std::optional<uint64_t> memory_bytes;          // <memory>: maximum balloon size
  std::optional<uint64_t> current_memory_bytes;  // <currentMemory>
  std::optional<uint64_t> max_memory_bytes;      // <maxMemory>: hotplug ceiling
  std::optional<uint64_t> max_memory_slots;
  std::optional<uint64_t> vcpus_max;             // <vcpu>: vCPUs the domain may have
  bool hugepages = false;                        // <memoryBacking><hugepages>
  std::vector<uint64_t> hugepage_sizes_bytes;    // explicit <page size>, ascending, unique
  bool nosharepages = false;                     // <memoryBacking><nosharepages/>: never offered to KSM
  std::string numatune_mode;                     // strict|preferred|interleave|restrictive; "" none
  std::string numatune_nodeset;                  // "" with placement='auto' or no numatune
  std::string balloon_model;                     // virtio, virtio-transitional, ...; "" none
  std::optional<uint64_t> balloon_stats_period;  // seconds; absent = not set (0: off)
  bool autodeflate = false;
  bool free_page_reporting = false;
  // A <hostdev>, or an <interface type='hostdev'>: VFIO pins all guest memory, so free page
  // reporting cannot give any back.
  bool device_assignment = false;
  std::optional<uint64_t> min_guarantee_bytes;  // <memtune><min_guarantee>
  std::vector<VirtioMem> virtio_mem;
  // For hugepage demand and placement.
  std::vector<GuestCell> numa_cells;         // <cpu><numa><cell>, in XML order
  std::vector<MemNode> memnodes;             // <numatune><memnode>, in XML order
  std::string numatune_placement;            // <numatune><memory placement>: static|auto; "" unset
  std::vector<HugepagePage> hugepage_pages;  // every <page>, in XML order (sizes also above)
  bool vcpupin = false;                      // <cputune> has a <vcpupin>
  bool emulatorpin = false;                  // <cputune> has an <emulatorpin>
  std::string vcpu_cpuset;                   // <vcpu cpuset>: a static pin of every vCPU; "" none
  // <metadata><placement xmlns=kKvmemPlacementNs vcpus-node="N"/>: kvmem_controller pinned the
  // vCPUs to node N itself (live only), so the <vcpupin>s above are not the administrator's.
  std::optional<int> kvmem_pinned_node;
  std::optional<int> kvmem_priority;
  bool operator==(const DomainXml&) const = default;
};

struct NodeFreePages {
  int node = 0;
  uint64_t page_bytes = 0;
  uint64_t free_pages = 0;
  bool operator==(const NodeFreePages&) const = default;
};

// Where a domain's memory and vCPUs are on the host, from /proc and sysfs.
struct Placement {
  std::optional<int> qemu_pid;
  std::map<int, uint64_t> vcpus_per_node;     // host node -> vCPUs running there now
  std::map<int, uint64_t> resident_bytes;     // host node -> bytes of the VM there
  std::string residency_source;               // "cgroup", "numa_maps" or "" (unknown)
  std::optional<uint64_t> ksm_merging_pages;  // /proc/PID/ksm_stat
  std::optional<int64_t> ksm_profit_bytes;
  std::optional<uint64_t> thp_anon_bytes;  // /proc/PID/smaps_rollup AnonHugePages
  // Share of resident bytes on nodes that run at least one vCPU; absent without both.
  std::optional<double> LocalityRatio() const;
};

struct DomainSample {
  std::string name;
  std::string uuid;
  int id = -1;
  std::optional<uint64_t> balloon_current_bytes;
  std::optional<uint64_t> balloon_maximum_bytes;
  MemoryStats stats;
  DomainXml xml;
  bool xml_known = false;
  // false: defined (persistent) but shut off, listed only with SourceOptions::include_inactive;
  // id is then -1, and it has no stats and no placement.
  bool active = true;
  bool autostart = false;  // shut-off domains only (AUTOSTART listing filter); false for active ones
  Placement placement;
  // Wall-clock time of this domain's last good sample; older than the snapshot when a
  // refresh timed out or this domain's calls failed and its previous values were kept.
  std::chrono::system_clock::time_point sampled_at;
};

// The guest-stats verdict published as kvmem_domain_guest_stats_state:
//   "disabled" the balloon's stats period is 0 or unset, so the guest never reports;
//   "missing"  no balloon device, or the guest returned no stats (no driver loaded);
//   "stale"    last_update is older than 3 stats periods (at least 10 s) before `now`;
//   "ok"       otherwise.
// A domain whose XML is unknown is judged from its stats alone.
const char* GuestStatsState(const DomainSample& d, std::chrono::system_clock::time_point now);
// Could free page reporting return this VM's freed memory to the host? A virtio balloon, memory
// not backed by hugetlb (reports are in base pages of the backing) and no device assignment.
bool FreePageReportingEligible(const DomainXml& x);

inline constexpr const char* kGuestStatsStates[] = {"ok", "stale", "missing", "disabled"};

// What a scrape publishes. Domains are sorted by name, then uuid.
struct Snapshot {
  bool up = false;
  uint64_t connection_errors = 0;
  std::map<std::string, uint64_t> proc_read_denied;  // by file name: numa_maps, ksm_stat
  uint64_t timeouts = 0;
  // The instant the values describe: the finish of the refresh this scrape waited for, or
  // the scrape's own time when it had to fall back to the cache. Age = as_of - sampled_at.
  std::chrono::system_clock::time_point as_of;
  std::vector<DomainSample> domains;
  std::vector<NodeFreePages> free_pages;
};

}  // namespace kvmem::virt
