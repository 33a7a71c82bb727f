// kvmem behind the simulator's Controller interface: the daemon's own cycle
// (loop::ControlCycle), with an actuator that hands every action to the plant. The plant
// accepts every target; the effect arrives after its actuation delay.
#include <set>
#include <string>
#include <utility>

#include "bench/sim/controller.h"
#include "controller/loop/cycle.h"

namespace kvmem::sim {
namespace {

// The plant's side of the actuation: every action is accepted and queued for the plant.
class PlantActuator final : public actuate::Actuator {
 public:
  model::Outcome Apply(const model::Action& action) noexcept override {
    try {
      submitted.push_back(action);
    } catch (...) {
      model::Outcome failed;
      failed.ok = false;
      failed.error = "out of memory";
      return failed;
    }
    return {};
  }
  std::vector<model::Action> submitted;
};

class Kvmem : public Controller {
 public:
  Kvmem(model::Policy policy, std::ostream* skips) : cycle_(std::move(policy)), skips_(skips) {}

  std::string Name() const override { return "kvmem"; }
  model::Duration Period() const override { return cycle_.policy().interval; }

  std::vector<model::Action> Cycle(const model::Observation& obs) override {
    PlantActuator plant;
    const model::TimePoint now = obs.time;
    model::Plan plan = cycle_.Step(obs, plant, nullptr);
    if (skips_ != nullptr) LogSkips(plan, now);
    return std::move(plant.submitted);
  }

 private:
  // Like the daemon's debug log: a skip is worth a line when it is new.
  void LogSkips(const model::Plan& plan, model::TimePoint now) {
    std::set<std::string> seen;
    for (const auto& skip : plan.skips) {
      std::string line = skip.ToString();
      if (!last_skips_.contains(line) && !seen.contains(line))
        *skips_ << model::FormatSeconds(now.time_since_epoch()) << " skip " << line << "\n";
      seen.insert(std::move(line));
    }
    last_skips_ = std::move(seen);
  }

  loop::ControlCycle cycle_;
  std::ostream* skips_;
  std::set<std::string> last_skips_;
};

}  // namespace

std::unique_ptr<Controller> MakeKvmem(const model::Policy& policy, std::ostream* skips) {
  return std::make_unique<Kvmem>(policy, skips);
}

}  // namespace kvmem::sim
