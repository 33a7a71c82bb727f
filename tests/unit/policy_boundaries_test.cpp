// Decisions exactly at their thresholds, and inputs the other tables never
// feed: a cooldown with 1 ms left or ending now, a VM exactly min_step above
// its floor, a node short by exactly min_step, a clamped min_free_ratio, a
// counter missing from an older cycle, pools of odd page sizes. Each row kills
// a mutant that scripts/mutate-policy.py found surviving (docs/testing.md).
#include <gtest/gtest.h>

#include "controller/policy/state.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

constexpr model::Duration kMs{1};
constexpr uint64_t k2M = 2 * kMiB;

ControllerState BalloonAt(const std::string& uuid, model::TimePoint at, uint64_t target) {
  ControllerState s;
  s.vms[uuid].last_balloon = at;
  s.vms[uuid].balloon_target = target;
  return s;
}

Policy With(const std::function<void(Policy&)>& f) {
  Policy p;
  f(p);
  return p;
}

const std::string kShort36 =
    "node 0: balloon.reclaim: 3.6 GiB short of the band middle 9.6 GiB after "
    "this cycle; no other VM can "
    "give now";
const std::string kDead0 =
    "node 0: balloon.reclaim: dead band: available 9.6 "
    "GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";

TEST(PolicyBoundaries, Balloon) {
  const Observation starved = One(NodeBuilder().Available(6 * kGiB), {VmBuilder("web")});
  const VmBuilder hungry = VmBuilder("web").Balloon(8 * kGiB, 16 * kGiB).Usable(MiB(512));
  // 100 GiB: band [10 GiB, 20 GiB], middle 15 GiB; 9 GiB available is 6 GiB
  // short.
  const NodeBuilder hundred = NodeBuilder().Total(100 * kGiB).Available(9 * kGiB);
  const Policy big_step = With([](Policy& p) { p.balloon.max_step = 8 * kGiB; });
  RunTable({
      {"reclaim: a cooldown with 1 ms left still holds",
       {starved},
       {},
       {"vm web: balloon.reclaim: cooldown 0 s left", kShort36},
       {},
       BalloonAt("uuid-web", kT0 - seconds{10} + kMs, 8 * kGiB)},
      {"release: a cooldown with 1 ms left still holds",
       {One(NodeBuilder().Available(20 * kGiB), {hungry})},
       {},
       {"vm web: balloon.release: cooldown 0 s left"},
       {},
       BalloonAt("uuid-web", kT0 - seconds{10} + kMs, 8 * kGiB)},
      {"exactly min_step above the floor: that step is still taken",
       {One(NodeBuilder().Available(6 * kGiB), {VmBuilder("web").Usable(GiB(7.5)).MinGuarantee(8 * kGiB - 16 * kMiB)})},
       {"balloon web: 8 GiB -> 7.98 GiB"},
       {"node 0: balloon.reclaim: 3.58 GiB short of the band middle 9.6 GiB "
        "after this cycle; no other VM can "
        "give now"}},
      {"a node left short by exactly min_step says so",
       {One(hundred, {VmBuilder("web").Usable(GiB(7.5)).MinGuarantee(2 * kGiB + 16 * kMiB)})},
       {"balloon web: 8 GiB -> 2.02 GiB"},
       {"node 0: balloon.reclaim: 16 MiB short of the band middle 15 GiB after "
        "this cycle; no other VM can "
        "give now"},
       big_step},
      {"a node left short by less than min_step is quiet",
       {One(hundred, {VmBuilder("web").Usable(GiB(7.5)).MinGuarantee(2 * kGiB + 15 * kMiB)})},
       {"balloon web: 8 GiB -> 2.01 GiB"},
       {},
       big_step},
      {"min_free_ratio is clamped to 0.99: floor = used x 100 = 4000 MiB",
       {One(NodeBuilder().Available(kGiB), {VmBuilder("web").Usable(8 * kGiB - 40 * kMiB)})},
       {"balloon web: 8 GiB -> 3.91 GiB"},
       {"node 0: balloon.reclaim: 4.51 GiB short of the band middle 9.6 GiB "
        "after this cycle; no other VM can "
        "give now"},
       With([](Policy& p) {
         p.balloon.min_free_ratio = 1.0;
         p.balloon.max_step = 8 * kGiB;
       })},
  });
}

TEST(PolicyBoundaries, RatesNeedTheCounterInBothCycles) {
  const VmBuilder calm = VmBuilder("web").Balloon(8 * kGiB, 16 * kGiB);
  const NodeBuilder rich = NodeBuilder().Available(20 * kGiB);
  RunTable({
      {"the VM is new in this cycle: no rate, no pressure",
       {One(rich), One(rich, {VmBuilder(calm).SwapIn(20 * kMiB)}, 10)},
       {},
       {}},
      {"the counter was missing a cycle ago: no rate, no pressure",
       {One(rich, {calm}), One(rich, {VmBuilder(calm).SwapIn(20 * kMiB)}, 10)},
       {},
       {}},
  });
}

TEST(PolicyBoundaries, Compaction) {
  const std::vector<Observation> fragmented = Held(60, NodeBuilder().Available(GiB(9.6)).Frag(0.8));
  ControllerState once;
  once.compaction[0].last = At(60 - 400);
  once.compaction[0].fruitless = 1;
  RunTable({
      {"one fruitless run already doubles the cooldown, and says so",
       fragmented,
       {},
       {kDead0,
        "node 0: compaction.fragmentation: cooldown 200 s left (backed "
        "off to 600 s after 1 runs without "
        "improvement)"},
       {},
       once},
  });
}

TEST(PolicyBoundaries, Hugepages) {
  const Policy headroom = With([](Policy& p) { p.hugepages.headroom = kGiB; });
  const Policy reclaim = With([](Policy& p) {
    p.hugepages.reclaim = true;
    p.hugepages.reclaim_after = seconds{60};
    p.hugepages.max_step = 512 * kMiB;
  });
  RunTable({
      {"a VM shut off without autostart does not earn its pool headroom",
       {One(NodeBuilder().Pool(kGiB, 0, 0), {VmBuilder("db").Stopped(false).Hugepages(0, kGiB, kGiB)})},
       {},
       {kDead0},
       headroom},
      {"a running VM does earn it",
       {One(NodeBuilder().Pool(kGiB, 0, 0), {VmBuilder("db").Hugepages(0, kGiB, kGiB)})},
       {"hugepages node 0 1 GiB: 0 -> 1 pages"},
       {kDead0},
       headroom},
      {"reclaim: a max_step below one page still gives one page back",
       Held(60, NodeBuilder().Pool(kGiB, 2, 2)),
       {"hugepages node 0 1 GiB: 2 -> 1 pages"},
       {kDead0},
       reclaim},
      {"a pool of 0-byte pages (a broken sysfs) is left alone",
       Held(60, NodeBuilder().Pool(0, 5, 5)),
       {},
       {kDead0},
       reclaim},
  });
}

// Two nodes with 20 GiB available each and `vm`, every 10 s for the 300 s
// placement.for.
std::vector<Observation> TwoNodesHeld(const VmBuilder& vm) {
  std::vector<Observation> out;
  for (int t = 0; t <= 300; t += 10) {
    out.push_back(ObservationBuilder(At(t))
                      .Node(NodeBuilder(0).Available(20 * kGiB))
                      .Node(NodeBuilder(1).Available(20 * kGiB))
                      .Vm(vm)
                      .Build());
  }
  return out;
}

TEST(PolicyBoundaries, PlacementCooldownEndingNowIsOver) {
  const std::vector<Observation> held =
      TwoNodesHeld(VmBuilder("web").On({{0, kGiB}, {1, 7 * kGiB}}).Vcpus({{0, 4}}).Pid(4242));
  ControllerState moved;
  moved.placement_moves["uuid-web"] = At(300 - 1800);
  const model::Plan plan = DecideOn(held, moved);
  EXPECT_EQ(Actions(plan), std::vector<std::string>{"pin vcpus web to node 1"}) << model::ToString(plan);
}

TEST(PolicyBoundaries, PinningThatDoesNotRaiseLocalityIsNoMove) {
  // Half the memory on each node, the vCPUs on node 1, the QEMU pid unknown
  // (memory cannot move): pinning to node 0 (the lower id of the tie) would
  // leave locality at 0.5.
  const std::vector<Observation> held =
      TwoNodesHeld(VmBuilder("web").On({{0, 4 * kGiB}, {1, 4 * kGiB}}).Vcpus({{1, 4}}));
  const model::Plan plan = DecideOn(held);
  EXPECT_EQ(Actions(plan), std::vector<std::string>{}) << model::ToString(plan);
  EXPECT_EQ(SkipsFor(plan, "vm web"), std::vector<std::string>{"placement.memory: locality 0.5 < "
                                                               "locality_below 0.8 for 300 s; 4 GiB of 8 GiB "
                                                               "on node 0, most vCPUs on node 1; no move "
                                                               "helps: memory cannot move (its QEMU "
                                                               "process is unknown)"});
}

TEST(PolicyBoundaries, ShortfallCauseAtTheCompactionThreshold) {
  model::ResizeHugepagePool action{0, k2M, 0, 512, {}};
  model::Outcome outcome;
  outcome.pages_obtained = 300;
  outcome.error = "obtained 300 of 512 pages";
  action.reason.observed = {{"fragmentation_index", 0.5}};
  EXPECT_EQ(policy::ShortfallCause(action, outcome), "no_memory");
  action.reason.observed = {{"fragmentation_index", 0.51}};
  EXPECT_EQ(policy::ShortfallCause(action, outcome), "fragmented");
}

TEST(PolicyBoundaries, WindowRatePastTheEndAsksForNoSample) {
  const policy::Window w = WindowOf({ObservationBuilder(At(0)).Build(), ObservationBuilder(At(10)).Build()});
  std::vector<size_t> asked;
  const auto sample = [&](size_t j) -> std::optional<double> {
    asked.push_back(j);
    return 1.0;
  };
  EXPECT_EQ(w.Rate(w.size(), seconds{60}, sample, model::Duration{0}), std::nullopt);
  EXPECT_EQ(asked, std::vector<size_t>{});
  EXPECT_EQ(w.Rate(1, seconds{60}, sample, model::Duration{0}), 0.0);
}

TEST(PolicyBoundaries, WindowFindVmPastTheEnd) {
  const policy::Window w = WindowOf({ObservationBuilder().Vm(VmBuilder("web")).Build()});
  EXPECT_NE(w.FindVm(0, "uuid-web"), nullptr);
  EXPECT_EQ(w.FindVm(1, "uuid-web"), nullptr);
  EXPECT_EQ(w.FindVm(2, "uuid-web"), nullptr);
}

}  // namespace
}  // namespace kvmem::test
