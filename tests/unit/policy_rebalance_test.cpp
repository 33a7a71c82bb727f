// balloon.rebalance: a VM under pressure on a node in the dead band gets memory from idle
// neighbours on the same node, in the same plan (shrinks first), so the node's total does not
// change. Default policy: on a 64 GiB node the band is [6.4 GiB, 12.8 GiB]; the default node has
// 9.6 GiB available, inside it. Donors keep their floor and 15% of their balloon usable
// (min_free_ratio); the recipient grows to 15% usable, by at most max_step (512 MiB).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

ControllerState CooledAt(const std::string& uuid, model::TimePoint at, uint64_t target) {
  ControllerState s;
  s.vms[uuid].last_balloon = at;
  s.vms[uuid].balloon_target = target;
  return s;
}

// db: a 6 GiB balloon of 8 GiB with nothing usable (its demand is above its balloon).
const VmBuilder kDb = VmBuilder("db").Balloon(6 * kGiB, 8 * kGiB).Usable(0);
// An idle neighbour: 8 GiB with 4 GiB usable (floor 4.71 GiB): it can give a full max_step.
const VmBuilder kApp = VmBuilder("app");

const std::string kDead =
    "node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
const std::string kDead1 =
    "node 1: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
const std::string kWhy = "usable 0% < usable_below_ratio 10%";
const std::string kNoRelease =
    "vm db: balloon.release: under pressure (" + kWhy + ") but no node it sits on is above release_above";
const std::string kNoDonor = "vm db: balloon.rebalance: under pressure (" + kWhy +
                             ") and no headroom above release_above, but no other VM on node 0 can give now";

Observation DeadBand(std::vector<VmBuilder> vms, uint64_t available = GiB(9.6), model::TimePoint at = kT0) {
  ObservationBuilder b(at);
  b.Node(NodeBuilder().Available(available));
  for (const auto& v : vms) b.Vm(v);
  return b.Build();
}

Observation TwoNodes(uint64_t avail0, uint64_t avail1, std::vector<VmBuilder> vms) {
  ObservationBuilder b;
  b.Node(NodeBuilder(0).Available(avail0)).Node(NodeBuilder(1).Available(avail1));
  for (const auto& v : vms) b.Vm(v);
  return b.Build();
}

TEST(PolicyBalloonRebalance, DeadBand) {
  Policy keep10;  // min_free_ratio below usable_below_ratio: donors keep 10% usable, not just their floor
  keep10.balloon.min_free_ratio = 0.05;
  RunTable({
      {"an idle neighbour gives, the pressured VM grows by the same",
       {DeadBand({kDb, kApp})},
       {"balloon app: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease}},
      {"no pressure: nothing moves in the dead band", {DeadBand({VmBuilder(kDb).Usable(3 * kGiB), kApp})}, {}, {kDead}},
      {"the neighbour with the most usable memory gives first",
       {DeadBand({kDb, VmBuilder("a").Usable(2 * kGiB), VmBuilder("b").Usable(5 * kGiB)})},
       {"balloon b: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease}},
      {"the grow stops where the recipient has 15% usable again",
       {DeadBand({VmBuilder(kDb).Usable(MiB(600)), kApp})},
       {"balloon app: 8 GiB -> 7.63 GiB", "balloon db: 6 GiB -> 6.37 GiB"},
       {kDead,
        "vm db: balloon.release: under pressure (usable 9.77% < usable_below_ratio 10%) but no node it sits "
        "on "
        "is above release_above"}},
      {"donors never go below their floor: a small giver is topped up by the next",
       {DeadBand({kDb, VmBuilder("a").Usable(GiB(1.5)), VmBuilder("b").Usable(GiB(1.4))})},
       {"balloon a: 8 GiB -> 7.65 GiB", "balloon b: 8 GiB -> 7.85 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease}},
      {"a donor at its floor gives nothing",
       {DeadBand({kDb, VmBuilder("app").Usable(GiB(1.2))})},
       {},
       {kDead, kNoRelease, "vm app: balloon.rebalance: floor reached: current 8 GiB, floor 8 GiB", kNoDonor}},
      {"a donor is never put under pressure, even when its floor would allow it",
       {DeadBand({kDb, VmBuilder("app").Usable(GiB(1.2))})},
       {"balloon app: 8 GiB -> 7.56 GiB", "balloon db: 6 GiB -> 6.44 GiB"},
       {kDead, kNoRelease},
       keep10},
      {"a lone VM under pressure: nobody can give", {DeadBand({kDb})}, {}, {kDead, kNoRelease, kNoDonor}},
      {"not running: never a donor",
       {DeadBand({kDb, VmBuilder(kApp).NotRunning()})},
       {},
       {kDead, kNoRelease, kNoDonor}},
  });
}

TEST(PolicyBalloonRebalance, NeverShrinksBlind) {
  RunTable({
      {"a stale donor is skipped, the next one gives",
       {DeadBand({kDb, VmBuilder(kApp).StatsAge(seconds{31}), VmBuilder("b")})},
       {"balloon b: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease, "vm app: balloon.rebalance: stats 31 s old (stale_after 30 s)"}},
      {"only a stale donor: no rebalance",
       {DeadBand({kDb, VmBuilder(kApp).StatsAge(seconds{31})})},
       {},
       {kDead, kNoRelease, "vm app: balloon.rebalance: stats 31 s old (stale_after 30 s)", kNoDonor}},
      {"a donor without stats: no rebalance",
       {DeadBand({kDb, VmBuilder(kApp).NoStats()})},
       {},
       {kDead, kNoRelease, "vm app: balloon.rebalance: stats missing", kNoDonor}},
      {"a donor whose stats have no time: no rebalance",
       {DeadBand({kDb, VmBuilder(kApp).NoStatsTime()})},
       {},
       {kDead, kNoRelease, "vm app: balloon.rebalance: stats age unknown", kNoDonor}},
      {"the recipient's own stale stats still let it grow (growing is safe)",
       {DeadBand({VmBuilder(kDb).StatsAge(seconds{600}), kApp})},
       {"balloon app: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease}},
  });
}

TEST(PolicyBalloonRebalance, MaximumCooldownAndLimits) {
  Policy one;
  one.limits.max_actions_per_cycle = 1;
  Policy two;
  two.limits.max_actions_per_cycle = 2;
  Policy gib;
  gib.limits.max_bytes_per_minute = kGiB;
  ControllerState moved768;
  moved768.moved.push_back({kT0 - seconds{30}, 768 * kMiB});
  ControllerState moved1008;
  moved1008.moved.push_back({kT0 - seconds{30}, 1008 * kMiB});
  ControllerState app_cooling = CooledAt("uuid-app", kT0 - seconds{4}, 8 * kGiB);
  RunTable({
      {"the recipient never goes above its maximum",
       {DeadBand({VmBuilder(kDb).Balloon(GiB(7.75), 8 * kGiB), kApp})},
       {"balloon app: 8 GiB -> 7.75 GiB", "balloon db: 7.75 GiB -> 8 GiB"},
       {kDead, kNoRelease}},
      {"at its maximum: virtio-mem's job, not a rebalance",
       {DeadBand({VmBuilder(kDb).Balloon(8 * kGiB, 8 * kGiB), kApp})},
       {},
       {kDead, kNoRelease}},
      {"cooldown of the recipient",
       {DeadBand({kDb, kApp})},
       {},
       {kDead, kNoRelease, "vm db: balloon.rebalance: cooldown 6 s left"},
       {},
       CooledAt("uuid-db", kT0 - seconds{4}, 6 * kGiB)},
      {"cooldown of a donor: the next one gives",
       {DeadBand({kDb, kApp, VmBuilder("b")})},
       {"balloon b: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kNoRelease, "vm app: balloon.rebalance: cooldown 6 s left"},
       {},
       app_cooling},
      {"one action left is not enough for a shrink and a grow",
       {DeadBand({kDb, kApp})},
       {},
       {kDead, kNoRelease, "vm db: limits: actions per cycle 1 (max_actions_per_cycle): 1 left, 2 needed"},
       one},
      {"max_actions_per_cycle bounds the donors, and the grow to what they give",
       {DeadBand({kDb, VmBuilder("a").Usable(GiB(1.5)), VmBuilder("b").Usable(GiB(1.4))})},
       {"balloon a: 8 GiB -> 7.65 GiB", "balloon db: 6 GiB -> 6.35 GiB"},
       {kDead, kNoRelease},
       two},
      {"max_bytes_per_minute counts the shrink and the grow",
       {DeadBand({kDb, kApp})},
       {"balloon app: 8 GiB -> 7.88 GiB", "balloon db: 6 GiB -> 6.12 GiB"},
       {kDead, kNoRelease},
       gib,
       moved768},
      {"max_bytes_per_minute used up",
       {DeadBand({kDb, kApp})},
       {},
       {kDead, kNoRelease,
        "vm db: limits: bytes per minute 1 GiB reached (1008 MiB moved or planned in the last 60 s)"},
       gib,
       moved1008},
  });
}

TEST(PolicyBalloonRebalance, ReclaimAndReleaseComeFirst) {
  RunTable({
      {"no rebalance on a node in reclaim: reclaim wins",
       {DeadBand({kDb, kApp}, 6 * kGiB)},
       {"balloon app: 8 GiB -> 7.5 GiB"},
       {"vm db: balloon.reclaim: under pressure: " + kWhy,
        "node 0: balloon.reclaim: 3.1 GiB short of the band middle 9.6 GiB after this cycle; no other VM can "
        "give now",
        kNoRelease,
        "vm db: balloon.rebalance: under pressure (" + kWhy +
            ") but node 0 is in reclaim (available 6 GiB < reclaim_below 6.4 GiB (10%)): reclaim comes "
            "first"}},
      {"a node with headroom above release_above: release grows it, nobody gives",
       {DeadBand({kDb, kApp}, 20 * kGiB)},
       {"balloon db: 6 GiB -> 6.5 GiB"},
       {}},
      {"a pressured VM on a reclaim node is never a donor elsewhere",
       {TwoNodes(6 * kGiB, GiB(9.6),
                 {VmBuilder("x").Balloon(6 * kGiB, 8 * kGiB).Usable(0),
                  VmBuilder("y").Balloon(6 * kGiB, 8 * kGiB).Usable(0).On({{1, 6 * kGiB}})})},
       {},
       {kDead1, "vm x: balloon.reclaim: under pressure: " + kWhy,
        "node 0: balloon.reclaim: 3.6 GiB short of the band middle 9.6 GiB after this cycle; no other VM can "
        "give now",
        "vm x: balloon.release: under pressure (" + kWhy + ") but no node it sits on is above release_above",
        "vm y: balloon.release: under pressure (" + kWhy + ") but no node it sits on is above release_above",
        "vm x: balloon.rebalance: under pressure (" + kWhy +
            ") but node 0 is in reclaim (available 6 GiB < reclaim_below 6.4 GiB (10%)): reclaim comes first",
        "vm x: balloon.rebalance: under pressure: " + kWhy,
        "vm y: balloon.rebalance: under pressure (" + kWhy +
            ") and no headroom above release_above, but no other VM on node 1 can give now"}},
  });
}

TEST(PolicyBalloonRebalance, NumaShares) {
  const VmBuilder db0 = VmBuilder(kDb).On({{0, 6 * kGiB}});
  RunTable({
      {"only neighbours on the same node give",
       {TwoNodes(GiB(9.6), GiB(9.6), {db0, VmBuilder("a").On({{1, 8 * kGiB}}), VmBuilder("b").On({{0, 8 * kGiB}})})},
       {"balloon b: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kDead1, kNoRelease}},
      {"a donor with half its memory on the node frees half there: the grow is what it frees",
       {TwoNodes(GiB(9.6), GiB(9.6), {db0, VmBuilder("a")})},
       {"balloon a: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.25 GiB"},
       {kDead, kDead1, kNoRelease}},
      {"a recipient on two nodes takes its share on each from that node's neighbours",
       {TwoNodes(GiB(9.6), GiB(9.6), {kDb, VmBuilder("a").On({{0, 8 * kGiB}}), VmBuilder("b").On({{1, 8 * kGiB}})})},
       {"balloon a: 8 GiB -> 7.75 GiB", "balloon b: 8 GiB -> 7.75 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead, kDead1, kNoRelease}},
      {"a recipient partly on a node with headroom takes that part from the host",
       {TwoNodes(20 * kGiB, GiB(9.6), {kDb, VmBuilder("b").On({{1, 8 * kGiB}})})},
       {"balloon b: 8 GiB -> 7.75 GiB", "balloon db: 6 GiB -> 6.5 GiB"},
       {kDead1,
        "vm db: balloon.release: under pressure (" + kWhy + ") but its nodes have no headroom above release_above"}},
  });
}

TEST(PolicyBalloonRebalance, PressureFromSwapInGrowsAFullStep) {
  const VmBuilder swapping = VmBuilder(kDb).Usable(3 * kGiB);
  const auto plan =
      DecideOn(std::vector<Observation>{DeadBand({VmBuilder(swapping).SwapIn(0), kApp}),
                                        DeadBand({VmBuilder(swapping).SwapIn(20 * kMiB), kApp}, GiB(9.6), At(10))});
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon app: 8 GiB -> 7.5 GiB", "balloon db: 6 GiB -> 6.5 GiB"}));
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(model::ReasonOf(plan.actions[1]).threshold, "balloon.pressure.swap_in_rate_above");
}

TEST(PolicyBalloonRebalance, ReasonNamesRuleSignalDonorAndRecipient) {
  const auto plan = DecideOn(DeadBand({kDb, kApp}));
  ASSERT_EQ(plan.actions.size(), 2u);
  const auto& give = model::ReasonOf(plan.actions[0]);
  const auto& take = model::ReasonOf(plan.actions[1]);
  EXPECT_EQ(give.ToString(),
            "balloon.rebalance: vm db usable 0% < usable_below_ratio 10%; node 0 available 9.6 GiB, headroom 0 B "
            "above release_above 12.8 GiB (20%); donor app usable 4 GiB, floor 4.71 GiB, gives 512 MiB to db");
  EXPECT_EQ(take.ToString(),
            "balloon.rebalance: vm db usable 0% < usable_below_ratio 10%; node 0 available 9.6 GiB, headroom 0 B "
            "above release_above 12.8 GiB (20%); +512 MiB from app 512 MiB, maximum 8 GiB");
  for (const auto* r : {&give, &take}) {
    EXPECT_EQ(r->rule, "balloon.rebalance");
    EXPECT_EQ(r->threshold, "balloon.pressure.usable_below_ratio");
    EXPECT_EQ(r->threshold_value, 0.1);
    EXPECT_NE(std::find(model::kRules.begin(), model::kRules.end(), r->rule), model::kRules.end());
  }
  EXPECT_EQ(give.observed.front(), (std::pair<std::string, double>{"recipient_guest_usable_ratio", 0.0}));
}

// Signed bytes the plan moves onto (+) or off (-) node 0 through balloons, by the VMs' shares.
double NetOnNode(const model::Plan& plan, const Observation& obs, int node) {
  double net = 0;
  for (const auto& a : plan.actions) {
    const auto& b = std::get<model::SetBalloon>(a);
    const double delta = model::AsDouble(b.to_bytes) - model::AsDouble(b.from_bytes);
    net += delta * model::NodeShare(*obs.FindVm(b.vm.uuid), node, obs);
  }
  return net;
}

TEST(PolicyBalloonRebalance, TheNodeTotalDoesNotChange) {
  Policy two;
  two.limits.max_actions_per_cycle = 2;
  const std::vector<std::pair<Observation, Policy>> cases = {
      {DeadBand({kDb, kApp}), {}},
      {DeadBand({VmBuilder(kDb).Usable(MiB(600)), kApp}), {}},
      {DeadBand({kDb, VmBuilder("a").Usable(GiB(1.5)), VmBuilder("b").Usable(GiB(1.4))}), {}},
      {DeadBand({kDb, VmBuilder("a").Usable(GiB(1.5)), VmBuilder("b").Usable(GiB(1.4))}), two},
      {DeadBand({VmBuilder(kDb).Balloon(GiB(7.75), 8 * kGiB), kApp}), {}},
      {TwoNodes(GiB(9.6), GiB(9.6), {kDb, VmBuilder("a").On({{0, 8 * kGiB}}), VmBuilder("b").On({{1, 8 * kGiB}})}), {}},
  };
  for (const auto& [obs, policy] : cases) {
    const auto plan = DecideOn(obs, {}, policy);
    SCOPED_TRACE(model::ToString(plan));
    ASSERT_GE(plan.actions.size(), 2u);
    for (const auto& n : obs.nodes) EXPECT_NEAR(NetOnNode(plan, obs, n.id), 0.0, 4096.0) << "node " << n.id;
    // Shrinks come first, the grow last.
    for (size_t i = 0; i + 1 < plan.actions.size(); ++i) EXPECT_EQ(model::Direction(plan.actions[i]), -1);
    EXPECT_EQ(model::Direction(plan.actions.back()), 1);
  }
  // A donor spread over two nodes frees on both: node 0 nets zero, node 1 only gains.
  const Observation spread = TwoNodes(GiB(9.6), GiB(9.6), {VmBuilder(kDb).On({{0, 6 * kGiB}}), VmBuilder("a")});
  const auto plan = DecideOn(spread);
  EXPECT_NEAR(NetOnNode(plan, spread, 0), 0.0, 4096.0);
  EXPECT_LT(NetOnNode(plan, spread, 1), 0.0);
}

// Node 0 has room above release_above: r gets a release, v (at its balloon maximum, under
// pressure for three cycles) a virtio-mem grow. Node 1 is in the dead band: db gets a rebalance.
std::vector<Observation> ThreeRules() {
  std::vector<Observation> out;
  for (int t = 0; t <= 4; t += 2) {
    out.push_back(ObservationBuilder(At(t))
                      .Node(NodeBuilder(0).Available(20 * kGiB))
                      .Node(NodeBuilder(1))
                      .Vm(VmBuilder("r").Balloon(6 * kGiB, 8 * kGiB).Usable(0).On({{0, 6 * kGiB}}))
                      .Vm(VmBuilder(kDb).On({{1, 6 * kGiB}}))
                      .Vm(VmBuilder(kApp).On({{1, 8 * kGiB}}))
                      .Vm(VmBuilder("v")
                              .Balloon(8 * kGiB, 8 * kGiB)
                              .Usable(GiB(0.4))
                              .On({{0, 8 * kGiB}})
                              .VirtioMem("vmem0", 0, 8 * kGiB, 128 * kMiB, kGiB, kGiB))
                      .Build());
  }
  return out;
}

TEST(PolicyBalloonRebalance, BetweenReleaseAndVirtioMemGrow) {
  EXPECT_EQ(
      Actions(DecideOn(ThreeRules())),
      (std::vector<std::string>{"balloon r: 6 GiB -> 6.5 GiB", "balloon app: 8 GiB -> 7.5 GiB",
                                "balloon db: 6 GiB -> 6.5 GiB", "virtio-mem v/vmem0: requested 1 GiB -> 1.25 GiB"}));
  Policy three;
  three.limits.max_actions_per_cycle = 3;
  auto plan = DecideOn(ThreeRules(), {}, three);
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon r: 6 GiB -> 6.5 GiB", "balloon app: 8 GiB -> 7.5 GiB",
                                                     "balloon db: 6 GiB -> 6.5 GiB"}));
  EXPECT_EQ(SkipsFor(plan, "vm v virtio-mem vmem0"),
            (std::vector<std::string>{"limits: actions per cycle 3 (max_actions_per_cycle) reached"}));
  // A rebalance that does not fit in the one slot left leaves it to the rules after it.
  Policy two;
  two.limits.max_actions_per_cycle = 2;
  plan = DecideOn(ThreeRules(), {}, two);
  EXPECT_EQ(Actions(plan), (std::vector<std::string>{"balloon r: 6 GiB -> 6.5 GiB",
                                                     "virtio-mem v/vmem0: requested 1 GiB -> 1.25 GiB"}));
  EXPECT_EQ(SkipsFor(plan, "vm db"),
            (std::vector<std::string>{
                "balloon.release: under pressure (" + kWhy + ") but no node it sits on is above release_above",
                "limits: actions per cycle 2 (max_actions_per_cycle): 1 left, 2 needed"}));
}

TEST(PolicyBalloonRebalance, Idempotent) {
  const auto window = WindowOf(ThreeRules());
  ControllerState s;
  s.moved.push_back({At(1), 100 * kMiB});
  const Policy p;
  const std::string first = model::ToString(policy::Decide(window, s, p));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(model::ToString(policy::Decide(window, s, p)), first);

  Observation obs = DeadBand({kDb, VmBuilder("a").Usable(GiB(1.5)), VmBuilder("b").Usable(GiB(1.4)), kApp});
  const auto forward = Actions(DecideOn(obs));
  std::reverse(obs.vms.begin(), obs.vms.end());
  EXPECT_EQ(Actions(DecideOn(obs)), forward);
}

TEST(PolicyBalloonRebalance, InFlightRebalanceIsNotRepeated) {
  // Two seconds after a rebalance whose targets have not landed yet: both VMs are in cooldown, so
  // the next cycle does not repeat it, although db still looks as hungry and b could give.
  ControllerState s;
  policy::ApplyOutcome(s, model::SetBalloon{{"uuid-app", "app"}, 8 * kGiB, GiB(7.5), {}}, {}, kT0 - seconds{2});
  policy::ApplyOutcome(s, model::SetBalloon{{"uuid-db", "db"}, 6 * kGiB, GiB(6.5), {}}, {}, kT0 - seconds{2});
  const auto plan = DecideOn(DeadBand({kDb, kApp, VmBuilder("b")}), s);
  EXPECT_TRUE(plan.actions.empty()) << model::ToString(plan);
  EXPECT_EQ(SkipsFor(plan, "vm db"), (std::vector<std::string>{"balloon.release: under pressure (" + kWhy +
                                                                   ") but no node it sits on is above release_above",
                                                               "balloon.rebalance: cooldown 8 s left"}));
}

}  // namespace
}  // namespace kvmem::test
