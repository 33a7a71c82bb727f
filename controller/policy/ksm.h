// KSM, the reclaim ladder's cheapest lever, steered by what merging pays: bytes saved per
// second of ksmd CPU against the host's own price of a CPU in memory (docs/policy.md "ksm").
// Starts scanning when memory is wanted, scans harder while it pays, slows and stops when it
// does not, never touches an administrator's run=2 nor merge_across_nodes, and never merges
// while a never_merge VM runs without <nosharepages/>.
// Thread-safe (pure). Throws only std::bad_alloc.
#pragma once

#include <optional>

#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/policy/cycle.h"
#include "controller/policy/window.h"

namespace kvmem::policy {

// What merging paid over the last ksm.window.
struct KsmPayment {
  int64_t saved_bytes = 0;  // SavedBytes() now
  double saved_delta = 0;   // its change over the span (negative: pages unmerged)
  double cpu_seconds = 0;   // ksmd CPU used over the span
  double span_seconds = 0;  // wall time between the two observations
  double pay_rate = 0;      // saved_delta / cpu_seconds, bytes per CPU-second
  double break_even = 0;    // KsmBreakEven
  bool pays = false;        // pay_rate >= break_even (no CPU used: pays when it saved)
  double CpuRatio() const { return span_seconds > 0 ? cpu_seconds / span_seconds : 0; }
};

// The host's price of one CPU-second in memory: (sum of node MemTotal / online CPUs) / payback,
// in bytes. Nullopt when the CPUs or the memory are unknown.
std::optional<double> KsmBreakEven(const model::Observation& obs, const model::KsmPolicy& policy);

// Compares the latest observation with the newest one at least ksm.window older (and taken
// after `after`, the last KSM change). Nullopt when there is no such observation, or KSM or
// ksmd's CPU is missing in either, or the break-even is unknown.
std::optional<KsmPayment> MeasureKsm(const Window& window, const model::KsmPolicy& policy,
                                     std::optional<model::TimePoint> after);

// The KSM rules ("ksm.merge", "ksm.slow", "ksm.stop"); at most one SetKsm per cycle.
void PlanKsm(Cycle& c);

}  // namespace kvmem::policy
