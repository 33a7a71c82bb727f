// ControlCycle: one control cycle, the same for the daemon (loop::Controller) and the
// simulator (bench/sim): push the observation into the window, track what earlier actions
// did, decide, then apply the plan's actions in order through an Actuator, noting each start
// and outcome in the controller's state. The donor rule: a rebalance grows one VM by what its
// donors give, so when a donor's shrink fails the grow is not attempted (it would take the
// memory from the host instead).
// Step() never throws except std::bad_alloc; not thread-safe (the loop is the one caller).
#pragma once

#include <atomic>

#include "controller/actuate/actuator.h"
#include "controller/model/policy.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::loop {

// Hears each action as the cycle applies it: the daemon's decision log and metrics.
class CycleListener {
 public:
  virtual ~CycleListener() = default;
  virtual void Starting(const model::Action& /*action*/) {}
  // After Apply, or instead of it when the action was not attempted (the donor rule).
  virtual void Finished(const model::Action& action, const model::Outcome& outcome) = 0;
  // The stop flag was set before `first` started: it and the rest of the plan are dropped.
  virtual void Stopped(const model::Action& /*first*/) {}
};

class ControlCycle {
 public:
  explicit ControlCycle(model::Policy policy);
  void SetPolicy(model::Policy policy);
  const model::Policy& policy() const { return policy_; }
  const policy::ControllerState& state() const { return state_; }
  const policy::Window& window() const { return window_; }

  // One cycle on `obs`. An observation not newer than the last one gives an empty plan.
  // `listener` may be null; once *stop is true (SIGTERM) no further action starts.
  model::Plan Step(model::Observation obs, actuate::Actuator& actuator, CycleListener* listener,
                   const std::atomic<bool>* stop = nullptr);

 private:
  model::Policy policy_;
  policy::Window window_;
  policy::ControllerState state_;
};

}  // namespace kvmem::loop
