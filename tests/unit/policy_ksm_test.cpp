// KSM decisions (policy/ksm.h): a table of observations, state and policy in, the exact KSM
// actions and skips out; the pay-rate measurement; the state KSM outcomes leave behind.
#include <gtest/gtest.h>

#include "controller/policy/ksm.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::KsmObservation;

// 64 GiB, 2 CPUs, payback 1 h: the break-even is 64 GiB / 2 / 3600 s = 9320.89 KiB/CPU-s.
constexpr double kBreakEven = 64.0 * 1024 * 1024 * 1024 / 2 / 3600;

struct K {
  int run = 1;
  uint64_t scan = 100;
  uint64_t sharing = 0;             // pages; no general_profit, so saved = sharing * 4 KiB
  std::optional<double> cpu = 0.0;  // ksmd CPU seconds
  uint64_t available = GiB(9.6);    // 15%: below merge_below (20%), memory wanted
  bool across = true;
  uint64_t nodes = 1;
};

model::Observation Obs(double t, const K& k, const std::vector<VmBuilder>& vms = {}) {
  ObservationBuilder b(At(t));
  for (uint64_t n = 0; n < k.nodes; ++n) {
    b.Node(NodeBuilder(static_cast<int>(n)).Total(GiB(64) / k.nodes).Available(k.available / k.nodes));
  }
  for (const auto& v : vms) b.Vm(v);
  model::Observation o = b.Build();
  o.cpus = 2;
  KsmObservation ksm;
  ksm.run = k.run;
  ksm.pages_to_scan = k.scan;
  ksm.sleep_millisecs = 20;
  ksm.merge_across_nodes = k.across;
  ksm.pages_sharing = k.sharing;
  ksm.ksmd_cpu_seconds_total = k.cpu;
  o.ksm = ksm;
  return o;
}

// Two observations a window (60 s) apart: `before` at t=0, `after` at t=60.
std::vector<model::Observation> Span(const K& before, const K& after, const std::vector<VmBuilder>& vms = {}) {
  return {Obs(0, before, vms), Obs(60, after, vms)};
}

struct KsmRow {
  std::string name;
  std::vector<model::Observation> obs;
  std::vector<std::string> actions;  // ToString: summary and reason
  std::vector<std::string> skips;    // skips about "ksm", "rule: reason"
  policy::ControllerState state = {};
  model::Policy policy = {};
};

void RunKsmTable(const std::vector<KsmRow>& rows) {
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const model::Plan plan = DecideOn(r.obs, r.state, r.policy);
    std::vector<std::string> actions;
    for (const auto& a : plan.actions) {
      if (std::holds_alternative<model::SetKsm>(a)) actions.push_back(model::ToString(a));
    }
    EXPECT_EQ(actions, r.actions) << model::ToString(plan);
    EXPECT_EQ(SkipsFor(plan, "ksm"), r.skips) << model::ToString(plan);
  }
}

policy::ControllerState ChangedAt(double t) {
  policy::ControllerState s;
  s.ksm.last_change = At(t);
  return s;
}

policy::ControllerState StoppedFruitlessAt(double t) {
  policy::ControllerState s = ChangedAt(t);
  s.ksm.fruitless_stop = At(t);
  return s;
}

model::Policy NeverMerge(std::vector<std::string> vms) {
  model::Policy p;
  p.ksm.never_merge = std::move(vms);
  return p;
}

TEST(PolicyKsm, StartAndNotWanted) {
  RunKsmTable({
      {"stopped, memory wanted: start at max_pages_to_scan",
       {Obs(0, {.run = 0})},
       {"ksm: run 0 -> 1, pages_to_scan 100 -> 1250, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: node 0 "
        "available 9.6 GiB < 12.8 GiB (ksm.merge_below): start merging at 1250 pages every 20 ms)"},
       {}},
      {"stopped, a node short enough for the balloon, above merge_below: start",
       {Obs(0, {.run = 0, .available = GiB(5)})},
       {"ksm: run 0 -> 1, pages_to_scan 100 -> 1250, sleep_millisecs 20 -> 20 (stage balloon, ksm.merge: node 0 "
        "available 5 GiB, short of memory (ladder stage balloon): start merging at 1250 pages every 20 ms)"},
       {},
       {},
       [] {
         model::Policy p;
         p.ksm.merge_below = model::NodeSize::Percent(5);
         return p;
       }()},
      {"stopped, memory not wanted: KSM stays off",
       {Obs(0, {.run = 0, .available = GiB(20)})},
       {},
       {"ksm.merge: memory not wanted: every node at or above ksm.merge_below; KSM stays off"}},
      {"stopped fruitless 300 s ago: no retry within 10 windows",
       {Obs(1000, {.run = 0})},
       {},
       {"ksm.merge: merging did not pay when last tried (stopped 300 s ago); next try in 300 s"},
       StoppedFruitlessAt(700)},
      {"stopped fruitless 600 s ago: tried again",
       {Obs(1300, {.run = 0})},
       {"ksm: run 0 -> 1, pages_to_scan 100 -> 1250, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: node 0 "
        "available 9.6 GiB < 12.8 GiB (ksm.merge_below): start merging at 1250 pages every 20 ms)"},
       {},
       StoppedFruitlessAt(700)},
      {"disabled: nothing",
       {Obs(0, {.run = 0})},
       {},
       {},
       {},
       [] {
         model::Policy p;
         p.ksm.enabled = false;
         return p;
       }()},
  });
}

TEST(PolicyKsm, RunningScansHarderSlowsAndStops) {
  RunKsmTable({
      {"changed 30 s ago: settling",
       {Obs(60, {})},
       {},
       {"ksm.merge: settling: 30 s left of ksm.window at the current setting"},
       ChangedAt(30)},
      {"no observation a window back: measuring",
       {Obs(0, {}), Obs(50, {})},
       {},
       {"ksm.merge: measuring: no observation a full ksm.window (60 s) back at the current setting yet"}},
      {"the only old observation predates the last change: measuring",
       Span({}, {}),
       {},
       {"ksm.merge: measuring: no observation a full ksm.window (60 s) back at the current setting yet"},
       ChangedAt(0)},
      {"pays and wanted: pages_to_scan doubles",
       Span({.sharing = 0, .cpu = 10}, {.sharing = 100000, .cpu = 16}),
       {"ksm: run 1 -> 1, pages_to_scan 100 -> 200, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: merging "
        "saved 390.62 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 65.1 MiB/CPU-s >= break-even 9.1 MiB/CPU-s; "
        "memory wanted: scan harder)"},
       {}},
      {"pays and wanted near the top: clamped to max_pages_to_scan",
       Span({.scan = 1000}, {.scan = 1000, .sharing = 100000, .cpu = 6}),
       {"ksm: run 1 -> 1, pages_to_scan 1000 -> 1250, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: merging "
        "saved 390.62 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 65.1 MiB/CPU-s >= break-even 9.1 MiB/CPU-s; "
        "memory wanted: scan harder)"},
       {}},
      {"pays at max_pages_to_scan: holds",
       Span({.scan = 1250}, {.scan = 1250, .sharing = 100000, .cpu = 6}),
       {},
       {"ksm.merge: merging saved 390.62 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 65.1 MiB/CPU-s >= "
        "break-even 9.1 MiB/CPU-s; already at max_pages_to_scan"}},
      {"pays but memory not wanted: holds",
       Span({.scan = 400, .available = GiB(20)}, {.scan = 400, .sharing = 100000, .cpu = 6, .available = GiB(20)}),
       {},
       {"ksm.merge: merging saved 390.62 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 65.1 MiB/CPU-s >= "
        "break-even 9.1 MiB/CPU-s; memory not wanted, so the scan rate holds"}},
      {"does not pay: pages_to_scan halves",
       Span({.scan = 400, .sharing = 100000, .cpu = 6}, {.scan = 400, .sharing = 101000, .cpu = 12}),
       {"ksm: run 1 -> 1, pages_to_scan 400 -> 200, sleep_millisecs 20 -> 20 (stage ksm, ksm.slow: merging saved "
        "3.91 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 666.67 KiB/CPU-s < break-even 9.1 MiB/CPU-s: slow "
        "down)"},
       {}},
      {"does not pay at min_pages_to_scan: stop",
       Span({.sharing = 100000, .cpu = 6}, {.sharing = 101000, .cpu = 12}),
       {"ksm: run 1 -> 0, pages_to_scan 100 -> 100, sleep_millisecs 20 -> 20 (stage ksm, ksm.stop: merging saved "
        "3.91 MiB in 60 s for 6 s of ksmd CPU (10% of a CPU): 666.67 KiB/CPU-s < break-even 9.1 MiB/CPU-s at "
        "min_pages_to_scan: stop (merged pages stay merged))"},
       {}},
      {"pages unmerged (saving fell): does not pay",
       Span({.scan = 200, .sharing = 100000, .cpu = 6}, {.scan = 200, .sharing = 90000, .cpu = 7}),
       {"ksm: run 1 -> 1, pages_to_scan 200 -> 100, sleep_millisecs 20 -> 20 (stage ksm, ksm.slow: merging saved "
        "0 B in 60 s for 1 s of ksmd CPU (1.667% of a CPU): 0 B/CPU-s < break-even 9.1 MiB/CPU-s: slow down)"},
       {}},
      {"no ksmd CPU used and nothing saved: does not pay",
       Span({.scan = 200, .sharing = 5, .cpu = 3}, {.scan = 200, .sharing = 5, .cpu = 3}),
       {"ksm: run 1 -> 1, pages_to_scan 200 -> 100, sleep_millisecs 20 -> 20 (stage ksm, ksm.slow: merging saved "
        "0 B in 60 s for 0 s of ksmd CPU (0% of a CPU): 0 B/CPU-s < break-even 9.1 MiB/CPU-s: slow down)"},
       {}},
  });
}

TEST(PolicyKsm, LeftAlone) {
  model::Observation no_cpus = Obs(0, {});
  no_cpus.cpus = 0;
  model::Observation no_ksm = Obs(0, {.run = 0});
  no_ksm.ksm.reset();
  RunKsmTable({
      {"run=2: an administrator unmerging",
       {Obs(0, {.run = 2})},
       {},
       {"ksm.merge: run=2: someone is unmerging every page; KSM is left alone"}},
      {"ksmd not found",
       {Obs(0, {.run = 0, .cpu = std::nullopt})},
       {},
       {"ksm.merge: ksmd not found: KSM is not steered without its CPU"}},
      {"no KSM in the kernel: no data, no skip", {no_ksm}, {}, {}},
      {"online CPUs unknown",
       {no_cpus},
       {},
       {"ksm.merge: online CPUs unknown: merging cannot be priced against ksmd's CPU"}},
  });
}

TEST(PolicyKsm, NeverMerge) {
  const VmBuilder secret = VmBuilder("secret").Uuid("uuid-secret");
  VmBuilder opted_out = secret;
  auto nosharepages = [](model::Observation o) {
    for (auto& vm : o.vms) vm.nosharepages = true;
    return o;
  };
  RunKsmTable({
      {"listed by name, stopped KSM: not started",
       {Obs(0, {.run = 0}, {secret})},
       {},
       {"ksm.merge: VM secret is in ksm.never_merge and runs without <nosharepages/>: add "
        "<memoryBacking><nosharepages/> to its domain XML; KSM is not started"},
       {},
       NeverMerge({"secret"})},
      {"listed by uuid, KSM running: stopped",
       {Obs(0, {.run = 1, .scan = 400}, {secret})},
       {"ksm: run 1 -> 0, pages_to_scan 400 -> 400, sleep_millisecs 20 -> 20 (stage ksm, ksm.stop: VM secret is "
        "in ksm.never_merge and runs without <nosharepages/>: add <memoryBacking><nosharepages/> to its domain "
        "XML; stop merging)"},
       {},
       {},
       NeverMerge({"other", "uuid-secret"})},
      {"listed but opted out with <nosharepages/>: KSM starts",
       {nosharepages(Obs(0, {.run = 0}, {secret}))},
       {"ksm: run 0 -> 1, pages_to_scan 100 -> 1250, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: node 0 "
        "available 9.6 GiB < 12.8 GiB (ksm.merge_below): start merging at 1250 pages every 20 ms)"},
       {},
       {},
       NeverMerge({"secret"})},
      {"listed but not running: KSM starts",
       {Obs(0, {.run = 0}, {VmBuilder("secret").NotRunning()})},
       {"ksm: run 0 -> 1, pages_to_scan 100 -> 1250, sleep_millisecs 20 -> 20 (stage ksm, ksm.merge: node 0 "
        "available 9.6 GiB < 12.8 GiB (ksm.merge_below): start merging at 1250 pages every 20 ms)"},
       {},
       {},
       NeverMerge({"secret"})},
  });
}

TEST(PolicyKsm, MergeAcrossNodesIsReportedNeverWritten) {
  RunKsmTable({
      {"two nodes, merge_across_nodes=1, merged pages",
       {Obs(0, {.run = 2, .sharing = 262144, .nodes = 2})},
       {},
       {"ksm.merge: merge_across_nodes=1 on 2 nodes with memory: pages are merged across nodes, so a VM may read "
        "a page from a remote node. kvmem never changes it: that needs run=2 first (unmerge everything: the "
        "current saving of 1 GiB returns to the VMs and must fit in the 9.6 GiB available), then the write, then "
        "merging again",
        "ksm.merge: run=2: someone is unmerging every page; KSM is left alone"}},
      {"two nodes, merge_across_nodes=0: nothing to report",
       {Obs(0, {.run = 2, .across = false, .nodes = 2})},
       {},
       {"ksm.merge: run=2: someone is unmerging every page; KSM is left alone"}},
      {"one node, merge_across_nodes=1: nothing to report",
       {Obs(0, {.run = 2})},
       {},
       {"ksm.merge: run=2: someone is unmerging every page; KSM is left alone"}},
  });
}

TEST(PolicyKsm, MeasureKsm) {
  model::Policy p;
  const auto w = WindowOf(
      {Obs(0, {.sharing = 0, .cpu = 10}), Obs(30, {.sharing = 50, .cpu = 11}), Obs(60, {.sharing = 100000, .cpu = 16})},
      p);
  auto pay = policy::MeasureKsm(w, p.ksm, std::nullopt);
  ASSERT_TRUE(pay);
  EXPECT_EQ(pay->saved_bytes, 409600000);
  EXPECT_EQ(pay->saved_delta, 409600000.0);
  EXPECT_EQ(pay->cpu_seconds, 6.0);
  EXPECT_EQ(pay->span_seconds, 60.0);
  EXPECT_DOUBLE_EQ(pay->pay_rate, 409600000.0 / 6);
  EXPECT_DOUBLE_EQ(pay->break_even, kBreakEven);
  EXPECT_DOUBLE_EQ(pay->CpuRatio(), 0.1);
  EXPECT_TRUE(pay->pays);
  // general_profit, where the kernel has it, is the saving.
  model::Observation with_profit = Obs(60, {.sharing = 100000, .cpu = 16});
  with_profit.ksm->general_profit_bytes = 1000;
  auto w2 = WindowOf({Obs(0, {.cpu = 10}), with_profit}, p);
  EXPECT_EQ(policy::MeasureKsm(w2, p.ksm, std::nullopt)->saved_delta, 1000.0);
  EXPECT_FALSE(policy::MeasureKsm(w2, p.ksm, At(0)));  // the reference predates the change
}

TEST(PolicyKsm, ReasonCarriesObservedValues) {
  const model::Plan plan =
      DecideOn(Span({.scan = 400, .sharing = 100000, .cpu = 6}, {.scan = 400, .sharing = 101000, .cpu = 12}));
  ASSERT_EQ(plan.actions.size(), 1u);
  const model::Reason& r = model::ReasonOf(plan.actions[0]);
  EXPECT_EQ(r.threshold, "ksm.payback");
  EXPECT_DOUBLE_EQ(r.threshold_value, kBreakEven);
  ASSERT_EQ(r.observed.size(), 4u);
  EXPECT_EQ(r.observed[0], (std::pair<std::string, double>{"saved_bytes", 101000.0 * 4096}));
  EXPECT_EQ(r.observed[1].first, "pay_rate_bytes_per_cpu_second");
  EXPECT_DOUBLE_EQ(r.observed[1].second, 1000.0 * 4096 / 6);
  EXPECT_EQ(r.observed[2].first, "break_even_bytes_per_cpu_second");
  EXPECT_EQ(r.observed[3], (std::pair<std::string, double>{"ksmd_cpu_ratio", 0.1}));
  EXPECT_EQ(r.stage, model::Stage::kKsm);
}

TEST(PolicyKsm, OutcomesLeaveState) {
  policy::ControllerState s;
  const model::KsmSettings on{1, 100, 20}, off{0, 100, 20};
  model::Outcome ok;
  ok.ok = true;
  policy::ApplyOutcome(s, model::SetKsm{off, on, {"ksm.merge", "ksm.merge_below", 0, {}, ""}}, ok, At(10));
  EXPECT_EQ(s.ksm.last_change, At(10));
  EXPECT_EQ(s.ksm.fruitless_stop, std::nullopt);
  policy::ApplyOutcome(s, model::SetKsm{on, off, {"ksm.stop", "ksm.never_merge", 0, {}, ""}}, ok, At(20));
  EXPECT_EQ(s.ksm.fruitless_stop, std::nullopt);  // a side-channel stop is not a fruitless probe
  policy::ApplyOutcome(s, model::SetKsm{on, off, {"ksm.stop", "ksm.payback", 0, {}, ""}}, ok, At(30));
  EXPECT_EQ(s.ksm.fruitless_stop, At(30));
  EXPECT_EQ(s.ksm.last_change, At(30));
  model::Outcome failed;
  failed.ok = false;
  policy::ApplyOutcome(s, model::SetKsm{on, off, {"ksm.stop", "ksm.payback", 0, {}, ""}}, failed, At(40));
  EXPECT_EQ(s.ksm.fruitless_stop, At(30));
  EXPECT_EQ(s.ksm.last_change, At(40));
}

TEST(PolicyKsm, WindowKeepsAKsmWindow) {
  model::Policy p;
  p.ksm.window = std::chrono::minutes{10};
  EXPECT_EQ(policy::RequiredKeep(p), std::chrono::minutes{10} + 2 * p.interval);
  p.ksm.enabled = false;
  EXPECT_EQ(policy::RequiredKeep(p), p.placement.sustain_for + 2 * p.interval);  // the longest of the others
}

}  // namespace
}  // namespace kvmem::test
