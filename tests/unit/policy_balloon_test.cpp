// Balloon reclaim and release: the band, the step cap, floors under extreme inputs, stale and
// missing stats, cooldown, candidate order and NUMA shares. Default policy: on a 64 GiB node the
// band is [6.4 GiB, 12.8 GiB] and reclaim aims at its middle, 9.6 GiB.
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

Policy WithStep(uint64_t step) {
  Policy p;
  p.balloon.max_step = step;
  return p;
}

ControllerState CooledAt(const std::string& uuid, model::TimePoint at, uint64_t target) {
  ControllerState s;
  s.vms[uuid].last_balloon = at;
  s.vms[uuid].balloon_target = target;
  return s;
}

const std::string kDeadBand8 =
    "node 0: balloon.reclaim: dead band: available 8 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
const std::string kShort36 =
    "node 0: balloon.reclaim: 3.6 GiB short of the band middle 9.6 GiB after this cycle; no other VM can "
    "give now";
const std::string kShort31 =
    "node 0: balloon.reclaim: 3.1 GiB short of the band middle 9.6 GiB after this cycle; no other VM can "
    "give now";

Observation Starved(const VmBuilder& vm, uint64_t available = 6 * kGiB) {
  return ObservationBuilder().Node(NodeBuilder(0).Available(available)).Vm(vm).Build();
}

TEST(PolicyBalloonReclaim, Table) {
  const VmBuilder web;
  RunTable({
      {"dead band: nothing moves",
       {ObservationBuilder().Node(NodeBuilder().Available(8 * kGiB)).Vm(web).Build()},
       {},
       {kDeadBand8}},
      {"exactly at reclaim_below is still the dead band",
       {ObservationBuilder().Node(NodeBuilder().Available(6871947673)).Vm(web).Build()},
       {},
       {"node 0: balloon.reclaim: dead band: available 6.4 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]"}},
      {"step cap: at most max_step per VM per cycle", {Starved(web)}, {"balloon web: 8 GiB -> 7.5 GiB"}, {kShort31}},
      {"a large step aims at the band middle, not the edge",
       {Starved(VmBuilder("web").Usable(7 * kGiB))},
       {"balloon web: 8 GiB -> 4.4 GiB"},
       {},
       WithStep(8 * kGiB)},
      {"floor: the guest keeps min_free_ratio of its memory free",
       {Starved(web)},
       {"balloon web: 8 GiB -> 4.71 GiB"},
       {"node 0: balloon.reclaim: 313.4 MiB short of the band middle 9.6 GiB after this cycle; no other VM "
        "can give now"},
       WithStep(8 * kGiB)},
      {"floor reached: used / (1 - min_free_ratio) is the whole VM",
       {Starved(VmBuilder("web").Usable(GiB(1.2)))},
       {},
       {"vm web: balloon.reclaim: floor reached: current 8 GiB, floor 8 GiB", kShort36}},
      {"floor: min_guarantee wins when higher",
       {Starved(VmBuilder("web").Usable(7 * kGiB).MinGuarantee(GiB(7.5)))},
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {kShort31},
       WithStep(8 * kGiB)},
      {"floor: min_guest on a small VM",
       {Starved(VmBuilder("web").Balloon(MiB(600), MiB(600)).Usable(MiB(500)))},
       {"balloon web: 600 MiB -> 512 MiB"},
       {"node 0: balloon.reclaim: 3.51 GiB short of the band middle 9.6 GiB after this cycle; no other VM "
        "can give now"}},
      {"extreme: guest used above the balloon size",
       {Starved(VmBuilder("web").GuestAvailable(100 * kGiB).Usable(50 * kGiB))},
       {},
       {"vm web: balloon.reclaim: floor reached: current 8 GiB, floor 58.82 GiB", kShort36}},
      {"extreme: usable above available counts as nothing used",
       {Starved(VmBuilder("web").GuestAvailable(4 * kGiB).Usable(6 * kGiB))},
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {kShort31}},
      {"extreme: a zero-sized VM",
       {Starved(VmBuilder("web").Balloon(0, 0).Usable(0).Unused(0))},
       {},
       {"vm web: balloon.reclaim: floor reached: current 0 B, floor 512 MiB", kShort36}},
      {"stale stats: never shrink",
       {Starved(VmBuilder("web").StatsAge(seconds{31}))},
       {},
       {"vm web: balloon.reclaim: stats 31 s old (stale_after 30 s)", kShort36}},
      {"stats exactly stale_after old are still usable",
       {Starved(VmBuilder("web").StatsAge(seconds{30}))},
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {kShort31}},
      {"missing stats: never shrink",
       {Starved(VmBuilder("web").NoStats())},
       {},
       {"vm web: balloon.reclaim: stats missing", kShort36}},
      {"stats of unknown age: never shrink",
       {Starved(VmBuilder("web").NoStatsTime())},
       {},
       {"vm web: balloon.reclaim: stats age unknown", kShort36}},
      {"cooldown",
       {Starved(web)},
       {},
       {"vm web: balloon.reclaim: cooldown 6 s left", kShort36},
       {},
       CooledAt("uuid-web", kT0 - seconds{4}, 8 * kGiB)},
      {"cooldown over",
       {Starved(web)},
       {"balloon web: 8 GiB -> 7.5 GiB"},
       {kShort31},
       {},
       CooledAt("uuid-web", kT0 - seconds{10}, 8 * kGiB)},
      {"under pressure: never reclaimed",
       {Starved(VmBuilder("web").Usable(MiB(512)))},
       {},
       {"vm web: balloon.reclaim: under pressure: usable 6.25% < usable_below_ratio 10%", kShort36,
        "vm web: balloon.release: under pressure (usable 6.25% < usable_below_ratio 10%) but no node it sits "
        "on is "
        "above release_above"}},
      {"not running: ignored", {Starved(VmBuilder("web").NotRunning())}, {}, {kShort36}},
  });
}

TEST(PolicyBalloonReclaim, PriorityOrder) {
  RunTable({
      {"the VM with the most usable memory goes first",
       {ObservationBuilder()
            .Node(NodeBuilder().Available(6 * kGiB))
            .Vm(VmBuilder("a").Usable(2 * kGiB))
            .Vm(VmBuilder("b").Usable(6 * kGiB))
            .Build()},
       {"balloon b: 8 GiB -> 4.4 GiB"},
       {},
       WithStep(8 * kGiB)},
      {"ties go by uuid; each VM gives at most one step",
       {ObservationBuilder().Node(NodeBuilder().Available(6 * kGiB)).Vm(VmBuilder("b")).Vm(VmBuilder("a")).Build()},
       {"balloon a: 8 GiB -> 7.5 GiB", "balloon b: 8 GiB -> 7.5 GiB"},
       {"node 0: balloon.reclaim: 2.6 GiB short of the band middle 9.6 GiB after this cycle; no other VM can "
        "give now"}},
  });
}

Observation TwoNodes(uint64_t avail0, uint64_t avail1, std::vector<VmBuilder> vms) {
  ObservationBuilder b;
  b.Node(NodeBuilder(0).Available(avail0)).Node(NodeBuilder(1).Available(avail1));
  for (const auto& v : vms) b.Vm(v);
  return b.Build();
}

TEST(PolicyBalloonReclaim, NumaShares) {
  const std::string dead1 =
      "node 1: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
  const VmBuilder spread = VmBuilder("a").Usable(GiB(7.5));
  RunTable({
      {"only VMs with memory on the starved node",
       {TwoNodes(6 * kGiB, GiB(9.6), {VmBuilder("a").On({{1, 8 * kGiB}}), VmBuilder("b").On({{0, 8 * kGiB}})})},
       {"balloon b: 8 GiB -> 7.5 GiB"},
       {dead1, kShort31}},
      {"a half share frees half on the node: the step doubles",
       {TwoNodes(6 * kGiB, GiB(9.6), {VmBuilder(spread).On({{0, 4 * kGiB}, {1, 4 * kGiB}})})},
       {"balloon a: 8 GiB -> 819 MiB"},
       {dead1},
       WithStep(8 * kGiB)},
      {"unknown residency: an even split",
       {TwoNodes(6 * kGiB, GiB(9.6), {spread})},
       {"balloon a: 8 GiB -> 819 MiB"},
       {dead1},
       WithStep(8 * kGiB)},
      {"a CPU-only node takes no share",
       {ObservationBuilder()
            .Node(NodeBuilder(0).Available(6 * kGiB))
            .Node(NodeBuilder(1))
            .Node(NodeBuilder(2).NoMemory())
            .Vm(spread)
            .Build()},
       {"balloon a: 8 GiB -> 819 MiB"},
       {dead1},
       WithStep(8 * kGiB)},
      {"two starved nodes: the more starved first, each VM used once",
       {TwoNodes(6 * kGiB, 5 * kGiB, {VmBuilder("a")})},
       {"balloon a: 8 GiB -> 7.5 GiB"},
       {"node 1: balloon.reclaim: 4.35 GiB short of the band middle 9.6 GiB after this cycle; no other VM "
        "can give now",
        "node 0: balloon.reclaim: 3.35 GiB short of the band middle 9.6 GiB after this cycle; no other VM "
        "can give now"}},
  });
}

TEST(PolicyBalloonReclaim, HugeValuesDoNotWrap) {
  const auto plan =
      DecideOn(Starved(VmBuilder("web").Balloon(UINT64_MAX, UINT64_MAX).GuestAvailable(UINT64_MAX).Usable(UINT64_MAX)));
  ASSERT_EQ(plan.actions.size(), 1u) << model::ToString(plan);
  const auto& a = std::get<model::SetBalloon>(plan.actions[0]);
  EXPECT_EQ(a.from_bytes, UINT64_MAX);
  EXPECT_EQ(a.to_bytes, UINT64_MAX - 512 * kMiB);
}

TEST(PolicyBalloonReclaim, ReasonNamesRuleThresholdAndValues) {
  const auto plan = DecideOn(Starved(VmBuilder("web-1")));
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& r = model::ReasonOf(plan.actions[0]);
  EXPECT_EQ(r.ToString(),
            "balloon.reclaim: node 0 available 6 GiB < reclaim_below 6.4 GiB (10%); vm web-1 usable 4 GiB, "
            "floor 4.71 GiB, step 512 MiB");
  EXPECT_EQ(r.threshold, "balloon.reclaim_below");
  EXPECT_EQ(r.threshold_value, 6871947673.0);
  EXPECT_EQ(r.observed.front(), (std::pair<std::string, double>{"available_bytes", 6.0 * kGiB}));
}

Observation Rich(uint64_t available, std::vector<VmBuilder> vms, model::TimePoint at = kT0) {
  ObservationBuilder b(at);
  b.Node(NodeBuilder().Available(available));
  for (const auto& v : vms) b.Vm(v);
  return b.Build();
}

TEST(PolicyBalloonRelease, Table) {
  const VmBuilder hungry = VmBuilder("web").Balloon(8 * kGiB, 16 * kGiB).Usable(MiB(512));
  const std::string why = "under pressure (usable 6.25% < usable_below_ratio 10%)";
  RunTable({
      {"release to a VM under pressure", {Rich(20 * kGiB, {hungry})}, {"balloon web: 8 GiB -> 8.5 GiB"}, {}},
      {"no pressure, no release", {Rich(20 * kGiB, {VmBuilder("web").Balloon(8 * kGiB, 16 * kGiB)})}, {}, {}},
      {"release stops at the balloon maximum",
       {Rich(20 * kGiB, {VmBuilder(hungry).Balloon(GiB(15.75), 16 * kGiB)})},
       {"balloon web: 15.75 GiB -> 16 GiB"},
       {}},
      {"at the maximum: said so",
       {Rich(20 * kGiB, {VmBuilder(hungry).Balloon(8 * kGiB, 8 * kGiB)})},
       {},
       {"vm web: balloon.release: " + why + " but at balloon maximum 8 GiB"}},
      {"release gives at most available - release_above",
       {Rich(13 * kGiB, {hungry})},
       {"balloon web: 8 GiB -> 8.2 GiB"},
       {}},
      {"lowest usable ratio first",
       {Rich(20 * kGiB, {VmBuilder(hungry).Uuid("uuid-a").Usable(MiB(600)),
                         VmBuilder("b").Balloon(8 * kGiB, 16 * kGiB).Usable(MiB(200))})},
       {"balloon b: 8 GiB -> 8.5 GiB", "balloon web: 8 GiB -> 8.5 GiB"},
       {}},
      {"stale stats may still grow a VM",
       {Rich(20 * kGiB, {VmBuilder(hungry).StatsAge(seconds{600})})},
       {"balloon web: 8 GiB -> 8.5 GiB"},
       {}},
      {"cooldown",
       {Rich(20 * kGiB, {hungry})},
       {},
       {"vm web: balloon.release: cooldown 9 s left"},
       {},
       CooledAt("uuid-web", kT0 - seconds{1}, 8 * kGiB)},
      {"a node in the dead band gives nothing (and no other VM can: see policy_rebalance_test)",
       {Rich(GiB(9.6), {hungry})},
       {},
       {"node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]",
        "vm web: balloon.release: " + why + " but no node it sits on is above release_above",
        "vm web: balloon.rebalance: " + why +
            " and no headroom above release_above, but no other VM on node 0 can give now"}},
      {"NUMA: growth is bounded on every node the VM sits on",
       {TwoNodes(20 * kGiB, 13 * kGiB, {hungry})},
       {"balloon web: 8 GiB -> 8.4 GiB"},
       {}},
      {"NUMA: a VM partly on a dead-band node is not grown",
       {TwoNodes(20 * kGiB, GiB(9.6), {hungry})},
       {},
       {"node 1: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]",
        "vm web: balloon.release: " + why + " but its nodes have no headroom above release_above",
        "vm web: balloon.rebalance: " + why +
            " and no headroom above release_above, but no other VM on its nodes can give now"}},
  });
}

TEST(PolicyBalloonRelease, PressureFromRates) {
  const VmBuilder calm = VmBuilder("web").Balloon(8 * kGiB, 16 * kGiB);
  RunTable({
      {"swap-in above 1 MiB/s",
       {Rich(20 * kGiB, {VmBuilder(calm).SwapIn(0)}), Rich(20 * kGiB, {VmBuilder(calm).SwapIn(20 * kMiB)}, At(10))},
       {"balloon web: 8 GiB -> 8.5 GiB"},
       {}},
      {"swap-in just at the threshold is not pressure",
       {Rich(20 * kGiB, {VmBuilder(calm).SwapIn(0)}), Rich(20 * kGiB, {VmBuilder(calm).SwapIn(10 * kMiB)}, At(10))},
       {},
       {}},
      {"major faults above 100/s",
       {Rich(20 * kGiB, {VmBuilder(calm).MajorFaults(0)}),
        Rich(20 * kGiB, {VmBuilder(calm).MajorFaults(2000)}, At(10))},
       {"balloon web: 8 GiB -> 8.5 GiB"},
       {}},
      {"a counter reset (guest reboot) is not pressure",
       {Rich(20 * kGiB, {VmBuilder(calm).SwapIn(100 * kMiB)}), Rich(20 * kGiB, {VmBuilder(calm).SwapIn(0)}, At(10))},
       {},
       {}},
      {"equal usable ratio: the higher swap-in rate first",
       {Rich(20 * kGiB,
             {VmBuilder(calm).Uuid("uuid-a").SwapIn(0), VmBuilder("b").Balloon(8 * kGiB, 16 * kGiB).SwapIn(0)}),
        Rich(20 * kGiB,
             {VmBuilder(calm).Uuid("uuid-a").SwapIn(20 * kMiB),
              VmBuilder("b").Balloon(8 * kGiB, 16 * kGiB).SwapIn(40 * kMiB)},
             At(10))},
       {"balloon b: 8 GiB -> 8.5 GiB", "balloon web: 8 GiB -> 8.5 GiB"},
       {}},
  });
}

}  // namespace
}  // namespace kvmem::test
