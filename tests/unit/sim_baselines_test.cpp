// The simulator's baselines reproduce their published step sizes and periods: MOM's 15 s
// period, 10-sample average, 5 % shrink and grow caps and its floors; Proxmox's 10 s period,
// 100 MiB cap, 10 MiB dead band and shares. And the run loop calls each controller at its own
// period, kvmem at its policy's interval.
#include <gtest/gtest.h>

#include "bench/sim/controller.h"
#include "bench/sim/run.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using sim::MakeMom;
using sim::MakeProxmox;

// One node of `total` with `free` available, and `vms`.
model::Observation Host(uint64_t free, std::vector<VmBuilder> vms, uint64_t total = 64 * kGiB) {
  ObservationBuilder b(kT0);
  b.Node(NodeBuilder().Total(total).Available(free));
  for (auto& v : vms) b.Vm(v);
  return b.Build();
}

// The single balloon change of a cycle, by value: the actions are a temporary.
model::SetBalloon Only(const std::vector<model::Action>& actions) {
  EXPECT_EQ(actions.size(), 1u);
  return actions.empty() ? model::SetBalloon{} : std::get<model::SetBalloon>(actions[0]);
}

TEST(SimMom, ShrinksAtMostFivePercentPerCycle) {
  auto mom = MakeMom();
  EXPECT_EQ(mom->Period(), seconds{15});
  // 10 % free: pressure. The guest uses 1 GiB of 8: its floor is far below, the cap binds.
  const auto& a = Only(mom->Cycle(Host(GiB(6.4), {VmBuilder().Unused(7 * kGiB)})));
  EXPECT_EQ(a.to_bytes, 8160437862u);  // 0.95 x 8 GiB
}

TEST(SimMom, ShrinksNoFurtherThanUsedPlusScaledFreeShare) {
  auto mom = MakeMom();
  // 10 % free: the guest keeps 20 % x 10 / 20 = 10 % of its balloon free above its 7 GiB use.
  const auto& a = Only(mom->Cycle(Host(GiB(6.4), {VmBuilder().Unused(kGiB).MinGuarantee(kGiB)})));
  EXPECT_EQ(a.to_bytes, GiB(7.8));
}

TEST(SimMom, CriticalPressureTargetsBelowUsage) {
  auto mom = MakeMom();
  // 4 % free: the free share is 4 % - 5 % = -1 %, so a guest using all of its 8 GiB gets a
  // target 1 % below its usage (7.92 GiB, within the 5 % cap).
  const auto& a = Only(mom->Cycle(Host(GiB(2.56), {VmBuilder().Unused(0).MinGuarantee(kGiB)})));
  EXPECT_EQ(a.to_bytes, GiB(8 * 0.99));
  EXPECT_LT(a.to_bytes, 8 * kGiB);
}

TEST(SimMom, GrowsFivePercentWithoutPressureUpToTheMaximum) {
  auto mom = MakeMom();
  // 30 % free: no pressure. Used 1 GiB + 20 % of 8 GiB = 2.6 GiB is below 4.2 GiB.
  EXPECT_EQ(Only(mom->Cycle(Host(GiB(19.2), {VmBuilder().Balloon(4 * kGiB, 8 * kGiB).Unused(3 * kGiB)}))).to_bytes,
            GiB(4.2));
  auto near = MakeMom();
  EXPECT_EQ(Only(near->Cycle(Host(GiB(19.2), {VmBuilder().Balloon(GiB(7.9), 8 * kGiB).Unused(kGiB)}))).to_bytes,
            8 * kGiB);
  EXPECT_TRUE(near->Cycle(Host(GiB(19.2), {VmBuilder().Unused(kGiB)})).empty());  // at its maximum
}

TEST(SimMom, AveragesHostFreeOverTenSamples) {
  auto mom = MakeMom();
  const VmBuilder vm = VmBuilder().Balloon(6 * kGiB, 8 * kGiB).Unused(3 * kGiB);
  for (int i = 0; i < 10; ++i) mom->Cycle(Host(GiB(19.2), {vm}));  // 30 % free
  // Now 12 % free. The mean of ten samples falls below 20 % with the sixth such sample:
  // (5 x 30 % + 5 x 12 %) / 10 = 21 %, (4 x 30 % + 6 x 12 %) / 10 = 19.2 %.
  for (int i = 1; i <= 5; ++i) {
    const auto& a = Only(mom->Cycle(Host(GiB(7.68), {vm})));
    EXPECT_GT(a.to_bytes, a.from_bytes) << "cycle " << i << " still grows";
  }
  EXPECT_LT(Only(mom->Cycle(Host(GiB(7.68), {vm}))).to_bytes, 6 * kGiB);
}

TEST(SimMom, SkipsGuestsWithoutStatsAndIgnoresTheirAge) {
  auto mom = MakeMom();
  const auto actions =
      mom->Cycle(Host(GiB(6.4), {VmBuilder("a").NoStats(), VmBuilder("b").Unused(7 * kGiB).StatsAge(seconds{600})}));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(std::get<model::SetBalloon>(actions[0]).vm.name, "b");  // ten-minute-old stats, used anyway
}

// Proxmox sees MemAvailable; guests "idle" with free > 25 % of their minimum.
VmBuilder Pve(const std::string& name, uint64_t cur, uint64_t unused) {
  return VmBuilder(name).Balloon(cur, 8 * kGiB).Unused(unused).MinGuarantee(2 * kGiB);
}

TEST(SimProxmox, StepsAtMostOneHundredMiBPerVm) {
  auto pve = MakeProxmox();
  EXPECT_EQ(pve->Period(), seconds{10});
  // 90 % used: goal -6.4 GiB, far more than three VMs can give in one cycle.
  const auto actions = pve->Cycle(
      Host(GiB(6.4), {Pve("a", 8 * kGiB, 4 * kGiB), Pve("b", 8 * kGiB, 4 * kGiB), Pve("c", 8 * kGiB, 4 * kGiB)}));
  ASSERT_EQ(actions.size(), 3u);
  for (const auto& a : actions) EXPECT_EQ(std::get<model::SetBalloon>(a).to_bytes, 8 * kGiB - 100 * kMiB);
}

// 80 % of 80 GiB is a whole number of bytes, so goals are exact.
constexpr uint64_t kPveTotal = 80 * kGiB;
constexpr uint64_t kAtTarget = 16 * kGiB;  // available when 80 % is used

TEST(SimProxmox, DeadBandOfTenMiB) {
  auto pve = MakeProxmox();
  EXPECT_TRUE(pve->Cycle(Host(kAtTarget + 10 * kMiB, {Pve("a", 6 * kGiB, 0)}, kPveTotal)).empty());
  EXPECT_TRUE(pve->Cycle(Host(kAtTarget - 10 * kMiB, {Pve("a", 6 * kGiB, 4 * kGiB)}, kPveTotal)).empty());
  const auto& grow = Only(pve->Cycle(Host(kAtTarget + 11 * kMiB, {Pve("a", 6 * kGiB, 0)}, kPveTotal)));
  EXPECT_EQ(grow.to_bytes, 6 * kGiB + 11 * kMiB);
  const auto& shrink = Only(pve->Cycle(Host(kAtTarget - 11 * kMiB, {Pve("a", 6 * kGiB, 4 * kGiB)}, kPveTotal)));
  EXPECT_EQ(shrink.to_bytes, 6 * kGiB - 11 * kMiB);
}

TEST(SimProxmox, GrowsBusyVmsFirstBySharesAndShrinksIdleOnes) {
  auto pve = MakeProxmox({}, {{"uuid-a", 1024}, {"uuid-b", 2048}});
  // Goal +30 MiB: the busy VMs a and b (no free memory) share it 1:2 on top of their
  // allocations above the minimum (1 and 2 GiB, already 1:2); the idle VM c gets nothing.
  const auto grow = pve->Cycle(Host(
      kAtTarget + 30 * kMiB, {Pve("a", 3 * kGiB, 0), Pve("b", 4 * kGiB, 0), Pve("c", 6 * kGiB, 4 * kGiB)}, kPveTotal));
  ASSERT_EQ(grow.size(), 2u);
  EXPECT_EQ(std::get<model::SetBalloon>(grow[0]).to_bytes, 3 * kGiB + 10 * kMiB);
  EXPECT_EQ(std::get<model::SetBalloon>(grow[1]).to_bytes, 4 * kGiB + 20 * kMiB);
  // Goal -50 MiB: only the idle VM gives.
  const auto& shrink =
      Only(pve->Cycle(Host(kAtTarget - 50 * kMiB, {Pve("a", 3 * kGiB, 0), Pve("c", 6 * kGiB, 4 * kGiB)}, kPveTotal)));
  EXPECT_EQ(shrink.vm.name, "c");
  EXPECT_EQ(shrink.to_bytes, 6 * kGiB - 50 * kMiB);
}

// Counts the cycles of a controller inside a run.
class Counting : public sim::Controller {
 public:
  explicit Counting(std::unique_ptr<sim::Controller> inner) : inner_(std::move(inner)) {}
  std::string Name() const override { return inner_->Name(); }
  model::Duration Period() const override { return inner_->Period(); }
  std::vector<model::Action> Cycle(const model::Observation& obs) override {
    times.push_back(obs.time);
    return inner_->Cycle(obs);
  }
  std::vector<model::TimePoint> times;

 private:
  std::unique_ptr<sim::Controller> inner_;
};

TEST(SimRun, DrivesEachControllerAtItsOwnPeriod) {
  sim::Scenario sc;
  sc.duration = seconds{60};
  sc.nodes = {{0, 16 * kGiB, {}}};
  sc.vms = {{"a", 4 * kGiB, 4 * kGiB, kGiB, 1000, {}, {}, {}, seconds{5}, {}}};
  Counting mom(MakeMom()), pve(MakeProxmox()), kvmem(sim::MakeKvmem(model::Policy{}));
  sim::Run(sc, mom);
  sim::Run(sc, pve);
  sim::Run(sc, kvmem);
  // First look half a period in, then one per period.
  EXPECT_EQ(mom.times.size(), 4u);
  EXPECT_EQ(mom.times[1] - mom.times[0], seconds{15});
  EXPECT_EQ(mom.times[0], model::TimePoint{std::chrono::milliseconds{7500}});
  EXPECT_EQ(pve.times.size(), 6u);
  EXPECT_EQ(pve.times[1] - pve.times[0], seconds{10});
  EXPECT_EQ(kvmem.times.size(), 30u);
}

}  // namespace
}  // namespace kvmem::test
