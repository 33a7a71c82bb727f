// Compaction scheduling: the `for` window, the THP fallback trigger, the quiet gate, one node
// per cycle, cooldown and exponential back-off after runs that did not lower the index.
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

struct Row {
  std::string name;
  std::vector<Observation> obs;
  std::vector<std::string> actions;
  std::vector<std::string> skips;
  ControllerState state = {};
  Policy policy = {};
};

// Observations every 10 s from 0 to `until`; node i gets `frag(t)[i]`, THP fallbacks grow by
// `thp_per_s`, PSI is `psi`. Nodes sit in the dead band, so their only skip is that.
std::vector<Observation> Series(int until, const std::function<std::vector<double>(int)>& frag, double thp_per_s = 0,
                                std::optional<double> psi = 0.01) {
  std::vector<Observation> out;
  for (int t = 0; t <= until; t += 10) {
    ObservationBuilder b(At(t));
    const auto f = frag(t);
    for (size_t i = 0; i < f.size(); ++i) b.Node(NodeBuilder(static_cast<int>(i)).Frag(f[i]));
    b.ThpFallbacks(static_cast<uint64_t>(thp_per_s * t));
    if (psi)
      b.Psi(*psi);
    else
      b.NoPsi();
    out.push_back(b.Build());
  }
  return out;
}

std::function<std::vector<double>(int)> Const(std::vector<double> f) {
  return [f](int) { return f; };
}

std::string Dead(int node) {
  return "node " + std::to_string(node) +
         ": balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
}

ControllerState Compacted(int node, model::TimePoint last, int fruitless) {
  ControllerState s;
  s.compaction[node].last = last;
  s.compaction[node].fruitless = fruitless;
  return s;
}

TEST(PolicyCompaction, Table) {
  ControllerState running;
  running.compacting_node = 1;
  Policy off;
  off.compaction.enabled = false;
  const std::vector<Row> rows = {
      {"fragmented for `for`", Series(60, Const({0.8})), {"compact node 0"}, {Dead(0)}},
      {"not long enough", Series(50, Const({0.8})), {}, {Dead(0)}},
      {"a dip restarts the clock",
       Series(60, [](int t) { return std::vector<double>{t == 30 ? 0.3 : 0.8}; }),
       {},
       {Dead(0)}},
      {"exactly compact_above is not above", Series(60, Const({0.5})), {}, {Dead(0)}},
      {"not quiet",
       Series(60, Const({0.8}), 0, 0.06),
       {},
       {Dead(0), "node 0: compaction.fragmentation: not quiet: PSI some avg10 6% >= quiet_below 5%"}},
      {"pressure unknown: no compaction",
       Series(60, Const({0.8}), 0, std::nullopt),
       {},
       {Dead(0),
        "node 0: compaction.fragmentation: memory pressure (PSI) unknown; compacting only on a known quiet "
        "host"}},
      {"THP fallbacks above the rate", Series(60, Const({0.3}), 20), {"compact node 0"}, {Dead(0)}},
      {"THP fallbacks, but a huge page is free on the node", Series(60, Const({-1}), 20), {}, {Dead(0)}},
      {"THP burst right after start: not enough history", Series(10, Const({0.3}), 100), {}, {Dead(0)}},
      {"one node per cycle: the most fragmented first",
       Series(60, Const({0.7, 0.9})),
       {"compact node 1"},
       {Dead(0), Dead(1), "node 0: compaction.fragmentation: one compaction per cycle: node 1 goes first"}},
      {"none while another runs",
       Series(60, Const({0.8, -1})),
       {},
       {Dead(0), Dead(1), "node 0: compaction.fragmentation: compaction of node 1 still running"},
       running},
      {"cooldown",
       Series(60, Const({0.8})),
       {},
       {Dead(0), "node 0: compaction.fragmentation: cooldown 200 s left"},
       Compacted(0, At(60 - 100), 0)},
      {"back-off doubles the cooldown per fruitless run",
       Series(60, Const({0.8})),
       {},
       {Dead(0),
        "node 0: compaction.fragmentation: cooldown 200 s left (backed off to 1200 s after 2 runs without "
        "improvement)"},
       Compacted(0, At(60 - 1000), 2)},
      {"back-off is capped at max_backoff",
       Series(60, Const({0.8})),
       {"compact node 0"},
       {Dead(0)},
       Compacted(0, At(60 - 3600), 10)},
      {"disabled", Series(60, Const({0.8})), {}, {Dead(0)}, {}, off},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    const model::Plan plan = DecideOn(r.obs, r.state, r.policy);
    EXPECT_EQ(Actions(plan), r.actions) << model::ToString(plan);
    EXPECT_EQ(Skips(plan), r.skips) << model::ToString(plan);
  }
}

TEST(PolicyCompaction, ReasonsNameTheTrigger) {
  auto plan = DecideOn(Series(60, Const({0.8})));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(model::ToString(plan.actions[0]),
            "compact node 0 (compaction.fragmentation: node 0 fragmentation index 0.8 > compact_above 0.5 for 60 s "
            "(for 60 s))");
  plan = DecideOn(Series(60, Const({0.3}), 20));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).ToString(),
            "compaction.thp_fallback: THP fault fallbacks 20/s > thp_fallback_rate_above 10/s over 60 s; node 0 "
            "fragmentation index 0.3");
  EXPECT_EQ(std::get<model::CompactNode>(plan.actions[0]).fragmentation_index, 0.3);
}

TEST(PolicyCompaction, OutcomesDriveTheBackOff) {
  const model::Action a = model::CompactNode{0, 0.8, {}};
  auto outcome = [](bool ok, std::optional<double> before, std::optional<double> after) {
    model::Outcome o;
    o.ok = ok;
    o.index_before = before;
    o.index_after = after;
    return o;
  };
  ControllerState s;
  policy::NoteStarted(s, a, At(0));
  EXPECT_EQ(s.compacting_node, 0);
  policy::ApplyOutcome(s, a, outcome(true, 0.8, 0.9), At(1));  // worse: back off
  EXPECT_FALSE(s.compacting_node.has_value());
  EXPECT_EQ(s.compaction[0].fruitless, 1);
  policy::ApplyOutcome(s, a, outcome(true, 0.8, 0.8), At(2));  // no better: back off
  EXPECT_EQ(s.compaction[0].fruitless, 2);
  policy::ApplyOutcome(s, a, outcome(true, std::nullopt, std::nullopt), At(3));  // unmeasured: unchanged
  EXPECT_EQ(s.compaction[0].fruitless, 2);
  policy::ApplyOutcome(s, a, outcome(false, std::nullopt, std::nullopt), At(4));  // failed: back off
  EXPECT_EQ(s.compaction[0].fruitless, 3);
  EXPECT_EQ(s.failures_total, 1u);
  policy::ApplyOutcome(s, a, outcome(true, std::nullopt, 0.2), At(5));  // before from the action: better
  EXPECT_EQ(s.compaction[0].fruitless, 0);
  EXPECT_EQ(s.compaction[0].last, At(5));
  EXPECT_EQ(s.compaction[0].index_before, 0.8);
}

TEST(PolicyCompaction, CooldownDoublesUpToTheCap) {
  model::CompactionPolicy p;  // 300 s, capped at 3600 s
  EXPECT_EQ(policy::CompactionCooldown(p, 0), seconds{300});
  EXPECT_EQ(policy::CompactionCooldown(p, 1), seconds{600});
  EXPECT_EQ(policy::CompactionCooldown(p, 3), seconds{2400});
  EXPECT_EQ(policy::CompactionCooldown(p, 4), seconds{3600});
  EXPECT_EQ(policy::CompactionCooldown(p, 30), seconds{3600});
}

}  // namespace
}  // namespace kvmem::test
