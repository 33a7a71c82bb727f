// virtio-mem sizing: sustain, block alignment, device size and node headroom bounds, the settle
// gate and its timeout, shrinking only after shrink_after and never below the floor or zero.
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using model::Observation;
using model::Policy;
using policy::ControllerState;

// A VM at its balloon maximum under pressure (usable 5%), with one virtio-mem device.
VmBuilder Db(uint64_t block = 128 * kMiB, uint64_t requested = kGiB, uint64_t current = kGiB,
             uint64_t size = 8 * kGiB) {
  return VmBuilder("db")
      .Balloon(8 * kGiB, 8 * kGiB)
      .Usable(GiB(0.4))
      .VirtioMem("vmem0", 0, size, block, requested, current);
}

// `n` observations `every` seconds apart, starting at kT0.
std::vector<Observation> Cycles(int n, const VmBuilder& vm,
                                const NodeBuilder& node = NodeBuilder().Available(20 * kGiB), double every = 2) {
  std::vector<Observation> out;
  for (int i = 0; i < n; ++i) out.push_back(ObservationBuilder(At(i * every)).Node(node).Vm(vm).Build());
  return out;
}

Policy Step(uint64_t step) {
  Policy p;
  p.virtio_mem.step = step;
  return p;
}

ControllerState Pending(uint64_t requested, model::TimePoint since, bool timed_out = false) {
  ControllerState s;
  auto& d = s.devices[{"uuid-db", "vmem0"}];
  d.pending_requested = requested;
  d.pending_since = since;
  d.timed_out = timed_out;
  return s;
}

const std::string kAtMax =
    "vm db: balloon.release: under pressure (usable 5% < usable_below_ratio 10%) but at balloon maximum 8 "
    "GiB";
const std::string kDev = "vm db virtio-mem vmem0: ";

TEST(PolicyVirtioMemGrow, Table) {
  Policy off;
  off.virtio_mem.enabled = false;
  ControllerState changed;
  changed.devices[{"uuid-db", "vmem0"}].last_change = At(2);
  RunTable({
      {"grows after sustain cycles at the balloon maximum",
       Cycles(3, Db()),
       {"virtio-mem db/vmem0: requested 1 GiB -> 1.25 GiB"},
       {kAtMax}},
      {"not yet sustained",
       Cycles(2, Db()),
       {},
       {kAtMax,
        "vm db: virtio_mem.grow: at balloon maximum and usable 5% < usable_below_ratio 10% for 2 of sustain "
        "3 cycles"}},
      {"a step below one block takes one block",
       Cycles(3, Db(256 * kMiB)),
       {"virtio-mem db/vmem0: requested 1 GiB -> 1.25 GiB"},
       {kAtMax},
       Step(64 * kMiB)},
      {"bounded by the device size",
       Cycles(3, Db(128 * kMiB, GiB(1.25), GiB(1.25), GiB(1.5))),
       {"virtio-mem db/vmem0: requested 1.25 GiB -> 1.5 GiB"},
       {kAtMax},
       Step(512 * kMiB)},
      {"device at its size",
       Cycles(3, Db(128 * kMiB, kGiB, kGiB, kGiB)),
       {},
       {kAtMax, kDev + "virtio_mem.grow: device at its size 1 GiB"}},
      {"bounded by the node's headroom above release_above",
       Cycles(3, Db(64 * kMiB), NodeBuilder().Available(13 * kGiB)),
       {"virtio-mem db/vmem0: requested 1 GiB -> 1.19 GiB"},
       {kAtMax}},
      {"bounded by the node's free memory",
       Cycles(3, Db(), NodeBuilder().Available(20 * kGiB).Free(100 * kMiB)),
       {},
       {kAtMax, kDev + "virtio_mem.grow: node 0 headroom 100 MiB (free, and above release_above) is less "
                       "than one block 128 MiB"}},
      {"a node in the dead band has no headroom",
       Cycles(3, Db(), NodeBuilder()),
       {},
       {"node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]",
        "vm db: balloon.release: under pressure (usable 5% < usable_below_ratio 10%) but no node it sits on "
        "is above release_above",
        kDev + "virtio_mem.grow: node 0 headroom 0 B (free, and above release_above) is less than one block "
               "128 MiB"}},
      {"pending change: no new one",
       Cycles(3, Db(128 * kMiB, GiB(1.25), kGiB)),
       {},
       {kAtMax, kDev + "virtio_mem.settle: pending: current 1 GiB, requested 1.25 GiB for 4 s of settle_timeout 30 s"},
       {},
       Pending(GiB(1.25), At(0))},
      {"pending change of unknown age: no new one",
       Cycles(3, Db(128 * kMiB, GiB(1.25), kGiB)),
       {},
       {kAtMax, kDev + "virtio_mem.settle: pending: current 1 GiB, requested 1.25 GiB since an unknown time"}},
      {"settle timeout: a new change steps from the plugged size",
       Cycles(3, Db(128 * kMiB, GiB(1.25), kGiB)),
       {"virtio-mem db/vmem0: requested 1.25 GiB -> 1.5 GiB"},
       {kAtMax},
       Step(512 * kMiB),
       Pending(GiB(1.25), At(-30), true)},
      {"settle timeout: re-requesting the same size is pointless",
       Cycles(3, Db(128 * kMiB, GiB(1.25), kGiB)),
       {},
       {kAtMax, kDev + "virtio_mem.grow: requested 1.25 GiB already; the guest plugged 1 GiB within settle_timeout"},
       {},
       Pending(GiB(1.25), At(-30), true)},
      {"settle timeout: a grow never lowers the request (plugged far below requested)",
       Cycles(3, Db(128 * kMiB, GiB(1.25), 0)),
       {},
       {kAtMax, kDev + "virtio_mem.grow: requested 1.25 GiB already; the guest plugged 0 B within settle_timeout"},
       {},
       Pending(GiB(1.25), At(-30), true)},
      {"below the balloon maximum the balloon grows first",
       Cycles(3, VmBuilder(Db()).Balloon(6 * kGiB, 8 * kGiB)),
       {"balloon db: 6 GiB -> 6.5 GiB"},
       {}},
      {"within one block of the maximum: the balloon still goes first",
       Cycles(3, VmBuilder(Db()).Balloon(8 * kGiB - 100 * kMiB, 8 * kGiB)),
       {"balloon db: 7.9 GiB -> 8 GiB"},
       {}},
      {"the streak restarts at the last resize",
       Cycles(4, Db()),
       {},
       {kAtMax,
        "vm db: virtio_mem.grow: at balloon maximum and usable 5% < usable_below_ratio 10% for 2 of sustain "
        "3 cycles"},
       {},
       changed},
      {"disabled", Cycles(3, Db()), {}, {kAtMax}, off},
  });
}

TEST(PolicyVirtioMemGrow, StaysBlockAlignedWithAnOddBlock) {
  const uint64_t block = 192 * kMiB;
  const auto plan = DecideOn(Cycles(3, Db(block, 6 * block, 6 * block)));
  ASSERT_EQ(plan.actions.size(), 1u) << model::ToString(plan);
  const auto& a = std::get<model::ResizeVirtioMem>(plan.actions[0]);
  EXPECT_EQ(a.to_requested_bytes, 7 * block);  // a 256 MiB step rounds down to one 192 MiB block
  EXPECT_EQ(a.to_requested_bytes % block, 0u);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).ToString(),
            "virtio_mem.grow: vm db at balloon maximum 8 GiB and usable 5% < usable_below_ratio 10% for 3 cycles "
            "(sustain 3); vmem0 on node 0 +192 MiB, node headroom 7.2 GiB, size 8 GiB");
}

// A VM whose guest leaves 75% of its memory unused, with 2 GiB plugged in 128 MiB blocks.
VmBuilder Idle(uint64_t block = 128 * kMiB, uint64_t requested = 2 * kGiB) {
  return VmBuilder("idle")
      .Balloon(8 * kGiB, 8 * kGiB)
      .Usable(7 * kGiB)
      .Unused(6 * kGiB)
      .VirtioMem("vmem0", 0, 8 * kGiB, block, requested, requested);
}

// Observations every 30 s from 0 to `until`; `change(i, vm)` may alter the VM of observation i.
std::vector<Observation> Idling(
    int until, const VmBuilder& vm, const std::function<void(int, VmBuilder&)>& change = [](int, VmBuilder&) {}) {
  std::vector<Observation> out;
  for (int t = 0; t <= until; t += 30) {
    VmBuilder v = vm;
    change(t, v);
    out.push_back(ObservationBuilder(At(t)).Node(NodeBuilder()).Vm(v).Build());
  }
  return out;
}

TEST(PolicyVirtioMemShrink, Table) {
  const std::string dead =
      "node 0: balloon.reclaim: dead band: available 9.6 GiB within [6.4 GiB (10%), 12.8 GiB (20%)]";
  ControllerState changed;
  changed.devices[{"uuid-idle", "vmem0"}].last_change = At(100);
  RunTable({
      {"shrinks after shrink_after of unused memory",
       Idling(300, Idle()),
       {"virtio-mem idle/vmem0: requested 2 GiB -> 1.75 GiB"},
       {dead}},
      {"not long enough", Idling(270, Idle()), {}, {dead}},
      {"a busy moment restarts the clock",
       Idling(300, Idle(),
              [](int t, VmBuilder& v) {
                if (t == 150) v.Unused(kGiB);
              }),
       {},
       {dead}},
      {"stale stats: never shrink",
       Idling(300, Idle(),
              [](int t, VmBuilder& v) {
                if (t == 300) v.StatsAge(seconds{31});
              }),
       {},
       {dead, "vm idle: virtio_mem.shrink: stats 31 s old (stale_after 30 s)"}},
      {"floor reached",
       Idling(300, VmBuilder(Idle()).MinGuarantee(GiB(7.95))),
       {},
       {dead, "vm idle virtio-mem vmem0: virtio_mem.shrink: floor reached: current 8 GiB, floor 7.95 GiB"}},
      {"floor reached with the bytes budget spent too: the floor is the reason",
       Idling(300, VmBuilder(Idle()).MinGuarantee(GiB(7.95))),
       {},
       {dead, "vm idle virtio-mem vmem0: virtio_mem.shrink: floor reached: current 8 GiB, floor 7.95 GiB"},
       [] {
         Policy p;
         p.limits.max_bytes_per_minute = 0;
         return p;
       }()},
      {"requested but nothing plugged yet: pending, said so, not shrunk",
       Idling(300, VmBuilder("idle")
                       .Balloon(8 * kGiB, 8 * kGiB)
                       .Usable(7 * kGiB)
                       .Unused(6 * kGiB)
                       .VirtioMem("vmem0", 0, 8 * kGiB, 128 * kMiB, 2 * kGiB, 0)),
       {},
       {dead,
        "vm idle virtio-mem vmem0: virtio_mem.settle: pending: current 0 B, requested 2 GiB since an "
        "unknown time"}},
      {"the floor bounds the step, block-aligned",
       Idling(300, VmBuilder(Idle(64 * kMiB)).MinGuarantee(GiB(7.9))),
       {"virtio-mem idle/vmem0: requested 2 GiB -> 1.94 GiB"},
       {dead}},
      {"never below zero",
       Idling(300, Idle(128 * kMiB, 128 * kMiB)),
       {"virtio-mem idle/vmem0: requested 128 MiB -> 0 B"},
       {dead}},
      {"after a resize the clock restarts", Idling(300, Idle()), {}, {dead}, {}, changed},
  });
}

TEST(PolicyVirtioMemSettle, TrackCountsEachTimeoutOnce) {
  const Policy p;
  ControllerState s;
  const VmBuilder vm = Db(128 * kMiB, GiB(1.25), kGiB);
  for (int t = 0; t <= 60; t += 2) policy::Track(s, ObservationBuilder(At(t)).Vm(vm).Build(), p);
  EXPECT_EQ(s.settle_timeouts_total, 1u);
  const auto& d = s.devices.at({"uuid-db", "vmem0"});
  EXPECT_TRUE(d.timed_out);
  EXPECT_EQ(d.pending_since, At(0));
  // Settled: the pending mark goes, the count stays.
  policy::Track(s, ObservationBuilder(At(62)).Vm(Db(128 * kMiB, GiB(1.25), GiB(1.25))).Build(), p);
  EXPECT_FALSE(s.devices.at({"uuid-db", "vmem0"}).pending_requested.has_value());
  EXPECT_EQ(s.settle_timeouts_total, 1u);
}

TEST(PolicyVirtioMemSettle, ApplyOutcomeStartsTheSettleClock) {
  ControllerState s;
  const model::Action a = model::ResizeVirtioMem{{"uuid-db", "db"}, "vmem0", 0, kGiB, GiB(1.25), {}};
  policy::ApplyOutcome(s, a, model::Outcome{}, At(10));
  const auto& d = s.devices.at({"uuid-db", "vmem0"});
  EXPECT_EQ(d.pending_requested, GiB(1.25));
  EXPECT_EQ(d.pending_since, At(10));
  EXPECT_EQ(d.last_change, At(10));
  EXPECT_EQ(policy::BytesMovedLastMinute(s, At(10)), 256 * kMiB);
  // A failed resize restarts the streaks but leaves nothing pending and moves nothing.
  ControllerState f;
  policy::ApplyOutcome(f, a, model::Outcome{false, "device busy", {}, false, {}, {}, {}, {}, {}, {}, {}}, At(10));
  EXPECT_FALSE(f.devices.at({"uuid-db", "vmem0"}).pending_requested.has_value());
  EXPECT_EQ(f.devices.at({"uuid-db", "vmem0"}).last_change, At(10));
  EXPECT_EQ(policy::BytesMovedLastMinute(f, At(10)), 0u);
  EXPECT_EQ(f.failures_total, 1u);
}

}  // namespace
}  // namespace kvmem::test
