// What the decision code returns: actions with the reason that triggered them, skips that
// explain every "no", and the outcome an actuator reports back.
// Thread-safe as values. Throws only std::bad_alloc.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "controller/model/time.h"

namespace kvmem::model {

// The rule names used in Reason::rule and Skip::rule; bounded, so fit for a metric label.
inline constexpr std::array<std::string_view, 18> kRules = {"balloon.reclaim",
                                                            "balloon.release",
                                                            "balloon.rebalance",
                                                            "virtio_mem.grow",
                                                            "virtio_mem.shrink",
                                                            "virtio_mem.settle",
                                                            "compaction.fragmentation",
                                                            "compaction.thp_fallback",
                                                            "hugepages.grow",
                                                            "hugepages.reclaim",
                                                            "placement.vcpus",
                                                            "placement.memory",
                                                            "ksm.merge",
                                                            "ksm.slow",
                                                            "ksm.stop",
                                                            "offload.proactive",
                                                            "offload.ladder",
                                                            "limits"};

// Why an action was proposed: the rule, the policy threshold it crossed and the values seen.
// The reclaim ladder of a node, in the order the levers are used when it runs short of memory
// (docs/controller.md "The reclaim ladder"): each stage adds a lever to the ones before it.
enum class Stage {
  kCalm = 0,     // nothing short: only proactive, guarded levers (KSM that pays, gentle offload)
  kKsm = 1,      // below ksm.merge_below: KSM scans harder
  kBalloon = 2,  // below balloon.reclaim_below: memory moves from idle VMs (balloon)
  kOffload = 3,  // still short and no balloon can give more: compressed offload harder
  kSwap = 4,     // as kOffload, onto disk swap; only with offload.allow_disk_swap
};
std::string_view StageName(Stage stage);  // "calm", "ksm", "balloon", "offload", "swap"

struct Reason {
  Reason() = default;
  Reason(std::string rule_, std::string threshold_, double threshold_value_,
         std::vector<std::pair<std::string, double>> observed_, std::string text_,
         std::optional<Stage> stage_ = std::nullopt)
      : rule(std::move(rule_)),
        threshold(std::move(threshold_)),
        threshold_value(threshold_value_),
        observed(std::move(observed_)),
        text(std::move(text_)),
        stage(stage_) {}

  std::string rule;            // one of kRules, e.g. "balloon.reclaim"
  std::string threshold;       // policy key, e.g. "balloon.reclaim_below"
  double threshold_value = 0;  // resolved value in base units (bytes, ratio, per second)
  // Observed inputs in base units, for structured logs: {"available_bytes", 3.3e9}, ...
  std::vector<std::pair<std::string, double>> observed;
  // The sentence for people: "node 1 available 3.1 GiB < reclaim_below 6.4 GiB (10%); ...".
  std::string text;
  // The ladder stage of the node (the worst of the VM's nodes) the action was taken in, for
  // the ladder's levers (KSM, balloon, offload); unset for the others.
  std::optional<Stage> stage;

  std::string ToString() const { return rule + ": " + text; }
};

struct VmRef {
  std::string uuid;
  std::string name;
};

// Set the balloon target (virDomainSetMemoryFlags, live) from the observed size to `to`.
// Sizes include plugged virtio-mem memory, as balloon.current does; libvirt sets the balloon
// over base RAM only, so the actuator subtracts `plugged_bytes`, as observed when decided.
struct SetBalloon {
  VmRef vm;
  uint64_t from_bytes = 0;
  uint64_t to_bytes = 0;
  Reason reason;
  uint64_t plugged_bytes = 0;
};

// Set a virtio-mem device's <requested> size; always a multiple of the device block.
struct ResizeVirtioMem {
  VmRef vm;
  std::string alias;
  int node = 0;  // host node backing the device
  uint64_t from_requested_bytes = 0;
  uint64_t to_requested_bytes = 0;
  Reason reason;
};

// Write 1 to /sys/devices/system/node/nodeN/compact.
struct CompactNode {
  int node = 0;
  std::optional<double> fragmentation_index;  // as observed when decided
  Reason reason;
};

// Set one node's pool of one page size to `to_pages` (nodeN/hugepages/.../nr_hugepages, or
// virNodeAllocPages). The kernel may obtain fewer pages than asked: the actuator reads back.
struct ResizeHugepagePool {
  int node = 0;
  uint64_t page_bytes = 0;
  uint64_t from_pages = 0;
  uint64_t to_pages = 0;
  Reason reason;
};

// Pin every vCPU of the VM to the CPUs of `to_node` (virDomainPinVcpuFlags, live), where most
// of its memory already is: no memory is copied.
struct PinVcpus {
  VmRef vm;
  int to_node = 0;
  double locality_before = 0;  // as observed when decided
  Reason reason;
};

// Migrate the VM's pages from the other nodes to `to_node`, where its vCPUs run
// (migrate_pages(2) through libnuma on the QEMU process). Hugetlb-backed VMs are never
// chosen: their pages do not move this way.
struct MigrateMemory {
  VmRef vm;
  int pid = 0;  // the QEMU process
  int to_node = 0;
  uint64_t bytes = 0;          // resident bytes on other nodes: what the move copies
  double locality_before = 0;  // as observed when decided
  Reason reason;
};

// KSM's host-wide knobs (/sys/kernel/mm/ksm): run (0 stop, 1 merge; 2, unmerge all, is never
// chosen), pages_to_scan and sleep_millisecs. merge_across_nodes is never written.
struct KsmSettings {
  int run = 0;
  uint64_t pages_to_scan = 0;
  uint64_t sleep_millisecs = 0;
  bool operator==(const KsmSettings&) const = default;
};

struct SetKsm {
  KsmSettings from;  // as observed when decided
  KsmSettings to;
  Reason reason;
};

// Write `bytes` to the VM's cgroup v2 memory.reclaim: the kernel pushes that much of the VM's
// memory out to (compressed) swap. The kernel may reclaim less; the actuator reports it.
struct ReclaimVmMemory {
  VmRef vm;
  std::string cgroup;  // the VM's cgroup directory, absolute
  uint64_t bytes = 0;
  Reason reason;
};

using Action = std::variant<SetBalloon, ResizeVirtioMem, CompactNode, ResizeHugepagePool, PinVcpus, MigrateMemory,
                            SetKsm, ReclaimVmMemory>;

// A decision not to act, with the reason: "dead band", "cooldown 4 s left", "stats 31 s old".
struct Skip {
  std::string subject;  // "node 1", "vm web-1", "vm web-1 virtio-mem vmem0"
  std::string rule;     // one of kRules
  std::string reason;

  std::string ToString() const { return subject + ": " + rule + ": " + reason; }
};

// Where a node's available memory sits relative to the two balloon thresholds.
enum class Band { kSteady, kReclaim, kRelease };
std::string_view BandName(Band band);  // "steady", "reclaim", "release"

// One hugepage pool as the pool manager judged it this cycle, for the target and shortfall gauges.
struct PoolTarget {
  int node = 0;
  uint64_t page_bytes = 0;
  uint64_t demand_pages = 0;     // autostart VMs not running yet, pinned to this node
  uint64_t target_pages = 0;     // the pool size the manager wants
  uint64_t total_pages = 0;      // the pool size now
  uint64_t shortfall_pages = 0;  // free pages missing for demand + headroom
  bool operator==(const PoolTarget&) const = default;
};

struct Plan {
  std::vector<Action> actions;  // in priority order; the loop applies them in this order
  std::vector<Skip> skips;
  std::map<int, Band> bands;      // per node, for the per-node state metric
  std::map<int, Stage> stages;    // per node: the reclaim ladder's stage this cycle
  std::vector<PoolTarget> pools;  // every pool with demand, headroom or pages, by node then size
  // The limits this cycle ran under, as scaled to the host (model::LimitsPolicy).
  int actions_per_cycle = 0;
  uint64_t bytes_per_minute = 0;
};

// What an actuator reports after applying one action.
struct Outcome {
  bool ok = true;
  std::string error;  // empty when ok
  Duration duration{0};
  bool dry_run = false;  // recorded, not applied
  // Compaction only: the node's fragmentation index before and after, when measured.
  std::optional<double> index_before;
  std::optional<double> index_after;
  // Hugepage pools only: the pool size read back after the write (may be below the target).
  std::optional<uint64_t> pages_obtained;
  // Placement only: the VM's locality ratio measured after the move, and bytes migrated.
  std::optional<double> locality_after;
  std::optional<uint64_t> bytes_migrated;
  // Offload only: bytes the kernel reclaimed from the cgroup (memory.current before - after).
  std::optional<uint64_t> bytes_reclaimed;
  // What wrote, where an actuator has more than one way: "libvirt" or "sysfs" for hugepage
  // pools; empty otherwise. The loop counts writes by it.
  std::string method;
};

const Reason& ReasonOf(const Action& action);
// The actuator label for metrics: "balloon", "virtio_mem", "compaction", "hugepages",
// "placement", "ksm" or "offload".
std::string_view ActuatorOf(const Action& action);
// Bytes the action moves between host and guest (what max_bytes_per_minute counts); 0 for
// compaction, hugepage pools and placement, which have their own rate limits.
uint64_t BytesMoved(const Action& action);
// -1 when the action takes memory from a VM, +1 when it gives, 0 for compaction.
int Direction(const Action& action);

// "balloon web-1: 4 GiB -> 3.5 GiB", "virtio-mem web-1/vmem0: requested 1 GiB -> 1.25 GiB",
// "compact node 1", "hugepages node 1 2 MiB: 512 -> 1024 pages", "pin vcpus web-1 to node 1",
// "migrate memory web-1 to node 0 (1.5 GiB)", "ksm: run 0 -> 1, pages_to_scan 100 -> 400,
// sleep 20 ms", "offload web-1: reclaim 64 MiB": the what, without the why.
std::string Summary(const Action& action);
// Summary plus " (" reason ")".
std::string ToString(const Action& action);
std::string ToString(const Outcome& outcome);
// Multi-line: the bands, then one line per action and per skip.
std::string ToString(const Plan& plan);

}  // namespace kvmem::model
