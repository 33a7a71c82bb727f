// Inputs the other tables never feed, each found by a mutant of scripts/mutate-policy.py that
// survived them (docs/testing.md): a node without memory, trends fit on exactly three points or
// on a point at the edge of the window, a grow exactly min_step below the maximum, a remaining
// need of exactly kCoveredBytes, a plan that uses exactly the bytes left, a VM of 1 byte.
#include <gtest/gtest.h>

#include "controller/policy/judgements.h"
#include "controller/policy/state.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

const std::string kDead0 =
    "node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";

// What node 0 still misses of the band middle after the cycle's reclaim.
std::string Short(const std::string& gib) {
  return "node 0: balloon.reclaim: " + gib +
         " GiB short of the band middle 9.6 GiB after this cycle; no other VM can give now";
}

Policy With(const std::function<void(Policy&)>& f) {
  Policy p;
  f(p);
  return p;
}

// Node 0 (and node 1 when `gib1` is given) every `step` s from `from` to 0 s, available memory
// given by gib0(t) and gib1(t), with `vms`.
std::vector<Observation> Trend(int from, int step, double (*gib0)(int), const std::vector<VmBuilder>& vms,
                               double (*gib1)(int) = nullptr) {
  std::vector<Observation> out;
  for (int t = from; t <= 0; t += step) {
    ObservationBuilder b(At(t));
    b.Node(NodeBuilder(0).Available(GiB(gib0(t))));
    if (gib1 != nullptr) b.Node(NodeBuilder(1).Available(GiB(gib1(t))));
    for (const auto& v : vms) b.Vm(v);
    out.push_back(b.Build());
  }
  return out;
}

// Falling 1.2 GiB/min over the last 50 s; flat from 60 to 110 s ago, 1 GiB higher 120 s ago.
double EdgeDecline(int t) {
  if (t > -55) return 6.5 - t * 0.02;
  return t > -115 ? 7.5 : 8.5;
}

TEST(PolicyMutantsBalloon, Table) {
  const VmBuilder web = VmBuilder("web").StatsAge(seconds{1});
  // On one 64 GiB node with default policy: band [6.4 GiB, 12.8 GiB], 20 GiB is in release.
  const NodeBuilder rich = NodeBuilder().Available(20 * kGiB);
  RunTable({
      {"a node without memory is never reclaimed for, whatever its total says",
       {ObservationBuilder().Node(NodeBuilder(0)).Node(NodeBuilder(1).NoMemory().Available(kGiB)).Build()},
       {},
       {kDead0}},
      {"a VM that does not run is nobody's business, under pressure or not",
       {One(NodeBuilder(), {VmBuilder("web").NotRunning().Usable(512 * kMiB)})},
       {},
       {kDead0}},
      {"release: a grow of exactly min_step to the maximum is taken",
       {One(rich, {VmBuilder("db").Balloon(8 * kGiB - 16 * kMiB, 8 * kGiB).Usable(256 * kMiB)})},
       {"balloon db: 7.98 GiB -> 8 GiB"},
       {}},
      {"a balloon of 1 byte with nothing usable is under pressure",
       {One(rich, {VmBuilder("db").Balloon(1, 8 * kGiB).Usable(0)})},
       {"balloon db: 1 B -> 512 MiB"},
       {}},
      {"usable exactly at usable_below_ratio is not pressure",
       {One(rich, {VmBuilder("db").Balloon(8 * kGiB, 16 * kGiB).Usable(2 * kGiB)})},
       {},
       {},
       With([](Policy& p) { p.balloon.pressure.usable_below_ratio = 0.25; })},
      {"rebalance: a grow of exactly min_step to the maximum is taken",
       {One(NodeBuilder(), {VmBuilder("db").Balloon(8 * kGiB - 16 * kMiB, 8 * kGiB).Usable(0), VmBuilder("app")})},
       {"balloon app: 8 GiB -> 7.98 GiB", "balloon db: 7.98 GiB -> 8 GiB"},
       {kDead0,
        "vm db: balloon.release: under pressure (usable 0% < usable_below_ratio 10%) but no node it sits "
        "on is above release_above"}},
      // 10 s apart over the default 60 s trend window: the newer half holds 3 points (0, 10, 20 s
      // ago), enough for a line. 6.6 GiB now, falling 1.2 GiB/min: 6.36 GiB in 12 s.
      {"a trend fit on exactly three observations counts",
       Trend(-60, 10, [](int t) { return 6.6 - t / 50.0; }, {web}),
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {Short("2.74")}},
      // trend_window 110 s: the older half is [55 s, 121 s) ago. Flat from 60 to 110 s ago; only
      // the point 120 s ago (1 GiB higher) makes it a decline, of 0.64 GiB/min: 6.37 GiB in 12 s.
      {"the older half of a trend reaches a tenth of the window past it",
       Trend(-120, 10, EdgeDecline, {web}),
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {Short("2.73")},
       With([](Policy& p) { p.balloon.trend_window = seconds{110}; })},
  });
}

TEST(PolicyMutantsBalloon, ReclaimGoesToTheNodeWhoseTrendIsLowestFirst) {
  // Node 0 at 6.2 GiB, flat; node 1 at 6.3 GiB now, falling 6 GiB/min: 5.1 GiB in 12 s, so it goes first.
  const auto plan = DecideOn(Trend(
      -62, 2, [](int) { return 6.2; },
      {VmBuilder("a").On({{0, 8 * kGiB}}).StatsAge(seconds{1}),
       VmBuilder("b").On({{1, 8 * kGiB}}).StatsAge(seconds{1})},
      [](int t) { return 6.3 - t / 10.0; }));
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon b: 8 GiB -> 7.5 GiB", "balloon a: 8 GiB -> 7.5 GiB"}))
      << model::ToString(plan);
}

TEST(PolicyMutantsBalloon, EqualPriorityNeverCountsAsLowerPriorityRoom) {
  // A VM in cooldown whose target frees all but 1 byte of what node 0 needs, then 119 VMs of the
  // same priority at their floor: each says so, none is told that lower priorities can give.
  ObservationBuilder b;
  b.Node(NodeBuilder().Available(4 * kGiB));
  const uint64_t middle = policy::BandOf(NodeBuilder().Available(4 * kGiB).Build(), Policy{}.balloon).middle;
  b.Vm(VmBuilder("inflight"));
  for (int i = 0; i < 119; ++i) b.Vm(VmBuilder("v" + std::to_string(1000 + i)).MinGuarantee(8 * kGiB));
  ControllerState s;
  s.vms["uuid-inflight"].last_balloon = At(-1);
  s.vms["uuid-inflight"].balloon_target = 8 * kGiB - (middle - 4 * kGiB - 1);
  const auto plan = DecideOn(b.Build(), s);
  EXPECT_EQ(Actions(plan), std::vector<std::string>{});
  ASSERT_EQ(plan.skips.size(), 120u) << model::ToString(plan);
  EXPECT_EQ(Skips(plan)[0], "vm inflight: balloon.reclaim: cooldown 9 s left");
  for (size_t i = 1; i < plan.skips.size(); ++i) {
    EXPECT_EQ(plan.skips[i].reason, "floor reached: current 8 GiB, floor 8 GiB") << plan.skips[i].subject;
  }
}

// db: 64 MiB below its maximum with nothing usable (it wants the whole 64 MiB); app can give.
Observation PressuredBesideApp(uint64_t available, uint64_t app_floor) {
  return One(NodeBuilder().Available(available), {VmBuilder("db").Balloon(8 * kGiB - 64 * kMiB, 8 * kGiB).Usable(0),
                                                  VmBuilder("app").MinGuarantee(app_floor)});
}

uint64_t GrownTo(const model::Plan& plan) {
  return plan.actions.empty() ? 0 : std::get<model::SetBalloon>(plan.actions.back()).to_bytes;
}

TEST(PolicyMutantsRebalance, ANeedLeftOfExactlyFourKiBIsCovered) {
  // Headroom 8 MiB - 4 KiB above release_above (too little for release), app can give 56 MiB:
  // 64 MiB - (8 MiB - 4 KiB) - 56 MiB = 4 KiB uncovered, which is rounding noise: the whole 64 MiB.
  const Policy p = With([](Policy& q) { q.balloon.release_above = model::NodeSize::Bytes(12 * kGiB); });
  const auto plan = DecideOn(PressuredBesideApp(12 * kGiB + 8 * kMiB - 4096, 8 * kGiB - 56 * kMiB), {}, p);
  ASSERT_EQ(plan.actions.size(), 2u) << model::ToString(plan);
  EXPECT_EQ(std::get<model::SetBalloon>(plan.actions[0]).to_bytes, 8 * kGiB - 56 * kMiB);
  EXPECT_EQ(GrownTo(plan), 8 * kGiB);
}

TEST(PolicyMutantsRebalance, APlanOfExactlyTheBytesLeftFits) {
  // The 64 MiB grow and app's 64 MiB give are 128 MiB: exactly max_bytes_per_minute.
  const Policy p = With([](Policy& q) { q.limits.max_bytes_per_minute = 128 * kMiB; });
  const auto plan = DecideOn(PressuredBesideApp(GiB(9.6), 0), {}, p);
  ASSERT_EQ(plan.actions.size(), 2u) << model::ToString(plan);
  EXPECT_EQ(std::get<model::SetBalloon>(plan.actions[0]).to_bytes, 8 * kGiB - 64 * kMiB);
  EXPECT_EQ(GrownTo(plan), 8 * kGiB);
}

TEST(PolicyMutantsCompaction, UnknownIndexesTieToTheLowerId) {
  // THP fallbacks of 20/s trigger both nodes, neither has a fragmentation index: node 0 goes first.
  std::vector<Observation> obs;
  for (int t = 0; t <= 60; t += 10) {
    obs.push_back(ObservationBuilder(At(t))
                      .Node(NodeBuilder(0).NoFrag())
                      .Node(NodeBuilder(1).NoFrag())
                      .ThpFallbacks(static_cast<uint64_t>(20 * t))
                      .Psi(0.01)
                      .Build());
  }
  const auto plan = DecideOn(obs);
  EXPECT_EQ(Actions(plan), std::vector<std::string>{"compact node 0"});
  EXPECT_EQ(SkipsFor(plan, "node 1").back(), "compaction.thp_fallback: one compaction per cycle: node 0 goes first");
}

TEST(PolicyMutantsHugepages, AnExcessOfOnePageIsReclaimed) {
  const Policy reclaim = With([](Policy& p) {
    p.hugepages.reclaim = true;
    p.hugepages.reclaim_after = seconds{60};
  });
  RunTable({{"one free 1 GiB page beyond demand and headroom for 60 s",
             Held(60, NodeBuilder().Pool(kGiB, 1, 1)),
             {"hugepages node 0 1 GiB: 1 -> 0 pages"},
             {kDead0},
             reclaim}});
}

// Nodes 0, 1 and 2 with 20 GiB available (node 1: CPUs only, when `cpu_only_1`) and `vm`,
// every 10 s for the 300 s placement.for.
std::vector<Observation> PlacementHeld(const VmBuilder& vm, bool cpu_only_1) {
  std::vector<Observation> out;
  for (int t = 0; t <= 300; t += 10) {
    ObservationBuilder b(At(t));
    b.Node(NodeBuilder(0).Available(20 * kGiB));
    b.Node(cpu_only_1 ? NodeBuilder(1).NoMemory().Total(0).Available(0) : NodeBuilder(1).Available(20 * kGiB));
    b.Node(NodeBuilder(2).Available(20 * kGiB));
    out.push_back(b.Vm(vm).Build());
  }
  return out;
}

TEST(PolicyMutantsPlacement, Moves) {
  // vCPUs on node 1, which has no memory: memory cannot go there, so pinning to node 0 (5 of 8
  // GiB) is the move, though it stays below locality_below.
  auto plan =
      DecideOn(PlacementHeld(VmBuilder("web").On({{0, 5 * kGiB}, {2, 3 * kGiB}}).Vcpus({{1, 4}}).Pid(42), true));
  EXPECT_EQ(Actions(plan), std::vector<std::string>{"pin vcpus web to node 0"}) << model::ToString(plan);
  // A VM with 1 byte resident, on node 1, and its vCPUs on node 0: all of it is on node 1.
  plan = DecideOn(PlacementHeld(VmBuilder("web").On({{1, 1}}).Vcpus({{0, 4}}), false));
  EXPECT_EQ(Actions(plan), std::vector<std::string>{"pin vcpus web to node 1"}) << model::ToString(plan);
}

}  // namespace
}  // namespace kvmem::test
