// The reclaim ladder: each node's stage from its available memory, what the balloon can still
// take, and the host's swap; and the stage each ladder lever's reason names. Default policy on a
// 64 GiB node: ksm.merge_below 12.8 GiB (20%), balloon.reclaim_below 6.4 GiB (10%).
#include <gtest/gtest.h>

#include "controller/policy/ladder.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Stage;

model::SwapObservation Swap(uint64_t total, bool zram) {
  model::SwapObservation s;
  s.total_bytes = total;
  s.free_bytes = total;
  s.zram_only = zram;
  return s;
}

struct StageRow {
  std::string name;
  uint64_t available;
  VmBuilder vm;
  std::optional<model::SwapObservation> swap;
  model::Policy policy;
  Stage want;
};

// A VM at its floor: 8 GiB, 0.5 GiB usable, so its floor (7.5 GiB / 0.85) is above its size.
VmBuilder AtFloor() { return VmBuilder().Usable(GiB(0.5)); }

model::Policy With(void (*edit)(model::Policy&)) {
  model::Policy p;
  edit(p);
  return p;
}

TEST(PolicyLadder, StageTable) {
  const std::vector<StageRow> rows = {
      {"plenty: calm", 16 * kGiB, VmBuilder(), std::nullopt, {}, Stage::kCalm},
      {"below merge_below: ksm", GiB(9.6), VmBuilder(), std::nullopt, {}, Stage::kKsm},
      {"below merge_below, KSM control off: calm", GiB(9.6), VmBuilder(), std::nullopt,
       With([](model::Policy& p) { p.ksm.enabled = false; }), Stage::kCalm},
      {"exactly merge_below: calm", 13743895347, VmBuilder(), std::nullopt, {}, Stage::kCalm},
      {"short, an idle VM can give: balloon", 6 * kGiB, VmBuilder(), Swap(8 * kGiB, true), {}, Stage::kBalloon},
      {"short, every VM at its floor, no swap: stays balloon", 6 * kGiB, AtFloor(), std::nullopt, {}, Stage::kBalloon},
      {"short, every VM at its floor, zram swap: offload",
       6 * kGiB,
       AtFloor(),
       Swap(8 * kGiB, true),
       {},
       Stage::kOffload},
      {"short, at floor, swap of 0 bytes: stays balloon", 6 * kGiB, AtFloor(), Swap(0, true), {}, Stage::kBalloon},
      {"short, at floor, disk swap not allowed: stays balloon",
       6 * kGiB,
       AtFloor(),
       Swap(8 * kGiB, false),
       {},
       Stage::kBalloon},
      {"short, at floor, disk swap allowed: swap", 6 * kGiB, AtFloor(), Swap(8 * kGiB, false),
       With([](model::Policy& p) { p.offload.allow_disk_swap = true; }), Stage::kSwap},
      {"short, at floor, zram, offload off: stays balloon", 6 * kGiB, AtFloor(), Swap(8 * kGiB, true),
       With([](model::Policy& p) { p.offload.enabled = false; }), Stage::kBalloon},
      {"short, idle VM but balloon control off, zram: offload", 6 * kGiB, VmBuilder(), Swap(8 * kGiB, true),
       With([](model::Policy& p) { p.balloon.enabled = false; }), Stage::kOffload},
      {"short, the VM's stats are stale: the balloon cannot take, zram: offload",
       6 * kGiB,
       VmBuilder().StatsAge(seconds{31}),
       Swap(8 * kGiB, true),
       {},
       Stage::kOffload},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    model::Observation obs = One(NodeBuilder().Available(r.available), {r.vm});
    obs.swap = r.swap;
    const model::Plan plan = DecideOn(obs, {}, r.policy);
    ASSERT_EQ(plan.stages.size(), 1u);
    EXPECT_EQ(plan.stages.at(0), r.want) << model::ToString(plan);
  }
}

TEST(PolicyLadder, BalloonRoomSumsWhatEachVmCanGiveTimesItsShare) {
  // web: 8 GiB, floor 4 GiB / 0.85 = 4.71 GiB, half of it on node 0; db: at its floor.
  model::Observation obs = ObservationBuilder()
                               .Node(NodeBuilder(0).Available(6 * kGiB))
                               .Node(NodeBuilder(1))
                               .Vm(VmBuilder().On({{0, 4 * kGiB}, {1, 4 * kGiB}}))
                               .Vm(AtFloor().Uuid("uuid-db").On({{0, 8 * kGiB}}))
                               .Build();
  model::Plan plan;
  const policy::Window w = WindowOf({obs});
  const policy::ControllerState state;
  const model::Policy p;
  policy::Cycle c(w, state, p, plan);
  const uint64_t floor = static_cast<uint64_t>(static_cast<double>(4 * kGiB) / 0.85);
  EXPECT_EQ(policy::BalloonRoom(c, obs.nodes[0]), (8 * kGiB - floor) / 2);
  EXPECT_EQ(policy::BalloonRoom(c, obs.nodes[1]), (8 * kGiB - floor) / 2);
}

TEST(PolicyLadder, EveryBalloonActionNamesItsStage) {
  const model::Plan plan = DecideOn(One(NodeBuilder().Available(6 * kGiB), {VmBuilder()}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).stage, Stage::kBalloon);
  EXPECT_EQ(model::ToString(plan.actions[0]).substr(0, 54), "balloon web: 8 GiB -> 7.5 GiB (stage balloon, balloon.");
  EXPECT_EQ(model::ToString(plan).substr(0, 60), "plan: 1 actions, 1 skips\n  node 0 reclaim, stage balloon\n  a");
}

TEST(PolicyLadder, StageNamesAreStable) {
  EXPECT_EQ(model::StageName(Stage::kCalm), "calm");
  EXPECT_EQ(model::StageName(Stage::kKsm), "ksm");
  EXPECT_EQ(model::StageName(Stage::kBalloon), "balloon");
  EXPECT_EQ(model::StageName(Stage::kOffload), "offload");
  EXPECT_EQ(model::StageName(Stage::kSwap), "swap");
}

}  // namespace
}  // namespace kvmem::test
