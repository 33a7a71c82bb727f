// The control cycle shared by the daemon and the simulator.
#include "controller/loop/cycle.h"

#include "controller/policy/decide.h"
#include "controller/policy/offload.h"

namespace kvmem::loop {

ControlCycle::ControlCycle(model::Policy policy) : policy_(std::move(policy)), window_(policy::RequiredKeep(policy_)) {}

void ControlCycle::SetPolicy(model::Policy policy) {
  policy_ = std::move(policy);
  window_.SetKeep(policy::RequiredKeep(policy_));
}

model::Plan ControlCycle::Step(model::Observation obs, actuate::Actuator& actuator, CycleListener* listener,
                               const std::atomic<bool>* stop) {
  if (!window_.Push(std::move(obs))) return {};
  const model::TimePoint now = window_.Latest().time;
  policy::Track(state_, window_.Latest(), policy_);
  policy::TrackOffload(state_, window_, policy_);
  model::Plan plan = policy::Decide(window_, state_, policy_);
  bool donor_failed = false;
  for (const auto& action : plan.actions) {
    const bool rebalance = model::ReasonOf(action).rule == "balloon.rebalance";
    if (rebalance && model::Direction(action) > 0 && donor_failed) {
      model::Outcome skipped;
      skipped.ok = false;
      skipped.error = "not attempted: a donor's shrink failed this cycle";
      if (listener) listener->Finished(action, skipped);
      continue;
    }
    if (stop && stop->load()) {
      if (listener) listener->Stopped(action);
      break;
    }
    policy::NoteStarted(state_, action, now);
    if (listener) listener->Starting(action);
    const model::Outcome outcome = actuator.Apply(action);
    if (rebalance && model::Direction(action) < 0 && !outcome.ok) donor_failed = true;
    policy::ApplyOutcome(state_, action, outcome, now);
    if (listener) listener->Finished(action, outcome);
  }
  return plan;
}

}  // namespace kvmem::loop
