// Limits that scale with the host, anticipation from the trend of a node's available memory, and
// VM priorities: table tests of the pure decisions with fixed time.
#include <gtest/gtest.h>

#include "controller/policy/cycle.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;

Observation HostWith(int vms, uint64_t node_total, int nodes = 1) {
  ObservationBuilder b(kT0);
  for (int n = 0; n < nodes; ++n) b.Node(NodeBuilder(n).Total(node_total));
  for (int i = 0; i < vms; ++i) b.Vm(VmBuilder("vm" + std::to_string(i)));
  return b.Build();
}

TEST(PolicyScaling, ActionsPerCycleReachEveryVmOncePerCooldown) {
  const Policy p;  // interval 2 s, cooldown 10 s: a fifth of the VMs per cycle, at least 4
  EXPECT_EQ(policy::ActionsPerCycle(p, HostWith(0, 64 * kGiB)), 4);
  EXPECT_EQ(policy::ActionsPerCycle(p, HostWith(8, 64 * kGiB)), 4);
  EXPECT_EQ(policy::ActionsPerCycle(p, HostWith(21, 64 * kGiB)), 5);
  EXPECT_EQ(policy::ActionsPerCycle(p, HostWith(100, 64 * kGiB)), 20);
  Policy capped;
  capped.limits.max_actions_per_cycle = 6;
  EXPECT_EQ(policy::ActionsPerCycle(capped, HostWith(100, 64 * kGiB)), 6);
  EXPECT_EQ(policy::ActionsPerCycle(capped, HostWith(8, 64 * kGiB)), 4);  // a cap never raises it
  Policy slow;
  slow.balloon.cooldown = seconds{60};
  EXPECT_EQ(policy::ActionsPerCycle(slow, HostWith(100, 64 * kGiB)), 4);  // ceil(100 x 2 / 60)
}

TEST(PolicyScaling, BytesPerMinuteAreAShareOfTheHost) {
  const Policy p;  // 10 % of the host per minute
  EXPECT_EQ(policy::BytesPerMinute(p, HostWith(8, 64 * kGiB)), GiB(6.4));
  EXPECT_EQ(policy::BytesPerMinute(p, HostWith(52, 512 * kGiB, 2)), GiB(102.4));
  Policy capped;
  capped.limits.max_bytes_per_minute = 8 * kGiB;
  EXPECT_EQ(policy::BytesPerMinute(capped, HostWith(52, 512 * kGiB, 2)), 8 * kGiB);
  EXPECT_EQ(policy::BytesPerMinute(capped, HostWith(8, 64 * kGiB)), GiB(6.4));
}

TEST(PolicyScaling, TheLimitsTheCycleRanUnderAreInThePlan) {
  const auto plan = DecideOn(HostWith(100, 384 * kGiB));
  EXPECT_EQ(plan.actions_per_cycle, 20);
  EXPECT_EQ(plan.bytes_per_minute, GiB(38.4));
}

// One node of 64 GiB, one VM with memory to give; available memory over 62 s, one observation
// every 2 s, given by `at(t)` for t = -62 .. 0.
template <class F>
std::vector<Observation> History(F at) {
  std::vector<Observation> out;
  for (int t = -62; t <= 0; t += 2) {
    ObservationBuilder b(At(t));
    b.Node(NodeBuilder().Available(at(t)));
    b.Vm(VmBuilder("web").StatsAge(seconds{1}));
    out.push_back(b.Build());
  }
  return out;
}

TEST(PolicyAnticipation, ASustainedDeclineReclaimsBeforeTheEdge) {
  // 6.6 GiB now (reclaim_below is 6.4 GiB), falling 1.2 GiB a minute: 6.36 GiB in 12 s.
  const auto plan = DecideOn(History([](int t) { return GiB(6.6 - t / 50.0); }));
  EXPECT_EQ(plan.bands.at(0), model::Band::kReclaim);
  ASSERT_EQ(Actions(plan).size(), 1u);
  EXPECT_EQ(Actions(plan)[0], "balloon web: 8 GiB -> 7.5 GiB");
  const auto& reason = model::ReasonOf(plan.actions[0]);
  EXPECT_EQ(reason.text.rfind(
                "node 0 available 6.6 GiB, falling 1.2 GiB/min: 6.36 GiB in 12 s < reclaim_below 6.4 GiB (10%)", 0),
            0u)
      << reason.text;
}

TEST(PolicyAnticipation, WhatIsNotATrendDoesNotAct) {
  struct Row {
    const char* name;
    double (*gib_at)(int t);
  };
  const std::vector<Row> rows = {
      {"flat", [](int) { return 6.6; }},
      {"rising", [](int t) { return 6.6 + t / 60.0; }},
      {"a step 10 s ago (a reservation), flat since", [](int t) { return t < -10 ? 12.0 : 6.6; }},
      {"a step 50 s ago, flat since", [](int t) { return t < -50 ? 12.0 : 6.6; }},
      {"noise of 512 MiB around 6.8 GiB", [](int t) { return 6.8 + ((t / 2) % 2 == 0 ? 0.25 : -0.25); }},
      {"falling 1 GiB/min, still above the edge 12 s from now", [](int t) { return 6.7 - t / 60.0; }},
  };
  for (const auto& r : rows) {
    const auto plan = DecideOn(History([&](int t) { return GiB(r.gib_at(t)); }));
    EXPECT_EQ(plan.bands.at(0), model::Band::kSteady) << r.name;
    EXPECT_TRUE(plan.actions.empty()) << r.name << ": " << Actions(plan)[0];
  }
  Policy off;
  off.balloon.trend_window = seconds{0};
  EXPECT_TRUE(DecideOn(History([](int t) { return GiB(6.6 - t / 50.0); }), {}, off).actions.empty());
}

TEST(PolicyPriority, LowerPriorityGivesFirstAndHigherOnlyWhatTheyCannot) {
  // Node 0 at 4 GiB of 64 GiB: 5.6 GiB short of the band's middle.
  auto host = [](uint64_t bronze_room_floor) {
    ObservationBuilder b(kT0);
    b.Node(NodeBuilder().Available(4 * kGiB));
    b.Vm(VmBuilder("gold").Priority(100));
    b.Vm(VmBuilder("bronze").Usable(7 * kGiB).MinGuarantee(bronze_room_floor));
    return b.Build();
  };
  // bronze can give 6 GiB in time (8 GiB, floor 2 GiB; 0.5 GiB this cycle): gold is spared.
  auto plan = DecideOn(host(2 * kGiB));
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon bronze: 8 GiB -> 7.5 GiB"}));
  EXPECT_EQ(
      SkipsFor(plan, "vm gold"),
      (std::vector<std::string>{"balloon.reclaim: priority 100: VMs of lower priority can still give 5.5 GiB here"}));
  // bronze is at its floor: gold gives.
  plan = DecideOn(host(8 * kGiB));
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon gold: 8 GiB -> 7.5 GiB"}));
}

TEST(PolicyPriority, NoPriorityMeansTheOldOrder) {
  ObservationBuilder b(kT0);
  b.Node(NodeBuilder().Available(4 * kGiB));
  b.Vm(VmBuilder("a").Usable(3 * kGiB));
  b.Vm(VmBuilder("b").Usable(5 * kGiB));  // the most usable memory gives first
  EXPECT_EQ(Actions(DecideOn(b.Build())),
            (std::vector<std::string>{"balloon b: 8 GiB -> 7.5 GiB", "balloon a: 8 GiB -> 7.5 GiB"}));
}

}  // namespace
}  // namespace kvmem::test
