// Compressed offload: proactive memory.reclaim on each VM's cgroup v2, in the manner of
// senpai (Meta's TMO): small steps while the VM's memory PSI stays under a target (tighten
// slowly), none for a back-off period as soon as its PSI or its refault rate crosses a guard
// (back off at once). The ladder's offload and swap stages take larger steps.
// Thread-safe (pure). Throws only std::bad_alloc.
#pragma once

#include <optional>
#include <string>

#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/policy/cycle.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::policy {

// How much larger a step is at the ladder's offload and swap stages than a proactive one.
inline constexpr double kLadderStepFactor = 4;

// What the guards look at, over the last step_interval.
struct OffloadRates {
  double psi_ratio = 0;      // share of wall time some task of the VM stalled on memory
  double refault_ratio = 0;  // bytes brought back from (z)swap per minute / resident bytes
};

// Nullopt when the window does not cover step_interval for this VM's cgroup counters yet
// (or the VM has no cgroup, no PSI, no refault counter or no resident memory).
std::optional<OffloadRates> OffloadRatesOf(const Window& window, const model::VmObservation& vm,
                                           const model::Policy& policy);

// "" when no guard trips, else each guard that trips with its numbers, joined by " and ":
// "refault 0.41%/min of resident > max_refault_ratio 0.2%/min".
std::string TrippedGuard(const OffloadRates& rates, const model::OffloadPolicy& policy);

// Starts the back-off of every VM whose guard trips in the latest observation (and that is not
// backing off already). Call once per cycle after Track, before Decide.
void TrackOffload(ControllerState& state, const Window& window, const model::Policy& policy);

// Plans one ReclaimVmMemory per running VM that may offload, with a skip for every other one;
// one host skip when none can (disabled, no swap, disk swap not allowed); nothing at all when
// the observation has no swap facts. Called from Decide after the virtio-mem rules.
void PlanOffload(Cycle& c);

}  // namespace kvmem::policy
