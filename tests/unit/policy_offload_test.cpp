// Compressed offload (policy/offload.h): who may be offloaded, the PSI and refault guards and
// their back-off, the step interval, the max_ratio cap, the ladder's larger step, and
// TrackOffload starting the back-off. Exact actions and skips per row.
#include <gtest/gtest.h>

#include "controller/policy/offload.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Policy;
using policy::ControllerState;

// A VM cgroup v2 with 1 GiB resident (anon), counters at `psi_s` seconds and `refaults` pages.
model::VmCgroup Cg(double psi_s = 0, uint64_t refaults = 0, uint64_t swap = 0) {
  model::VmCgroup cg;
  cg.path = "/sys/fs/cgroup/machine.slice/web.scope";
  cg.version = 2;
  cg.anon_bytes = kGiB;
  cg.file_bytes = 0;
  cg.swap_bytes = swap;
  cg.psi_some_seconds_total = psi_s;
  cg.refault_pages_total = refaults;
  return cg;
}

model::SwapObservation Zram() {
  return {.total_bytes = kGiB, .free_bytes = kGiB, .zswap_enabled = false, .zram_only = true};
}
model::SwapObservation Disk() {
  return {.total_bytes = kGiB, .free_bytes = kGiB, .zswap_enabled = false, .zram_only = false};
}

// Two observations 30 s apart (one step_interval): the counters move from `from` to `to`.
std::vector<model::Observation> Span(const VmBuilder& from, const VmBuilder& to,
                                     const model::SwapObservation& swap = Zram(),
                                     const NodeBuilder& node = NodeBuilder().Available(20 * kGiB)) {
  return {ObservationBuilder(At(0)).Node(node).Swap(swap).Vm(from).Build(),
          ObservationBuilder(At(30)).Node(node).Swap(swap).Vm(to).Build()};
}
std::vector<model::Observation> Quiet(const model::VmCgroup& cg, const model::SwapObservation& swap = Zram()) {
  return Span(VmBuilder().Cgroup(cg), VmBuilder().Cgroup(cg), swap);
}

const std::string kWeb = "vm web: offload.proactive: ";

TEST(PolicyOffload, Table) {
  Policy off;
  off.offload.enabled = false;
  Policy excluded;
  excluded.offload.exclude = {"web"};
  Policy disk_ok;
  disk_ok.offload.allow_disk_swap = true;
  ControllerState backing_off;
  backing_off.offload["uuid-web"].backoff_until = At(100);
  backing_off.offload["uuid-web"].guard = "refault 1%/min of resident > max_refault_ratio 0.2%/min";
  ControllerState stepped;
  stepped.offload["uuid-web"].last_step = At(10);
  ControllerState stepped_long_ago;
  stepped_long_ago.offload["uuid-web"].last_step = At(0);
  model::VmCgroup v1 = Cg();
  v1.version = 1;
  model::VmCgroup moved = Cg();
  moved.path = "/sys/fs/cgroup/machine.slice/web-restarted.scope";
  const model::SwapObservation no_swap{};
  RunTable({
      {"quiet VM: a 1% step of resident, page-aligned", Quiet(Cg()), {"offload web: reclaim 10.24 MiB"}, {}},
      {"one observation does not cover step_interval",
       {ObservationBuilder(At(0))
            .Node(NodeBuilder().Available(20 * kGiB))
            .Swap(Zram())
            .Vm(VmBuilder().Cgroup(Cg()))
            .Build()},
       {},
       {kWeb + "cgroup stats do not cover step_interval 30 s yet"}},
      {"the cgroup changed (VM restarted): its counters start again",
       Span(VmBuilder().Cgroup(Cg()), VmBuilder().Cgroup(moved)),
       {},
       {kWeb + "cgroup stats do not cover step_interval 30 s yet"}},
      {"PSI guard: 0.06 s stalled in 30 s is 0.2% > 0.1%",
       Span(VmBuilder().Cgroup(Cg(0)), VmBuilder().Cgroup(Cg(0.06))),
       {},
       {kWeb + "guard: PSI some 0.2% > psi_target 0.1%; no step for backoff 300 s"}},
      {"both guards at once",
       Span(VmBuilder().Cgroup(Cg(0, 0)), VmBuilder().Cgroup(Cg(0.06, 512))),
       {},
       {kWeb + "guard: PSI some 0.2% > psi_target 0.1% and refault 0.39%/min of resident > max_refault_ratio "
               "0.2%/min; no step for backoff 300 s"}},
      {"PSI just under the target steps",
       Span(VmBuilder().Cgroup(Cg(0)), VmBuilder().Cgroup(Cg(0.027))),
       {"offload web: reclaim 10.24 MiB"},
       {}},
      {"refault guard: 512 pages (2 MiB) in 30 s is 0.39%/min of 1 GiB > 0.2%/min",
       Span(VmBuilder().Cgroup(Cg(0, 0)), VmBuilder().Cgroup(Cg(0, 512))),
       {},
       {kWeb + "guard: refault 0.39%/min of resident > max_refault_ratio 0.2%/min; no step for backoff 300 s"}},
      {"refaults under the guard: 200 pages in 30 s is 0.15%/min",
       Span(VmBuilder().Cgroup(Cg(0, 0)), VmBuilder().Cgroup(Cg(0, 200))),
       {"offload web: reclaim 10.24 MiB"},
       {}},
      {"backing off after a guard, though the rates are quiet now",
       Quiet(Cg()),
       {},
       {kWeb + "backoff 70 s left after guard: refault 1%/min of resident > max_refault_ratio 0.2%/min"},
       {},
       backing_off},
      {"step_interval not over since the last step",
       Quiet(Cg()),
       {},
       {kWeb + "next step in 10 s (step_interval 30 s)"},
       {},
       stepped},
      {"step_interval over since the last step",
       Quiet(Cg()),
       {"offload web: reclaim 10.24 MiB"},
       {},
       {},
       stepped_long_ago},
      {"max_ratio reached: 1 GiB offloaded of 2 GiB",
       Quiet(Cg(0, 0, kGiB)),
       {},
       {kWeb + "offloaded 1 GiB reached max_ratio 50% of 2 GiB"}},
      {"max_ratio caps the step: 1022 MiB offloaded, 1 MiB left",
       Quiet(Cg(0, 0, MiB(1022))),
       {"offload web: reclaim 1 MiB"},
       {}},
      {"cgroup v1", Quiet(v1), {}, {kWeb + "cgroup v1 has no memory.reclaim"}},
      {"hugetlb-backed",
       Span(VmBuilder().Cgroup(Cg()).Hugepages(0, 2 * kMiB, kGiB),
            VmBuilder().Cgroup(Cg()).Hugepages(0, 2 * kMiB, kGiB)),
       {},
       {kWeb + "hugetlb pages are never swapped"}},
      {"no cgroup known",
       Span(VmBuilder(), VmBuilder()),
       {},
       {kWeb + "no cgroup of its own known (QEMU not found, its cgroup shared or gone: VM stopped?)"}},
      {"not running: nothing",
       Span(VmBuilder().Cgroup(Cg()).NotRunning(), VmBuilder().Cgroup(Cg()).NotRunning()),
       {},
       {}},
      {"excluded by name", Quiet(Cg()), {}, {kWeb + "excluded by offload.exclude"}, excluded},
      {"disabled: silent, like every rule switched off", Quiet(Cg()), {}, {}, off},
      {"no swap device",
       Quiet(Cg(), no_swap),
       {},
       {"host: offload.proactive: no swap device (zswap and zram both need one)"}},
      {"disk swap without allow_disk_swap",
       Quiet(Cg(), Disk()),
       {},
       {"host: offload.proactive: swap is on disk, neither zswap nor zram, and offload.allow_disk_swap is false"}},
      {"a page size of 0 (bad input) is taken as 1 byte, never a division by zero",
       Quiet([] {
         auto cg = Cg();
         cg.page_bytes = 0;
         return cg;
       }()),
       {"offload web: reclaim 10.24 MiB"},
       {}},
      {"disk swap with allow_disk_swap", Quiet(Cg(), Disk()), {"offload web: reclaim 10.24 MiB"}, {}, disk_ok},
  });
}

TEST(PolicyOffload, ReasonCarriesRatesAndStage) {
  const auto plan = DecideOn(Span(VmBuilder().Cgroup(Cg(0, 0)), VmBuilder().Cgroup(Cg(0.015, 100))));
  ASSERT_EQ(plan.actions.size(), 1U) << model::ToString(plan);
  const auto& r = std::get<model::ReclaimVmMemory>(plan.actions[0]);
  EXPECT_EQ(r.bytes, 10735616U);  // 1% of 1 GiB, down to whole 4 KiB pages
  EXPECT_EQ(r.cgroup, "/sys/fs/cgroup/machine.slice/web.scope");
  EXPECT_EQ(model::ToString(plan.actions[0]),
            "offload web: reclaim 10.24 MiB (stage calm, offload.proactive: PSI some 0.05%, refault 0.08%/min within "
            "guards; step 1% of resident 1 GiB, offloaded 0 B)");
}

TEST(PolicyOffload, LadderStageTakesFourTimesTheStep) {
  Policy p;
  p.balloon.enabled = false;  // no balloon room: a node in the reclaim band is at stage offload
  const auto plan =
      DecideOn(Span(VmBuilder().Cgroup(Cg()), VmBuilder().Cgroup(Cg()), Zram(), NodeBuilder().Available(kGiB)), {}, p);
  ASSERT_EQ(plan.actions.size(), 1U) << model::ToString(plan);
  const auto& r = std::get<model::ReclaimVmMemory>(plan.actions[0]);
  EXPECT_EQ(r.bytes, 42946560U);  // 4% of 1 GiB, whole pages
  EXPECT_EQ(r.reason.rule, "offload.ladder");
  EXPECT_EQ(r.reason.stage, model::Stage::kOffload);
}

TEST(PolicyOffload, TrackOffloadStartsTheBackoffOnceAndKeepsItsClock) {
  const Policy p;
  ControllerState s;
  auto w = WindowOf(Span(VmBuilder().Cgroup(Cg(0)), VmBuilder().Cgroup(Cg(0.06))), p);
  policy::TrackOffload(s, w, p);
  ASSERT_TRUE(s.offload["uuid-web"].backoff_until);
  EXPECT_EQ(*s.offload["uuid-web"].backoff_until, At(330));
  EXPECT_EQ(s.offload["uuid-web"].guard, "PSI some 0.2% > psi_target 0.1%");
  w.Push(ObservationBuilder(At(60)).Swap(Zram()).Vm(VmBuilder().Cgroup(Cg(0.12))).Build());
  policy::TrackOffload(s, w, p);
  EXPECT_EQ(*s.offload["uuid-web"].backoff_until, At(330));  // still tripped: the clock runs on
  // Quiet from now on: no step until 330 s, then one.
  const auto quiet = [&](double t) {
    return ObservationBuilder(At(t)).Swap(Zram()).Vm(VmBuilder().Cgroup(Cg(0.12))).Build();
  };
  w.Push(quiet(298));
  w.Push(quiet(329));
  EXPECT_EQ(
      SkipsFor(policy::Decide(w, s, p), "vm web"),
      std::vector<std::string>{"offload.proactive: backoff 1 s left after guard: PSI some 0.2% > psi_target 0.1%"});
  w.Push(quiet(330));
  EXPECT_EQ(Actions(policy::Decide(w, s, p)), std::vector<std::string>{"offload web: reclaim 10.24 MiB"});
}

TEST(PolicyOffload, ApplyOutcomeRecordsTheStep) {
  ControllerState s;
  model::ReclaimVmMemory a;
  a.vm = {"uuid-web", "web"};
  a.bytes = 4096;
  policy::ApplyOutcome(s, a, model::Outcome{}, At(5));
  EXPECT_EQ(s.offload["uuid-web"].last_step, At(5));
}

}  // namespace
}  // namespace kvmem::test
