// kvmem behind the simulator's Controller interface: the daemon's cycle without I/O.
// Mirrors loop::Controller::RunOnce (controller/loop/controller.cpp) step for step; the only
// difference is that the outcome of every action is "applied" the moment it is submitted,
// because the plant accepts every target (the effect still arrives after the actuation delay).
#include <set>
#include <string>
#include <utility>

#include "bench/sim/controller.h"
#include "controller/policy/decide.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::sim {
namespace {

class Kvmem : public Controller {
 public:
  Kvmem(model::Policy policy, std::ostream* skips)
      : policy_(std::move(policy)), window_(policy::RequiredKeep(policy_)), skips_(skips) {}

  std::string Name() const override { return "kvmem"; }
  model::Duration Period() const override { return policy_.interval; }

  std::vector<model::Action> Cycle(const model::Observation& obs) override {
    if (!window_.Push(obs)) return {};
    policy::Track(state_, window_.Latest(), policy_);
    model::Plan plan = policy::Decide(window_, state_, policy_);
    const model::TimePoint now = window_.Latest().time;
    if (skips_ != nullptr) LogSkips(plan, now);
    for (const auto& action : plan.actions) {
      policy::NoteStarted(state_, action, now);
      policy::ApplyOutcome(state_, action, model::Outcome{}, now);
    }
    return std::move(plan.actions);
  }

 private:
  // Like the daemon's debug log: a skip is worth a line when it is new.
  void LogSkips(const model::Plan& plan, model::TimePoint now) {
    std::set<std::string> seen;
    for (const auto& skip : plan.skips) {
      std::string line = skip.ToString();
      if (!last_skips_.contains(line) && !seen.contains(line)) *skips_ << model::FormatSeconds(now.time_since_epoch()) << " skip " << line << "\n";
      seen.insert(std::move(line));
    }
    last_skips_ = std::move(seen);
  }

  model::Policy policy_;
  policy::Window window_;
  policy::ControllerState state_;
  std::ostream* skips_;
  std::set<std::string> last_skips_;
};

}  // namespace

std::unique_ptr<Controller> MakeKvmem(const model::Policy& policy, std::ostream* skips) {
  return std::make_unique<Kvmem>(policy, skips);
}

}  // namespace kvmem::sim
