// Policy: every threshold the controller acts on, with its documented default.
// It lives in the model (not in config) so that the decision code can use it without
// linking yaml-cpp; controller/config loads and renders it. docs/policy.md explains each key.
// Thread-safe as a value. Throws nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/model/time.h"
#include "controller/model/units.h"

namespace kvmem::model {

// A size given either in bytes or as a percentage of the node's total memory ("10%").
struct NodeSize {
  uint64_t bytes = 0;
  std::optional<double> percent;  // when set, wins over bytes; 0 < percent < 100

  static NodeSize Percent(double p) { return NodeSize{0, p}; }
  static NodeSize Bytes(uint64_t b) { return NodeSize{b, std::nullopt}; }
  uint64_t Resolve(uint64_t node_total) const {
    return percent ? ToBytes(AsDouble(node_total) * *percent / 100.0) : bytes;
  }
  bool operator==(const NodeSize&) const = default;
};

struct BalloonPressurePolicy {
  double usable_below_ratio = 0.10;                 // guest usable < this share of its current size
  double swap_in_rate_above = 1.0 * kMiB;           // guest swap-in, bytes per second
  double major_fault_rate_above = 100;              // guest major faults per second
  Duration rate_window = std::chrono::seconds{10};  // how far back the rates look
  bool operator==(const BalloonPressurePolicy&) const = default;
};

struct BalloonPolicy {
  bool enabled = true;
  NodeSize reclaim_below = NodeSize::Percent(10);  // node available below: take from VMs
  NodeSize release_above = NodeSize::Percent(20);  // node available above: give to VMs
  uint64_t max_step = 512 * kMiB;                  // per VM per cycle
  uint64_t min_step = 16 * kMiB;                   // smaller changes are not worth a libvirt call
  uint64_t min_guest = 512 * kMiB;                 // absolute floor of every VM
  double min_free_ratio = 0.15;                    // floor keeps this share free: used / (1 - ratio)
  Duration cooldown = std::chrono::seconds{10};    // per VM, between two balloon changes
  // How far back a node's available memory is fit to a line to see where it is heading: a node
  // that will cross reclaim_below sooner than the controller can react is reclaimed now.
  // 0: no anticipation.
  Duration trend_window = std::chrono::seconds{60};
  BalloonPressurePolicy pressure;
  bool operator==(const BalloonPolicy&) const = default;
};

struct VirtioMemPolicy {
  bool enabled = true;
  int sustain = 3;                                     // cycles of pressure at balloon maximum before growing
  uint64_t step = 256 * kMiB;                          // per change, rounded down to the block (at least one)
  double shrink_unused_above_ratio = 0.5;              // guest unused / guest available
  Duration shrink_after = std::chrono::seconds{300};   // ... held this long before shrinking
  Duration settle_timeout = std::chrono::seconds{30};  // a change not plugged by then is counted and overridable
  bool operator==(const VirtioMemPolicy&) const = default;
};

struct CompactionPolicy {
  bool enabled = true;
  double compact_above = 0.5;                         // fragmentation index for the THP order
  double thp_fallback_rate_above = 10;                // THP fault fallbacks per second, host-wide
  Duration sustain_for = std::chrono::seconds{60};    // YAML key "for": how long the index must stay high
  double quiet_below = 0.05;                          // only compact while PSI some avg10 is below this
  Duration cooldown = std::chrono::seconds{300};      // per node
  Duration max_backoff = std::chrono::seconds{3600};  // cap of the doubled cooldown after fruitless runs
  bool operator==(const CompactionPolicy&) const = default;
};

// The hugepage pool manager: per node and page size, keep free pages >= demand + headroom,
// where demand is what hugepage-backed VMs set to autostart but not running yet will take.
struct HugepagePolicy {
  bool enabled = true;
  uint64_t headroom = 0;  // bytes of free pages kept beyond demand, per node and page size in use
  // Release free pages above demand + headroom once that has held this long. Off by default:
  // pools sized at boot belong to the administrator.
  bool reclaim = false;
  Duration reclaim_after = std::chrono::seconds{600};
  // Never grow a node's pools past the point where less than this stays outside them.
  NodeSize min_normal_memory = NodeSize::Percent(10);
  uint64_t max_step = 8 * kGiB;                     // per node and size per cycle
  Duration retry_after = std::chrono::seconds{60};  // after a reservation that fell short
  bool operator==(const HugepagePolicy&) const = default;
};

// NUMA placement: a VM whose memory sits mostly away from its vCPUs gets its vCPUs moved to
// its memory (free) or its memory moved to its vCPUs (copies bytes), whichever fixes it cheaper.
struct PlacementPolicy {
  bool enabled = true;
  double locality_below = 0.8;                       // share of memory on the vCPUs' nodes
  Duration sustain_for = std::chrono::seconds{300};  // YAML key "for"
  double max_bytes_per_second = 64.0 * kMiB;         // memory migration rate, averaged over moves
  Duration cooldown = std::chrono::seconds{1800};    // per VM, between two moves
  bool operator==(const PlacementPolicy&) const = default;
};

// Limits that scale with the host (docs/policy.md explains the defaults), each with an
// optional absolute cap for operators who want one.
struct LimitsPolicy {
  // Actions per cycle: enough to change every running VM once per balloon cooldown,
  // max(4, ceil(VMs x interval / cooldown)); at most this cap when it is above 0.
  int max_actions_per_cycle = 0;
  // Balloon and virtio-mem bytes moved in any 60 s: this share of the host's memory (all
  // nodes); at most max_bytes_per_minute when that is above 0.
  double max_share_per_minute = 0.10;
  uint64_t max_bytes_per_minute = 0;
  bool operator==(const LimitsPolicy&) const = default;
};

// KSM steered by what merging pays: scan while memory is wanted or merging pays back ksmd's
// CPU, slow down and stop when it does not (docs/policy.md explains the defaults).
struct KsmPolicy {
  bool enabled = true;
  // Any node's available memory below this: memory is wanted, so KSM scans (ladder stage ksm).
  NodeSize merge_below = NodeSize::Percent(20);
  // Merging must pay back ksmd's CPU within this long, the CPU priced at the host's own memory
  // per CPU: saved bytes per ksmd CPU-second >= (MemTotal / CPUs) / payback.
  Duration payback = std::chrono::hours{1};
  Duration window = std::chrono::seconds{60};  // how far back the saving and the CPU are measured
  uint64_t min_pages_to_scan = 100;
  uint64_t max_pages_to_scan = 1250;
  uint64_t sleep_millisecs = 20;
  // VMs (names or UUIDs) that must never be merged (KSM side channels): while one of them runs
  // without <nosharepages/>, KSM is not started.
  std::vector<std::string> never_merge;
  bool operator==(const KsmPolicy&) const = default;
};

// Compressed offload: proactive memory.reclaim on each VM's cgroup v2 in small steps, held to a
// memory PSI target per VM (tighten slowly, back off at once) and a refault guard.
struct OffloadPolicy {
  bool enabled = true;
  double psi_target = 0.001;                          // share of wall time the VM's tasks stall on memory ("some")
  double max_refault_ratio = 0.002;                   // refaulted bytes per minute / resident bytes
  double step_ratio = 0.01;                           // bytes per step: this share of the VM's resident memory
  Duration step_interval = std::chrono::seconds{30};  // per VM, between two steps
  Duration backoff = std::chrono::seconds{300};       // no step after a guard tripped, per VM
  double max_ratio = 0.5;                             // never more than this share of the VM's memory offloaded
  bool allow_disk_swap = false;                       // offload onto swap that is neither zswap nor zram
  std::vector<std::string> exclude;                   // VMs (names or UUIDs) never offloaded
  bool operator==(const OffloadPolicy&) const = default;
};

struct Policy {
  Duration interval = std::chrono::seconds{2};      // the loop's period
  Duration stale_after = std::chrono::seconds{30};  // guest stats older than this are stale: never shrink on them
  BalloonPolicy balloon;
  VirtioMemPolicy virtio_mem;
  CompactionPolicy compaction;
  HugepagePolicy hugepages;
  PlacementPolicy placement;
  LimitsPolicy limits;
  KsmPolicy ksm;
  OffloadPolicy offload;
  bool operator==(const Policy&) const = default;
};

}  // namespace kvmem::model
