// oVirt MOM's balloon rules, as vdsm ships them (its mom-balloon policy), written from the
// published algorithm and constants (../shared/notes/anchors.md, docs/simulator.md):
//   every 15 s, host free% = mean of the last 10 samples of host free memory / MemTotal;
//   below 20 %: shrink every guest by at most 5 % of its balloon per cycle, down to
//     used + guest_free% x balloon, where guest_free% = 20 % x host free% / 20 %, and at or
//     below 5 % host free guest_free% = host free% - 5 % (negative: a target below usage);
//   otherwise: grow every ballooned guest by 5 % (at least to used + 20 % of its maximum);
//   changes under 0.25 % of the balloon are not made;
//   KSM (its ksm policy, same cycle): KsmRule on the same 10-sample mean of free memory, adding
//   to the pages_to_scan it reads from the host; sleep 10 ms x 16 GiB / MemTotal, no floor.
// "used" is the 10-sample mean of balloon - guest unused. Data age is not looked at: stale
// statistics are used as if fresh; a guest with no statistics is left out.
#include <algorithm>
#include <deque>
#include <map>
#include <numeric>

#include "bench/sim/controller.h"
#include "controller/model/units.h"

namespace kvmem::sim {
namespace {

using model::AsDouble;

double Mean(const std::deque<double>& xs) {
  return xs.empty() ? 0.0 : std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
}

class Mom : public Controller {
 public:
  explicit Mom(MomParams p) : p_(p) {}
  std::string Name() const override { return "MOM"; }
  model::Duration Period() const override { return p_.period; }

  std::vector<model::Action> Cycle(const model::Observation& obs) override {
    double total = 0, free = 0;
    for (const auto& n : obs.nodes) {
      total += AsDouble(n.total_bytes);
      free += AsDouble(n.available_bytes);
    }
    Push(host_free_, free);
    const double host_free = total > 0 ? Mean(host_free_) / total : 1.0;
    const bool pressure = host_free < p_.pressure_threshold;
    std::vector<model::Action> out;
    for (const auto& vm : obs.vms) {
      if (!vm.running || !vm.guest_unused_bytes) continue;  // no statistics: not among MOM's guests
      Samples& s = guests_[vm.uuid];
      Push(s.balloon, AsDouble(vm.balloon_current_bytes));
      Push(s.unused, AsDouble(*vm.guest_unused_bytes));
      const double used = Mean(s.balloon) - Mean(s.unused);
      const auto target = pressure ? Shrink(vm, used, host_free) : Grow(vm, used);
      if (target) out.push_back(*target);
    }
    if (obs.ksm) {
      if (auto to = KsmRule(p_.ksm, obs, Mean(host_free_), obs.ksm->pages_to_scan)) {
        if (auto a = KsmAction(obs, *to, "mom.ksm")) out.push_back(*a);
      }
    }
    return out;
  }

 private:
  struct Samples {
    std::deque<double> balloon, unused;
  };

  void Push(std::deque<double>& xs, double v) const {
    xs.push_back(v);
    while (xs.size() > p_.samples) xs.pop_front();
  }

  bool BigEnough(double cur, double to) const { return std::abs(to - cur) > p_.min_change * cur; }

  std::optional<model::Action> Make(const model::VmObservation& vm, double to, const char* rule) const {
    const double floor = AsDouble(vm.min_guarantee_bytes.value_or(0));  // oVirt's guaranteed memory
    const uint64_t bytes = model::ToBytes(std::clamp(to, floor, AsDouble(vm.balloon_maximum_bytes)));
    if (bytes == vm.balloon_current_bytes) return std::nullopt;
    model::SetBalloon a{{vm.uuid, vm.name}, vm.balloon_current_bytes, bytes, {}};
    a.reason.rule = rule;
    a.reason.text = "MOM " + std::string(rule);
    return a;
  }

  std::optional<model::Action> Shrink(const model::VmObservation& vm, double used, double host_free) const {
    const double cur = AsDouble(vm.balloon_current_bytes);
    const double guest_free = host_free <= p_.pressure_critical ? host_free - p_.pressure_critical
                                                                : p_.min_guest_free * host_free / p_.pressure_threshold;
    const double size = std::max(cur * (1 - p_.max_change), used + guest_free * cur);
    if (size > cur || !BigEnough(cur, size)) return std::nullopt;
    return Make(vm, size, "mom.shrink");
  }

  std::optional<model::Action> Grow(const model::VmObservation& vm, double used) const {
    const double cur = AsDouble(vm.balloon_current_bytes);
    const double max = AsDouble(vm.balloon_maximum_bytes);
    if (cur >= max) return std::nullopt;
    const double size = std::max(std::min(cur * (1 + p_.max_change), max), used + p_.min_guest_free * max);
    if (!BigEnough(cur, size)) return std::nullopt;
    return Make(vm, size, "mom.grow");
  }

  MomParams p_;
  std::deque<double> host_free_;
  std::map<std::string, Samples> guests_;
};

}  // namespace

std::unique_ptr<Controller> MakeMom(const MomParams& params) { return std::make_unique<Mom>(params); }

}  // namespace kvmem::sim
