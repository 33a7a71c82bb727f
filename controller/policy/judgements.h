// The judgements every rule makes the same way about a node or a VM: the node's band
// thresholds, the VM's floor, whether its stats are fresh enough to shrink on, and whether it is
// under memory pressure. (Not OS signals: those are common/signals.h.)
// Thread-safe (pure functions). Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/policy/window.h"

namespace kvmem::policy {

// The node's balloon thresholds in bytes. `middle` is where reclaim aims, so that a reclaim
// lands well inside the dead band instead of on its edge.
struct NodeBand {
  uint64_t reclaim_below = 0;
  uint64_t release_above = 0;
  uint64_t middle = 0;
  model::Band band = model::Band::kSteady;
};
NodeBand BandOf(const model::NodeObservation& node, const model::BalloonPolicy& policy);
// "6.4 GiB (10%)" or "6 GiB": a threshold as resolved on a node, with its policy form.
std::string DescribeThreshold(const model::NodeSize& size, uint64_t resolved);

// The lowest size the controller may give the VM: the highest of min_guest,
// used / (1 - min_free_ratio) with used = guest available - guest usable, and min_guarantee.
// Without guest stats only min_guest and min_guarantee are known (and nothing shrinks then).
uint64_t Floor(const model::VmObservation& vm, const model::BalloonPolicy& policy);

// Why the VM must not be shrunk on its stats ("stats missing", "stats 31 s old (stale_after
// 30 s)"), or nullopt when they are fresh.
std::optional<std::string> BlindReason(const model::VmObservation& vm, model::TimePoint now,
                                       model::Duration stale_after);

struct Pressure {
  bool under = false;
  double usable_ratio = 1;      // guest usable / balloon current; 1 when unknown
  double swap_in_rate = 0;      // bytes per second; 0 when unknown
  double major_fault_rate = 0;  // per second; 0 when unknown
  std::string why;              // "usable 5% < 10%" when under
  // The signal that fired, for Reason::threshold/threshold_value: the policy key
  // ("balloon.pressure.usable_below_ratio") and its value; empty and 0 when not under.
  std::string threshold;
  double threshold_value = 0;
};
// Pressure of the VM with `uuid` as of observation i of the window. Rates look back
// pressure.rate_window. Without any guest stats the VM is not under (known) pressure.
Pressure PressureAt(const Window& window, size_t i, const std::string& uuid,
                    const model::BalloonPressurePolicy& policy);

// "vm web-1", "node 1", "vm web-1 virtio-mem vmem0": the subjects of skips.
std::string VmSubject(const model::VmObservation& vm);
std::string NodeSubject(int node);
std::string DeviceSubject(const model::VmObservation& vm, const model::VirtioMemDevice& dev);
model::VmRef RefOf(const model::VmObservation& vm);

}  // namespace kvmem::policy
