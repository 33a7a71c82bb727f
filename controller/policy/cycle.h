// Cycle: the bookkeeping one Decide call shares between its rules, and the guards that apply
// to all of them: actions left this cycle, bytes left this minute, one action per VM, and a
// per-node ledger of memory that planned or still-settling changes will free or take (so two
// rules, or two cycles, never count the same headroom twice).
// Not thread-safe (lives for one Decide call). Throws only std::bad_alloc.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::policy {

// Where a node's available memory is heading, from the trend over balloon.trend_window.
struct NodeOutlook {
  std::optional<double> slope;  // a sustained decline, bytes per second (< 0); nullopt: none
  model::Duration horizon{0};   // how far ahead the line is read: one reaction time
  uint64_t projected = 0;       // available at now + horizon (= available without a trend)
  bool early = false;           // in the dead band now, below reclaim_below at the horizon
};

// The limits this cycle, scaled to the host (model::LimitsPolicy).
int ActionsPerCycle(const model::Policy& policy, const model::Observation& obs);
uint64_t BytesPerMinute(const model::Policy& policy, const model::Observation& obs);

class Cycle {
 public:
  Cycle(const Window& window, const ControllerState& state, const model::Policy& policy, model::Plan& plan);

  const Window& window() const { return window_; }
  const model::Observation& obs() const { return window_.Latest(); }
  const ControllerState& state() const { return state_; }
  const model::Policy& policy() const { return policy_; }
  model::TimePoint now() const { return obs().time; }

  // Records a skip once: a second skip with the same subject, rule and reason (e.g. the limits
  // skip of a VM spread over two nodes, met once per node) is dropped.
  void AddSkip(std::string subject, std::string rule, std::string reason);
  // True when `needed` more actions fit this cycle; otherwise records a limits skip for `subject`.
  bool HasActionSlot(const std::string& subject, int needed = 1);
  int ActionsLeft() const { return actions_left_; }
  uint64_t BytesLeft() const { return bytes_left_; }
  // The skip text when the bytes budget is the binding limit.
  std::string BytesLimitText() const;
  bool Touched(const std::string& uuid) const { return touched_.contains(uuid); }

  // Time left of the VM's balloon cooldown, or 0.
  model::Duration BalloonCooldownLeft(const std::string& uuid) const;

  // Where the node's available memory is heading (computed once per cycle).
  const NodeOutlook& Outlook(int node) const;

  // Memory on the node that planned or in-flight changes will free (shrinks) or take (grows).
  double Freed(int node) const;
  double Drawn(int node) const;
  // What growth may still take from the node without pushing it under release_above
  // (and never more than its free memory when `bound_by_free`).
  uint64_t Headroom(const model::NodeObservation& node, bool bound_by_free) const;

  // Appends the action, spends one slot and its bytes, marks the VM and books the ledger.
  void Add(model::Action action);
  // The node of a compaction already planned this cycle (one per cycle, whichever rule asked).
  std::optional<int> PlannedCompaction() const;
  void AddPoolTarget(model::PoolTarget target) { plan_.pools.push_back(target); }
  // The node's reclaim ladder stage this cycle (policy/ladder.h); calm before RecordStages.
  model::Stage StageOf(int node) const {
    auto it = plan_.stages.find(node);
    return it == plan_.stages.end() ? model::Stage::kCalm : it->second;
  }
  // The deepest stage of any node.
  model::Stage DeepestStage() const {
    model::Stage s = model::Stage::kCalm;
    for (const auto& [node, stage] : plan_.stages) s = std::max(s, stage);
    return s;
  }

 private:
  void Book(const model::VmObservation& vm, int64_t delta_bytes);
  void BookNode(int node, int64_t delta_bytes);
  void CreditInFlight();

  const Window& window_;
  const ControllerState& state_;
  const model::Policy& policy_;
  model::Plan& plan_;
  int actions_per_cycle_;
  uint64_t bytes_per_minute_;
  int actions_left_;
  uint64_t bytes_left_;
  std::map<int, NodeOutlook> outlooks_;
  std::set<std::string> touched_;
  std::set<std::tuple<std::string, std::string, std::string>> skipped_;  // {subject, rule, reason}
  std::map<int, double> freed_, drawn_;
};

}  // namespace kvmem::policy
