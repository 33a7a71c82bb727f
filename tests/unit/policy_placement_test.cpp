// NUMA placement on two- and three-node hosts: the sustain window, pinning vCPUs to the
// memory versus migrating memory to the vCPUs, the hugetlb and memory-only-node cases, and the
// gates (fixed placement, cooldown, the bytes-per-second budget, one VM at a time).
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

struct Host {
  std::vector<NodeBuilder> nodes = {NodeBuilder(0).Available(20 * kGiB), NodeBuilder(1).Available(20 * kGiB)};
  std::vector<VmBuilder> vms;
};

// Observations every 10 s from 0 to `until`.
std::vector<Observation> Held(int until, const Host& h) {
  std::vector<Observation> out;
  for (int t = 0; t <= until; t += 10) {
    ObservationBuilder b(At(t));
    for (const auto& n : h.nodes) b.Node(n);
    for (const auto& v : h.vms) b.Vm(v);
    out.push_back(b.Build());
  }
  return out;
}

// 1 GiB on node 0 with the vCPUs, 7 GiB on node 1: locality 0.125.
VmBuilder Web(std::map<int, uint64_t> memory = {{0, kGiB}, {1, 7 * kGiB}}) {
  return VmBuilder("web").On(std::move(memory)).Vcpus({{0, 4}}).Pid(4242);
}

struct PlacementRow {
  std::string name;
  std::vector<Observation> obs;
  std::vector<std::string> actions;
  std::vector<std::string> vm_skips;  // skips whose subject is a VM, as "subject: rule: reason"
  ControllerState state = {};
  Policy policy = {};
};

void RunPlacement(const std::vector<PlacementRow>& rows) {
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const auto plan = DecideOn(r.obs, r.state, r.policy);
    EXPECT_EQ(Actions(plan), r.actions) << model::ToString(plan);
    std::vector<std::string> skips;
    for (const auto& s : plan.skips) {
      if (s.subject.rfind("vm ", 0) == 0) skips.push_back(s.ToString());
    }
    EXPECT_EQ(skips, r.vm_skips) << model::ToString(plan);
  }
}

const std::string kWhy =
    "locality 0.125 < locality_below 0.8 for 300 s; 7 GiB of 8 GiB on node 1, most vCPUs on node 0";

TEST(PolicyPlacement, Table) {
  Host pin{.vms = {Web()}};
  Host split{.vms = {Web({{0, 3 * kGiB}, {1, 5 * kGiB}})}};
  Host split_small_target{.nodes = {NodeBuilder(0).Available(GiB(9.6)), NodeBuilder(1).Available(20 * kGiB)},
                          .vms = {Web({{0, 3 * kGiB}, {1, 5 * kGiB}})}};
  Host hugetlb{.vms = {Web({{0, 3 * kGiB}, {1, 5 * kGiB}}).Hugepages(1, 2 * kMiB, 8 * kGiB)}};
  Host memory_only{.nodes = {NodeBuilder(0).Available(20 * kGiB), NodeBuilder(1).Available(20 * kGiB).NoCpus()},
                   .vms = {Web()}};
  Host memory_only_hugetlb{.nodes = memory_only.nodes, .vms = {Web().Hugepages(1, 2 * kMiB, 8 * kGiB)}};
  Host fixed{.vms = {Web().PlacementFixed()}};
  Host two{.vms = {Web(), VmBuilder("api").On({{0, kGiB}, {1, 3 * kGiB}}).Vcpus({{0, 2}}).Pid(4343)}};
  Host good{.vms = {Web({{0, 7 * kGiB}, {1, kGiB}})}};
  ControllerState cooling;
  cooling.placement_moves["uuid-web"] = At(200);
  ControllerState pinned_by_us;
  pinned_by_us.placement_moves["uuid-web"] = At(-1800);
  ControllerState paying;
  paying.placement.last_move = At(290);
  paying.placement.last_move_bytes = kGiB;
  Policy off;
  off.placement.enabled = false;

  const std::vector<PlacementRow> rows = {
      {"pin vCPUs to the memory", Held(300, pin), {"pin vcpus web to node 1"}, {}},
      {"not sustained yet",
       Held(290, pin),
       {},
       {"vm web: placement.vcpus: locality 0.125 < locality_below 0.8 for 290 s (for 300 s)"}},
      {"well placed", Held(300, good), {}, {}},
      {"pinning would not reach the goal: migrate", Held(300, split), {"migrate memory web to node 0 (5 GiB)"}, {}},
      {"the target has no room: pin, short of the goal",
       Held(300, split_small_target),
       {"pin vcpus web to node 1"},
       {}},
      {"hugetlb-backed memory never migrates", Held(300, hugetlb), {"pin vcpus web to node 1"}, {}},
      {"memory on a node without CPUs: migrate", Held(300, memory_only), {"migrate memory web to node 0 (7 GiB)"}, {}},
      {"and when it cannot migrate either",
       Held(300, memory_only_hugetlb),
       {},
       {"vm web: placement.memory: " + kWhy +
        "; no move helps: memory cannot move (its memory is hugetlb-backed, which migrate_pages does not move), "
        "and vCPUs cannot move to node 1"}},
      {"placement fixed by the domain XML",
       Held(300, fixed),
       {},
       {"vm web: placement.vcpus: locality 0.125 < locality_below 0.8; placement is fixed by the domain XML "
        "(vcpupin or strict numatune)"}},
      {"a pin the controller set itself does not fix placement",
       Held(300, fixed),
       {"pin vcpus web to node 1"},
       {},
       pinned_by_us},
      {"cooldown",
       Held(300, pin),
       {},
       {"vm web: placement.vcpus: locality 0.125 < locality_below 0.8; cooldown 1700 s left"},
       cooling},
      {"the last move is still being paid for",
       Held(300, pin),
       {},
       {"vm web: placement.vcpus: the last move copied 1 GiB; next move in 6 s (max_bytes_per_second 64 MiB/s)"},
       paying},
      {"one VM at a time, the worst first",
       Held(300, two),
       {"pin vcpus web to node 1"},
       {"vm api: placement.vcpus: one VM moves at a time: web goes first"}},
      {"disabled", Held(300, pin), {}, {}, {}, off},
  };
  RunPlacement(rows);
}

TEST(PolicyPlacement, ReasonsSayWhyThisMove) {
  auto plan = DecideOn(Held(300, Host{.vms = {Web()}}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).text,
            kWhy + "; pinning vCPUs to node 1 copies nothing and gives locality 0.875");

  plan = DecideOn(Held(300, Host{.vms = {Web({{0, 3 * kGiB}, {1, 5 * kGiB}}).Hugepages(1, 2 * kMiB, 8 * kGiB)}}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).text,
            "locality 0.375 < locality_below 0.8 for 300 s; 5 GiB of 8 GiB on node 1, most vCPUs on node 0; pinning "
            "vCPUs to node 1 copies nothing and gives locality 0.625 (memory cannot move: its memory is "
            "hugetlb-backed, which migrate_pages does not move)");

  plan = DecideOn(Held(300, Host{.vms = {Web({{0, 3 * kGiB}, {1, 5 * kGiB}})}}));
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& m = std::get<model::MigrateMemory>(plan.actions[0]);
  EXPECT_EQ(m.pid, 4242);
  EXPECT_EQ(m.bytes, 5 * kGiB);
  EXPECT_DOUBLE_EQ(m.locality_before, 0.375);
  EXPECT_EQ(m.reason.text,
            "locality 0.375 < locality_below 0.8 for 300 s; 5 GiB of 8 GiB on node 1, most vCPUs on node 0; migrating "
            "5 GiB to node 0 (pinning vCPUs to node 1 would only reach 0.625)");
}

TEST(PolicyPlacement, MovesStartCooldownAndRateBudget) {
  ControllerState s;
  model::MigrateMemory m{{"uuid-web", "web"}, 4242, 0, 5 * kGiB, 0.375, {}};
  model::Outcome o;
  o.bytes_migrated = 4 * kGiB;
  policy::ApplyOutcome(s, m, o, At(10));
  EXPECT_EQ(s.placement.last_move, At(10));
  EXPECT_EQ(s.placement.last_move_bytes, 4 * kGiB);
  EXPECT_EQ(s.placement_moves.at("uuid-web"), At(10));
  policy::ApplyOutcome(s, model::PinVcpus{{"uuid-api", "api"}, 1, 0.2, {}}, model::Outcome{}, At(20));
  EXPECT_EQ(s.placement.last_move, At(20));
  EXPECT_EQ(s.placement.last_move_bytes, 0u);
  EXPECT_EQ(s.placement_moves.at("uuid-api"), At(20));
}

}  // namespace
}  // namespace kvmem::test
