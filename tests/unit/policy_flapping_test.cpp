// Closed loop over a trivial plant: Decide + ApplyOutcome for 200 cycles on noisy, constant-ish
// inputs near each threshold. The controller must settle with at most one direction change,
// never shrink a VM whose stats are stale, and never go below a floor. Direction changes are
// counted per VM, as the simulator does (a rebalance shrinks one VM and grows another in the
// same cycle: that is not an oscillation).
#include <gtest/gtest.h>

#include <cstdint>
#include <map>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

// One host node; guests whose memory use is fixed, so only the controller moves balloons.
struct Plant {
  struct Guest {
    std::string name;
    uint64_t current, maximum, demand;
    std::optional<model::TimePoint> frozen_stats;  // the guest stopped reporting at this time
  };
  uint64_t total = 64 * kGiB;
  double other_gib = 0;  // host memory used outside the guests
  std::vector<Guest> guests;

  model::Observation Observe(model::TimePoint t, double noise_gib) const {
    uint64_t used = GiB(other_gib + noise_gib);
    for (const auto& g : guests) used += g.current;
    ObservationBuilder b(t);
    b.Node(NodeBuilder().Total(total).Available(model::SatSub(total, used)));
    for (const auto& g : guests) {
      VmBuilder v(g.name);
      v.Balloon(g.current, g.maximum)
          .Usable(model::SatSub(g.current, g.demand))
          .Unused(model::SatSub(g.current, g.demand) / 2);
      if (g.frozen_stats) v.StatsAge(t - *g.frozen_stats);
      b.Vm(v);
    }
    return b.Build();
  }

  void Apply(const model::Action& a) {
    const auto* b = std::get_if<model::SetBalloon>(&a);
    for (auto& g : guests) {
      if (b != nullptr && "uuid-" + g.name == b->vm.uuid) g.current = b->to_bytes;
    }
  }
};

// Deterministic noise in [-amplitude, amplitude].
class Noise {
 public:
  explicit Noise(double amplitude) : amplitude_(amplitude) {}
  double Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return amplitude_ * (static_cast<double>(state_ >> 11) / static_cast<double>(1ULL << 53) * 2.0 - 1.0);
  }

 private:
  double amplitude_;
  uint64_t state_ = 42;
};

struct LoopResult {
  std::vector<model::Action> actions;
  int direction_changes = 0;
};

// Observe -> Track -> Decide -> apply (instantly) -> ApplyOutcome, every 2 s.
LoopResult Loop(Plant& plant, double noise_gib, int cycles = 200, const model::Policy& policy = {},
                const std::function<void(const Plant&, const model::Plan&)>& check = {}) {
  policy::Window window(policy::RequiredKeep(policy));
  policy::ControllerState state;
  Noise noise(noise_gib);
  LoopResult run;
  std::map<std::string, int> last_direction;  // per VM uuid
  for (int i = 0; i < cycles; ++i) {
    const model::TimePoint now = At(2.0 * i);
    window.Push(plant.Observe(now, noise.Next()));
    policy::Track(state, window.Latest(), policy);
    const model::Plan plan = policy::Decide(window, state, policy);
    if (check) check(plant, plan);
    for (const auto& a : plan.actions) {
      plant.Apply(a);
      policy::ApplyOutcome(state, a, model::Outcome{}, now);
      run.actions.push_back(a);
      const int d = model::Direction(a);
      const auto* b = std::get_if<model::SetBalloon>(&a);
      int& last = last_direction[b != nullptr ? b->vm.uuid : std::string()];
      if (d != 0 && last != 0 && d != last) ++run.direction_changes;
      if (d != 0) last = d;
    }
  }
  return run;
}

TEST(PolicyNoFlapping, NoiseAroundReclaimBelow) {
  // Two 16 GiB guests; available hovers at 6.4 GiB +- 0.4 GiB, the reclaim edge.
  Plant plant;
  plant.other_gib = 25.6;
  plant.guests = {{"a", 16 * kGiB, 16 * kGiB, 6 * kGiB, {}}, {"b", 16 * kGiB, 16 * kGiB, 6 * kGiB, {}}};
  const LoopResult run = Loop(plant, 0.4);
  EXPECT_GE(run.actions.size(), 2u);  // it did reclaim
  EXPECT_LE(run.actions.size(), 8u);  // and then stopped
  EXPECT_LE(run.direction_changes, 1);
}

TEST(PolicyNoFlapping, NoiseAroundReleaseAboveWithGuestsUnderPressure) {
  // Available hovers at 12.8 GiB +- 0.4 GiB, the release edge; both guests start under pressure.
  Plant plant;
  plant.other_gib = 35.2;
  plant.guests = {{"a", 8 * kGiB, 16 * kGiB, GiB(7.6), {}}, {"b", 8 * kGiB, 16 * kGiB, GiB(7.6), {}}};
  const LoopResult run = Loop(plant, 0.4);
  EXPECT_GE(run.actions.size(), 1u);
  EXPECT_LE(run.direction_changes, 1);
}

TEST(PolicyNoFlapping, LargeNoiseAcrossTheReclaimEdge) {
  // +-1.5 GiB around the reclaim edge: reclaim keeps going until the dips stop reaching the
  // edge, and nothing is ever given back, because no guest is under pressure.
  Plant plant;
  plant.other_gib = 25.6;
  plant.guests = {{"a", 16 * kGiB, 16 * kGiB, 6 * kGiB, {}}, {"b", 16 * kGiB, 16 * kGiB, 6 * kGiB, {}}};
  const LoopResult run = Loop(plant, 1.5);
  EXPECT_GE(run.actions.size(), 3u);
  EXPECT_EQ(run.direction_changes, 0);
}

// The step scenario in small: db's demand is above its balloon, seven idle neighbours have
// 3 GiB each to give, and the node sits in the dead band (available 12 GiB +- noise).
Plant StepPlant(double other_gib) {
  Plant plant;
  plant.other_gib = other_gib;
  plant.guests = {{"db", 6 * kGiB, 8 * kGiB, GiB(7.5), {}}};
  for (int i = 0; i < 7; ++i) plant.guests.push_back({"app-" + std::to_string(i), 6 * kGiB, 8 * kGiB, 3 * kGiB, {}});
  return plant;
}

void CheckRebalanceInvariants(const Plant& p, const model::Plan& plan) {
  uint64_t sum = 0;
  for (const auto& g : p.guests) {
    sum += g.current;
    EXPECT_LE(g.current, g.maximum) << g.name;
    // The apps' floor: used 3 GiB / (1 - 0.15).
    if (g.name != "db") {
      EXPECT_GE(g.current, static_cast<uint64_t>(3.0 * kGiB / 0.85)) << g.name;
    }
  }
  EXPECT_LE(sum, 8 * 6 * kGiB) << "a rebalance never takes memory from the host";
  for (const auto& a : plan.actions) {
    const auto* b = std::get_if<model::SetBalloon>(&a);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(model::Direction(a), b->vm.name == "db" ? 1 : -1) << model::ToString(a);
  }
}

TEST(PolicyNoFlapping, PressuredGuestWithIdleNeighboursInTheDeadBand) {
  Plant plant = StepPlant(4);  // available 12 GiB: the dead band, below release_above 12.8 GiB
  size_t actions_at_100 = 0;
  int cycle = 0;
  const LoopResult run = Loop(plant, 0.3, 200, {}, [&](const Plant& p, const model::Plan& plan) {
    CheckRebalanceInvariants(p, plan);
    if (++cycle == 100) actions_at_100 = plan.actions.size();
  });
  EXPECT_GE(plant.guests[0].current, GiB(7.5));  // db is out of OOM ...
  EXPECT_EQ(plant.guests[0].current, 8 * kGiB);  // ... and at its maximum (still under 10% usable)
  uint64_t sum = 0;
  for (const auto& g : plant.guests) sum += g.current;
  EXPECT_EQ(sum, 8 * 6 * kGiB);       // every byte db got came from a neighbour
  EXPECT_EQ(run.actions.size(), 8u);  // four rebalances of 512 MiB, then nothing
  EXPECT_EQ(actions_at_100, 0u);
  EXPECT_EQ(run.direction_changes, 0);
}

TEST(PolicyNoFlapping, PressuredGuestWithIdleNeighboursAcrossReleaseAbove) {
  // Available hovers at release_above +- 0.4 GiB: some cycles release from the host, the others
  // rebalance from the neighbours. Nobody is ever shrunk and then grown, or the other way round.
  Plant plant = StepPlant(3.2);
  const LoopResult run = Loop(plant, 0.4, 200, {}, [&](const Plant& p, const model::Plan& plan) {
    for (const auto& g : p.guests) EXPECT_LE(g.current, g.maximum) << g.name;
    for (const auto& a : plan.actions) {
      const auto* b = std::get_if<model::SetBalloon>(&a);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(model::Direction(a), b->vm.name == "db" ? 1 : -1) << model::ToString(a);
    }
  });
  EXPECT_EQ(plant.guests[0].current, 8 * kGiB);
  // 2 GiB in steps of at most 512 MiB: a release is one action, a rebalance two; the last step
  // is partial (db reaches its maximum).
  EXPECT_LE(run.actions.size(), 10u);
  EXPECT_EQ(run.direction_changes, 0);
}

TEST(PolicyStatsOutage, NeverShrinksTheSilentGuestAndHoldsFloors) {
  // The host is short by 6 GiB more than guest a can give; guest b has not reported for a minute.
  Plant plant;
  plant.other_gib = 38;
  plant.guests = {{"a", 16 * kGiB, 16 * kGiB, 6 * kGiB, {}}, {"b", 16 * kGiB, 16 * kGiB, 2 * kGiB, At(-60)}};
  const model::Policy policy;
  const LoopResult run = Loop(plant, 0.2, 200, policy, [&](const Plant& p, const model::Plan& plan) {
    for (const auto& g : p.guests) {
      // a's floor: used 6 GiB / (1 - 0.15)
      if (g.name == "a") {
        EXPECT_GE(g.current, static_cast<uint64_t>(6.0 * kGiB / 0.85));
      }
    }
    for (const auto& a : plan.actions) {
      const auto* b = std::get_if<model::SetBalloon>(&a);
      ASSERT_NE(b, nullptr);
      EXPECT_NE(b->vm.name, "b") << model::ToString(a);
    }
  });
  EXPECT_FALSE(run.actions.empty());
  EXPECT_EQ(plant.guests[1].current, 16 * kGiB);
  EXPECT_LT(plant.guests[0].current,
            static_cast<uint64_t>(6.0 * kGiB / 0.85) + 16 * kMiB);  // a went to its floor
}

}  // namespace
}  // namespace kvmem::test
