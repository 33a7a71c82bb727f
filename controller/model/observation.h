// Observation: one snapshot of the host's NUMA nodes and its VMs, as the decision code sees it.
// Plain value types filled by controller/observe (or the simulator); sizes are bytes, ratios
// are 0..1, counters are cumulative. Thread-safe as values. Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/model/time.h"

namespace kvmem::model {

// One hugepage pool: the pages of one size on one node (nodeN/hugepages/hugepages-<kB>kB).
struct HugepagePool {
  uint64_t page_bytes = 0;
  uint64_t total_pages = 0;    // nr_hugepages: what the pool holds now
  uint64_t free_pages = 0;     // free_hugepages: includes pages reserved by a mapping but not yet faulted in
  uint64_t surplus_pages = 0;  // surplus_hugepages: overcommitted pages, freed when released
  uint64_t UsedPages() const { return total_pages > free_pages ? total_pages - free_pages : 0; }
  bool operator==(const HugepagePool&) const = default;
};

struct NodeObservation {
  int id = 0;
  bool has_memory = true;    // false for CPU-only nodes: never a target of anything
  uint64_t total_bytes = 0;  // nodeN/meminfo MemTotal
  // Hugepage-aware, as kvmem_node_memory_available_bytes: free + reclaimable, minus
  // hugepages reserved in pools. The balloon bands compare against this.
  uint64_t available_bytes = 0;
  uint64_t free_bytes = 0;  // MemFree; bounds virtio-mem growth on this node
  // Kernel fragmentation index for the THP order (0..1; -1 when a huge page is free).
  // Missing when buddyinfo could not be read: then no compaction decision uses it.
  std::optional<double> fragmentation_index;
  std::optional<double> unusable_ratio;  // kernel unusable free space index, THP order
  bool has_cpus = true;                  // false for memory-only nodes: never a vCPU target
  std::vector<HugepagePool> hugepages;   // one per page size the kernel supports, ascending

  const HugepagePool* FindPool(uint64_t page_bytes) const;
  uint64_t HugepageBytes() const;  // all pools, every size: memory outside the normal allocator
};

// Hugepages a VM's memory backing asks for, on one host node. node < 0 means the domain XML
// does not pin that memory to a node: the kernel takes it wherever the QEMU thread runs.
struct HugepageDemand {
  int node = -1;
  uint64_t page_bytes = 0;
  uint64_t bytes = 0;  // a multiple of page_bytes
  bool operator==(const HugepageDemand&) const = default;
};

struct VirtioMemDevice {
  std::string alias;             // libvirt device alias, the actuator's handle
  int node = 0;                  // host node backing the device (<target><node>)
  uint64_t size_bytes = 0;       // maximum pluggable size
  uint64_t block_bytes = 0;      // block size: every requested size is a multiple of it
  uint64_t requested_bytes = 0;  // what we (or someone) asked for
  uint64_t current_bytes = 0;    // what the guest has plugged; != requested while settling
};

// A VM's memory cgroup (the one its QEMU process is in, from /proc/PID/cgroup). Counters are
// cumulative; everything the kernel does not show (cgroup v1, no zswap) stays unset.
struct VmCgroup {
  std::string path;                              // the cgroup's directory, absolute: /sys/fs/cgroup/machine.slice/...
  int version = 2;                               // 1 or 2; memory.reclaim exists only on 2
  std::optional<uint64_t> current_bytes;         // memory.current (v1: memory.usage_in_bytes)
  std::optional<uint64_t> anon_bytes;            // memory.stat anon (v1: rss)
  std::optional<uint64_t> file_bytes;            // memory.stat file (v1: cache)
  std::optional<uint64_t> swap_bytes;            // memory.swap.current (v1: swap)
  std::optional<uint64_t> zswap_bytes;           // memory.stat zswap: compressed size in zswap
  std::optional<uint64_t> zswapped_bytes;        // memory.stat zswapped: what it holds, uncompressed
  std::optional<double> psi_some_seconds_total;  // memory.pressure "some" total
  std::optional<double> psi_full_seconds_total;  // memory.pressure "full" total
  // Pages brought back from swap or zswap: zswpin + pswpin where memory.stat has them, else
  // workingset_refault_anon. The offload guard's refault rate.
  std::optional<uint64_t> refault_pages_total;
  uint64_t page_bytes = 4096;  // the unit of refault_pages_total

  // anon + file: the VM's resident memory as its cgroup counts it; 0 when unknown.
  uint64_t ResidentBytes() const { return anon_bytes.value_or(0) + file_bytes.value_or(0); }
};

struct VmObservation {
  std::string name;
  std::string uuid;      // identity: names can be reused, UUIDs are not
  bool running = false;  // active and not paused; anything else is never acted on
  // Guest memory as the balloon driver reports it (QEMU's "actual"), which includes
  // plugged virtio-mem memory; and the maximum the balloon can give back.
  uint64_t balloon_current_bytes = 0;
  uint64_t balloon_maximum_bytes = 0;
  // Guest-reported statistics (virtio balloon stats). Missing when the guest has no driver
  // or the stats period is 0. available = guest MemTotal, usable = MemAvailable-like,
  // unused = MemFree.
  std::optional<uint64_t> guest_available_bytes;
  std::optional<uint64_t> guest_usable_bytes;
  std::optional<uint64_t> guest_unused_bytes;
  // When the guest last updated those statistics, on the observation's clock.
  // Unknown time counts as stale: the controller never shrinks on data of unknown age.
  std::optional<TimePoint> guest_stats_time;
  std::optional<uint64_t> swap_in_bytes_total;  // guest counters, for pressure rates
  std::optional<uint64_t> major_faults_total;
  std::optional<uint64_t> min_guarantee_bytes;  // libvirt <min_guarantee>, a floor
  // Bytes of the VM on each host node (numa_maps). Empty = unknown: the VM is then
  // counted as spread evenly over the nodes that have memory.
  std::map<int, uint64_t> memory_per_node;
  std::vector<VirtioMemDevice> virtio_mem;
  // Defined but shut off and set to start with the host: its hugepage demand is future demand
  // that the pool manager reserves ahead. Only meaningful when !running.
  bool stopped = false;
  bool autostart = false;
  std::vector<HugepageDemand> hugepage_demand;  // empty unless <memoryBacking><hugepages>
  // Host node -> vCPUs running there now; empty = unknown.
  std::map<int, uint64_t> vcpus_per_node;
  std::optional<int> qemu_pid;  // for page migration; unknown on the test driver
  // The domain XML fixes placement (<cputune><vcpupin> or a strict <numatune>): the
  // placement rules leave it to the administrator.
  bool placement_fixed = false;
  // Who gives first and gets first under the same shortage: higher gives last and gets
  // first. From <metadata><memory xmlns="https://kvmem.dev/xmlns/memory/1" priority="N"/>;
  // 0 (every VM alike) without it.
  int priority = 0;
  // <memoryBacking><nosharepages/>: QEMU never offers the VM's memory to KSM.
  bool nosharepages = false;
  // Unset when the QEMU process or its cgroup is unknown (the test driver, a VM just stopped).
  std::optional<VmCgroup> cgroup;

  bool HugepageBacked() const { return !hugepage_demand.empty(); }
  // Memory the guest has plugged through its virtio-mem devices.
  uint64_t VirtioMemPluggedBytes() const {
    uint64_t sum = 0;
    for (const auto& d : virtio_mem) sum += d.current_bytes;
    return sum;
  }
  // Share of memory_per_node on nodes in vcpus_per_node; nullopt without both.
  std::optional<double> LocalityRatio() const;
};

// KSM as /sys/kernel/mm/ksm and ksmd's /proc/PID/stat show it; host-wide.
struct KsmObservation {
  int run = 0;  // 0 stopped, 1 merging, 2 unmerging
  uint64_t pages_to_scan = 0;
  uint64_t sleep_millisecs = 0;
  bool merge_across_nodes = true;
  uint64_t pages_shared = 0;   // distinct merged pages in use
  uint64_t pages_sharing = 0;  // pages mapped onto them: about what merging saves
  uint64_t full_scans = 0;
  std::optional<int64_t> general_profit_bytes;   // kernel >= 6.4: saved minus KSM's own metadata
  std::optional<double> ksmd_cpu_seconds_total;  // ksmd's utime + stime; unset when ksmd is not found
  uint64_t page_bytes = 4096;

  // What merging saves now: general_profit where the kernel has it, else pages_sharing pages.
  int64_t SavedBytes() const {
    return general_profit_bytes ? *general_profit_bytes : static_cast<int64_t>(pages_sharing * page_bytes);
  }
};

// Host swap as the offload lever sees it.
struct SwapObservation {
  uint64_t total_bytes = 0;    // /proc/meminfo SwapTotal
  uint64_t free_bytes = 0;     // SwapFree
  bool zswap_enabled = false;  // /sys/module/zswap/parameters/enabled
  // Every active swap device is a zram device (/proc/swaps): swap is compressed memory.
  bool zram_only = false;
  // Offloaded memory stays in RAM, compressed, rather than going to disk.
  bool Compressed() const { return zswap_enabled || (zram_only && total_bytes > 0); }
};

struct Observation {
  TimePoint time{};
  std::vector<NodeObservation> nodes;
  std::vector<VmObservation> vms;
  // Host-wide signals: the kernel has no per-node PSI or THP counters, so they gate and
  // trigger every node alike.
  std::optional<double> psi_some_avg10;              // /proc/pressure/memory, as a ratio 0..1
  std::optional<uint64_t> thp_fault_fallback_total;  // /proc/vmstat thp_fault_fallback
  // Pages of each size reserved by mappings but not yet faulted in, host-wide
  // (/sys/kernel/mm/hugepages/hugepages-<kB>kB/resv_hugepages); the kernel does not say on
  // which node, so the pool manager never releases free pages that could be these.
  std::map<uint64_t, uint64_t> hugepages_reserved_pages;  // page_bytes -> pages
  uint64_t default_hugepage_bytes = 0;                    // /proc/meminfo Hugepagesize; 0 unknown
  std::optional<KsmObservation> ksm;                      // unset without /sys/kernel/mm/ksm
  std::optional<SwapObservation> swap;                    // unset when /proc/meminfo could not be read
  int cpus = 0;                                           // online CPUs; 0 unknown

  const NodeObservation* FindNode(int id) const;
  const VmObservation* FindVm(std::string_view uuid) const;
};

// Age of the guest statistics at `now`; nullopt when they or their time are missing.
// A stamp from the future (clock skew) counts as age 0.
std::optional<Duration> StatsAge(const VmObservation& vm, TimePoint now);

// Share of the VM's memory on `node` (0..1), from memory_per_node or, when that is empty or
// all zero, an even split over the observation's nodes with memory.
double NodeShare(const VmObservation& vm, int node, const Observation& obs);

// One line each, for logs and test failure messages.
std::string ToString(const NodeObservation& node);
std::string ToString(const VirtioMemDevice& dev);
std::string ToString(const VmObservation& vm);
// Multi-line: a header line, then one line per node and per VM.
std::string ToString(const Observation& obs);

}  // namespace kvmem::model
