// The hugepage pool manager: demand from autostart VMs, headroom, reserved pages, growth caps
// (max_step, min_normal_memory), compaction first on fragmented nodes, the retry gate after a
// partial reservation, reclaim after its hold time, and the shortfall bookkeeping.
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

constexpr uint64_t k2M = 2 * kMiB;

const std::string kDead0 =
    "node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
const std::string kDeadSmall =
    "node 0: balloon.reclaim: dead band: available 614.4 MiB within [409.6 MiB (10%), 819.2 MiB (20%)]";
const std::string kDead1 =
    "node 1: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";

// A VM "db" shut off with autostart, wanting `bytes` of `page` pages on `node`.
VmBuilder Db(int node, uint64_t page = k2M, uint64_t bytes = kGiB) {
  return VmBuilder("db").Stopped(true).Hugepages(node, page, bytes);
}

Policy With(const std::function<void(Policy&)>& f) {
  Policy p;
  f(p);
  return p;
}

ControllerState FellShort(model::TimePoint at, uint64_t asked, uint64_t obtained) {
  ControllerState s;
  auto& pool = s.pools[{0, k2M}];
  pool.last_attempt = at;
  pool.asked_pages = asked;
  pool.obtained_pages = obtained;
  pool.fell_short = true;
  return s;
}

TEST(PolicyHugepages, Table) {
  const NodeBuilder n0 = NodeBuilder(0).Pool(k2M, 100, 10);
  const Policy reclaim60 = With([](Policy& p) {
    p.hugepages.reclaim = true;
    p.hugepages.reclaim_after = seconds{60};
  });
  const std::vector<Row> rows = {
      {"autostart demand grows the pool", {One(n0, {Db(0)})}, {"hugepages node 0 2 MiB: 100 -> 602 pages"}, {kDead0}},
      {"a running VM's pages are not demand", {One(n0, {VmBuilder("db").Hugepages(0, k2M, kGiB)})}, {}, {kDead0}},
      {"shut off without autostart is no demand",
       {One(n0, {VmBuilder("db").Stopped(false).Hugepages(0, k2M, kGiB)})},
       {},
       {kDead0}},
      {"demand not pinned to a node is a skip",
       {One(n0, {Db(-1)})},
       {},
       {kDead0,
        "vm db: hugepages.grow: 1 GiB of 2 MiB pages not pinned to a host node; pin its memory with <numatune> to "
        "have them reserved ahead"}},
      {"odd sizes round up to whole pages",
       {One(n0, {Db(0, k2M, MiB(1025))})},
       {"hugepages node 0 2 MiB: 100 -> 603 pages"},
       {kDead0}},
      {"pages reserved host-wide are not usable",
       {ObservationBuilder(At(0)).Node(NodeBuilder(0).Pool(k2M, 700, 600)).Reserved(k2M, 100).Vm(Db(0)).Build()},
       {"hugepages node 0 2 MiB: 700 -> 712 pages"},
       {kDead0}},
      {"headroom applies to the default size everywhere",
       {ObservationBuilder(At(0)).Node(NodeBuilder(0).Pool(k2M, 0, 0).Pool(kGiB, 0, 0)).DefaultHugepage(k2M).Build()},
       {"hugepages node 0 2 MiB: 0 -> 32 pages"},
       {kDead0},
       With([](Policy& p) { p.hugepages.headroom = 64 * kMiB; })},
      {"headroom applies to a size a VM uses",
       {ObservationBuilder(At(0))
            .Node(NodeBuilder(0).Pool(k2M, 0, 0).Pool(kGiB, 2, 0))
            .DefaultHugepage(k2M)
            .Vm(VmBuilder("db").Hugepages(0, kGiB, 2 * kGiB))
            .Build()},
       {"hugepages node 0 2 MiB: 0 -> 512 pages", "hugepages node 0 1 GiB: 2 -> 3 pages"},
       {kDead0},
       With([](Policy& p) { p.hugepages.headroom = kGiB; })},
      {"max_step caps one cycle",
       {One(n0, {Db(0)})},
       {"hugepages node 0 2 MiB: 100 -> 150 pages"},
       {kDead0},
       With([](Policy& p) { p.hugepages.max_step = 100 * kMiB; })},
      {"min_normal_memory caps growth",
       {One(NodeBuilder(0).Total(4 * kGiB).Available(GiB(0.6)).Pool(k2M, 0, 0), {Db(0, k2M, 4 * kGiB)})},
       {"hugepages node 0 2 MiB: 0 -> 1843 pages"},
       {kDeadSmall}},
      {"min_normal_memory blocks growth",
       {One(NodeBuilder(0).Total(4 * kGiB).Available(GiB(0.6)).Pool(k2M, 0, 0).Pool(kGiB, 4, 0), {Db(0)})},
       {},
       {kDeadSmall,
        "node 0 2 MiB pages: hugepages.grow: usable 0 pages < 512 needed (demand 512 for db + headroom 0); "
        "min_normal_memory 409.6 MiB (10%): only 0 B of the node is outside hugepage pools"}},
      {"a fragmented node is compacted first",
       {One(NodeBuilder(n0).Frag(0.8), {Db(0)})},
       {"compact node 0", "hugepages node 0 2 MiB: 100 -> 602 pages"},
       {kDead0}},
      {"not compacted first while the host is busy",
       {ObservationBuilder(At(0)).Node(NodeBuilder(n0).Frag(0.8)).Psi(0.2).Vm(Db(0)).Build()},
       {"hugepages node 0 2 MiB: 100 -> 602 pages"},
       {kDead0}},
      {"1 GiB pages are never compacted for",
       {One(NodeBuilder(0).Pool(kGiB, 0, 0).Frag(0.8), {Db(0, kGiB, 2 * kGiB)})},
       {"hugepages node 0 1 GiB: 0 -> 2 pages"},
       {kDead0}},
      {"compaction first needs two action slots",
       {One(NodeBuilder(n0).Frag(0.8), {Db(0)})},
       {},
       {kDead0, "node 0 2 MiB pages: limits: actions per cycle 1 (max_actions_per_cycle): 1 left, 2 needed"},
       With([](Policy& p) { p.limits.max_actions_per_cycle = 1; })},
      {"a reservation that fell short waits retry_after",
       {One(n0, {Db(0)})},
       {},
       {kDead0,
        "node 0 2 MiB pages: hugepages.grow: usable 10 pages < 512 needed (demand 512 for db + headroom 0); the "
        "last resize to 602 pages obtained 300; retrying in 30 s (retry_after 60 s)"},
       {},
       FellShort(At(-30), 602, 300)},
      {"and then retries",
       {One(n0, {Db(0)})},
       {"hugepages node 0 2 MiB: 100 -> 602 pages"},
       {kDead0},
       {},
       FellShort(At(-60), 602, 300)},
      {"demand goes to its own node",
       {ObservationBuilder(At(0))
            .Node(NodeBuilder(0).Pool(k2M, 0, 0))
            .Node(NodeBuilder(1).Pool(k2M, 0, 0))
            .Vm(Db(1))
            .Build()},
       {"hugepages node 1 2 MiB: 0 -> 512 pages"},
       {kDead0, kDead1}},
      {"a size the node does not offer",
       {One(n0, {Db(0, kGiB, kGiB)})},
       {},
       {kDead0, "node 0 1 GiB pages: hugepages.grow: the kernel offers no 1 GiB pages on this node"}},
      {"reclaim is off by default", Held(700, NodeBuilder(0).Pool(k2M, 600, 600)), {}, {kDead0}},
      {"reclaim after reclaim_after",
       Held(60, NodeBuilder(0).Pool(k2M, 600, 600)),
       {"hugepages node 0 2 MiB: 600 -> 0 pages"},
       {kDead0},
       reclaim60},
      {"reclaim keeps pages in use and demand",
       Held(60, NodeBuilder(0).Pool(k2M, 700, 600), {Db(0, k2M, 200 * kMiB)}),
       {"hugepages node 0 2 MiB: 700 -> 200 pages"},
       {kDead0},
       reclaim60},
      {"reclaim waits its hold time",
       Held(30, NodeBuilder(0).Pool(k2M, 600, 600)),
       {},
       {kDead0,
        "node 0 2 MiB pages: hugepages.reclaim: usable 600 pages > 0 needed (demand 0 + headroom 0) for 30 s "
        "(reclaim_after 60 s)"},
       reclaim60},
      {"disabled", {One(n0, {Db(0)})}, {}, {kDead0}, With([](Policy& p) { p.hugepages.enabled = false; })},
  };
  RunTable(rows);
}

TEST(PolicyHugepages, GrowReasonExplainsItself) {
  const auto plan = DecideOn(One(NodeBuilder(0).Pool(k2M, 100, 10).Frag(0.8), {Db(0)}));
  ASSERT_EQ(plan.actions.size(), 2u);
  const auto& r = model::ReasonOf(plan.actions[1]);
  EXPECT_EQ(r.rule, "hugepages.grow");
  EXPECT_EQ(r.text,
            "node 0 2 MiB pool: usable 10 pages < 512 needed (demand 512 for db + headroom 0); growing 100 -> 602 "
            "pages; compacting the node first: fragmentation index 0.8 > compact_above 0.5");
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).rule, "hugepages.grow");
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).threshold, "compaction.compact_above");
}

TEST(PolicyHugepages, PoolTargets) {
  const auto plan = DecideOn(ObservationBuilder(At(0))
                                 .Node(NodeBuilder(0).Pool(k2M, 100, 10).Pool(kGiB, 0, 0))
                                 .Node(NodeBuilder(1).Pool(k2M, 64, 64))
                                 .Vm(Db(0))
                                 .Build());
  const std::vector<model::PoolTarget> want = {{0, k2M, 512, 602, 100, 502}, {1, k2M, 0, 64, 64, 0}};
  EXPECT_EQ(plan.pools, want);
}

model::Outcome Short(std::optional<uint64_t> obtained,
                     std::string error = "obtained 300 of 602 pages of 2 MiB on node 0 (short by 302)") {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  o.pages_obtained = obtained;
  return o;
}

TEST(PolicyHugepages, PartialReservationsAreRecordedWithTheirCause) {
  struct Case {
    std::string name;
    double fragmentation;
    model::Outcome outcome;
    std::string cause;  // "" = not a shortfall
  };
  model::Outcome dry;
  dry.dry_run = true;
  const std::vector<Case> cases = {
      {"fragmented", 0.8, Short(300), "fragmented"},
      {"lack of memory", 0.2, Short(300), "no_memory"},
      {"the write failed", 0.8,
       Short(100, "obtained 100 of 602 pages of 2 MiB on node 0 (short by 502); write: Permission denied"), "error"},
      {"refused before the kernel (back-off)", 0.8, Short(std::nullopt, "backing off"), ""},
      {"dry run", 0.8, dry, ""}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    model::ResizeHugepagePool a{0, k2M, 100, 602, {}};
    a.reason.observed = {{"fragmentation_index", c.fragmentation}};
    ControllerState s;
    policy::ApplyOutcome(s, a, c.outcome, At(5));
    const auto& pool = s.pools.at({0, k2M});
    EXPECT_EQ(pool.last_attempt, At(5));
    EXPECT_EQ(pool.asked_pages, 602u);
    EXPECT_EQ(pool.obtained_pages, c.outcome.pages_obtained);
    EXPECT_EQ(pool.fell_short, !c.outcome.ok);
    std::map<std::tuple<int, uint64_t, std::string>, uint64_t> want;
    if (!c.cause.empty()) want[{0, k2M, c.cause}] = 1;
    EXPECT_EQ(s.pool_shortfalls_total, want);
  }
}

}  // namespace
}  // namespace kvmem::test
