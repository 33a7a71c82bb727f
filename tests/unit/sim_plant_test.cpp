// The simulator's plant and scenario files: memory is conserved across actuation delays,
// residency splits and virtio-mem plugs; OOM events, stats outages and traces behave as
// docs/simulator.md says; scenario YAML loads exactly and rejects mistakes.
#include <gtest/gtest.h>

#include <cstdint>

#include "bench/sim/plant.h"
#include "bench/sim/run.h"
#include "bench/sim/scenario.h"
#include "controller/model/units.h"

namespace kvmem::sim {
namespace {

using model::kGiB;
using model::kMiB;
using std::chrono::milliseconds;
using std::chrono::seconds;

Trace Flat(double bytes) {
  Trace t;
  t.base = bytes;
  return t;
}

// Two nodes; a VM split 70/30, one bound to node 1 with virtio-mem there, one spread evenly.
Scenario TwoNodes() {
  Scenario sc;
  sc.duration = seconds{120};
  Trace host = Flat(2.0 * kGiB);
  host.segments = {{seconds{30}, seconds{30}, 3.0 * kGiB}, {seconds{60}, seconds{90}, 1.0 * kGiB}};
  sc.nodes = {{0, 32 * kGiB, host}, {1, 32 * kGiB, Flat(1.0 * kGiB)}};
  VmSpec a{"a", 8 * kGiB, 6 * kGiB, kGiB, 1000, {{0, 0.7}, {1, 0.3}}, Flat(3.0 * kGiB), {}, seconds{5}, {}};
  VmSpec b{"b",        4 * kGiB,   4 * kGiB,         kGiB,
           1000,       {{1, 1.0}}, Flat(1.0 * kGiB), VirtioMemSpec{1, 4 * kGiB, 128 * kMiB, 512 * kMiB},
           seconds{5}, {}};
  VmSpec c{"c", 3 * kGiB + 1, 3 * kGiB + 1, kGiB, 1000, {}, Flat(1.0 * kGiB), {}, seconds{5}, {}};
  sc.vms = {a, b, c};
  return sc;
}

// Every node: total = host + resident VM bytes + free; every VM: its bytes = balloon + plugged.
void ExpectConserved(const Plant& p) {
  int64_t all = 0;
  for (size_t i = 0; i < p.nodes().size(); ++i) {
    const NodeState& n = p.nodes()[i];
    EXPECT_EQ(static_cast<int64_t>(n.total),
              static_cast<int64_t>(n.host) + static_cast<int64_t>(p.Resident(i)) + n.free)
        << "node " << i << " at " << p.now().count() << " ms";
    all += n.free;
  }
  for (const auto& vm : p.vms()) {
    uint64_t sum = 0;
    for (uint64_t r : vm.resident) sum += r;
    EXPECT_EQ(sum, vm.balloon + vm.vmem_plugged) << vm.spec->name;
  }
  EXPECT_EQ(all, static_cast<int64_t>(64 * kGiB) - static_cast<int64_t>(p.nodes()[0].host + p.nodes()[1].host) -
                     static_cast<int64_t>(p.Resident(0) + p.Resident(1)));
}

model::SetBalloon Balloon(const std::string& vm, uint64_t from, uint64_t to) {
  return {{"uuid-" + vm, vm}, from, to, {}};
}

TEST(SimPlant, ConservesMemoryAcrossDelayedActuation) {
  const Scenario sc = TwoNodes();
  Plant p(sc);
  ExpectConserved(p);
  // Targets of odd sizes, overlapping delays, replaced pending targets and virtio-mem resizes.
  const uint64_t sizes[] = {5 * kGiB + 12345, 7 * kGiB + 1, 2 * kGiB + 3, 8 * kGiB, 3 * kGiB + 777};
  for (int64_t ms = 0; ms < 120'000; ms += 100) {
    p.Advance(milliseconds{ms});
    ExpectConserved(p);
    if (ms % 700 == 0) {
      const uint64_t to = sizes[static_cast<size_t>(ms / 700) % 5];
      const auto& vm = p.vms()[static_cast<size_t>(ms / 700) % 3];
      EXPECT_TRUE(p.Submit(Balloon(vm.spec->name, vm.Memory(), to), milliseconds{ms + 100 * (ms % 9 + 1)}));
    }
    if (ms % 1900 == 0) {
      const uint64_t to = static_cast<uint64_t>(ms / 1900 % 4) * kGiB + 128 * kMiB;
      EXPECT_TRUE(p.Submit(model::ResizeVirtioMem{{"uuid-b", "b"}, "vmem0", 1, 0, to, {}}, milliseconds{ms + 500}));
    }
  }
}

TEST(SimPlant, BalloonChangeArrivesAfterItsDelayAndMovesExactBytes) {
  const Scenario sc = TwoNodes();
  Plant p(sc);
  p.Advance(seconds{1});
  const int64_t free0 = p.nodes()[0].free, free1 = p.nodes()[1].free;
  ASSERT_TRUE(p.Submit(Balloon("a", 6 * kGiB, 5 * kGiB), milliseconds{1500}));
  p.Advance(milliseconds{1400});
  EXPECT_EQ(p.vms()[0].balloon, 6 * kGiB);  // not yet: the memory is still the guest's
  EXPECT_EQ(p.nodes()[0].free, free0);
  EXPECT_EQ(p.Observe().vms[0].balloon_current_bytes, 6 * kGiB);
  p.Advance(milliseconds{1500});
  EXPECT_EQ(p.vms()[0].balloon, 5 * kGiB);
  // 1 GiB freed, 70 % on node 0 (within a byte of rounding), the rest on node 1: not one
  // byte lost.
  const int64_t d0 = p.nodes()[0].free - free0, d1 = p.nodes()[1].free - free1;
  EXPECT_NEAR(static_cast<double>(d0), 0.7 * static_cast<double>(kGiB), 1.0);
  EXPECT_EQ(d0 + d1, static_cast<int64_t>(kGiB));
}

TEST(SimPlant, VirtioMemPlugsOnItsNodeAndCountsAsGuestMemory) {
  const Scenario sc = TwoNodes();
  Plant p(sc);
  const int64_t free1 = p.nodes()[1].free;
  ASSERT_TRUE(p.Submit(model::ResizeVirtioMem{{"uuid-b", "b"}, "vmem0", 1, 512 * kMiB, kGiB + 100, {}}, seconds{1}));
  EXPECT_EQ(p.Observe().vms[1].virtio_mem[0].requested_bytes, kGiB);  // aligned down to the block
  EXPECT_EQ(p.Observe().vms[1].virtio_mem[0].current_bytes, 512 * kMiB);
  p.Advance(seconds{1});
  const auto vm = p.Observe().vms[1];
  EXPECT_EQ(vm.virtio_mem[0].current_bytes, kGiB);
  EXPECT_EQ(vm.balloon_current_bytes, 5 * kGiB);
  EXPECT_EQ(vm.balloon_maximum_bytes, 5 * kGiB);
  EXPECT_EQ(p.nodes()[1].free, free1 - static_cast<int64_t>(512 * kMiB));
}

TEST(SimPlant, CountsOomEventsAndCapsTheGuest) {
  Scenario sc = TwoNodes();
  sc.vms[0].demand.segments = {{seconds{10}, seconds{10}, 7.0 * kGiB},
                               {seconds{20}, seconds{20}, 3.0 * kGiB},
                               {seconds{30}, seconds{30}, 6.5 * kGiB}};
  Plant p(sc);
  for (int s = 0; s <= 40; ++s) p.Advance(seconds{s});
  EXPECT_EQ(p.vms()[0].oom_events, 2u);  // 7 > 6 GiB, then 6.5 > 6 GiB: two rises
  EXPECT_TRUE(p.vms()[0].oom);
  EXPECT_EQ(p.Observe().vms[0].guest_usable_bytes, 0u);  // capped at its memory, not negative
}

// Advances tick by tick, as the run loop does.
void AdvanceTo(Plant& p, milliseconds to) {
  for (milliseconds t = p.now(); t <= to; t += milliseconds{100}) p.Advance(t);
}

TEST(SimPlant, StatsRefreshOnTheirPeriodAndFreezeOrVanishInOutages) {
  Scenario sc = TwoNodes();
  sc.outages = {{"a", seconds{20}, seconds{40}, false}, {"b", seconds{20}, seconds{40}, true}};
  Plant p(sc);
  AdvanceTo(p, seconds{17});
  EXPECT_EQ(p.Observe().vms[0].guest_stats_time, model::TimePoint{seconds{15}});
  AdvanceTo(p, seconds{37});
  EXPECT_EQ(p.Observe().vms[0].guest_stats_time, model::TimePoint{seconds{15}});  // stale
  EXPECT_FALSE(p.Observe().vms[1].guest_usable_bytes.has_value());                // missing
  AdvanceTo(p, seconds{41});
  EXPECT_EQ(p.Observe().vms[0].guest_stats_time, model::TimePoint{seconds{40}});
  EXPECT_EQ(p.Observe().vms[1].guest_usable_bytes, 3 * kGiB + 512 * kMiB);
}

TEST(SimTrace, StepsRampsSineAndNoise) {
  Trace t = Flat(1000);
  t.segments = {{seconds{10}, seconds{10}, 2000}, {seconds{20}, seconds{30}, 4000}};
  EXPECT_EQ(t.At(seconds{9}), 1000);
  EXPECT_EQ(t.At(seconds{10}), 2000);
  EXPECT_EQ(t.At(seconds{25}), 3000);
  EXPECT_EQ(t.At(seconds{31}), 4000);
  t.sine_amplitude = 500;
  t.sine_period = seconds{40};
  EXPECT_DOUBLE_EQ(t.At(seconds{50}), 4500);  // a quarter period past a whole one
  Trace n = Flat(1000);
  n.noise_amplitude = 100;
  n.noise_seed = 7;
  EXPECT_EQ(n.At(milliseconds{1200}), n.At(milliseconds{1900}));  // redrawn once a second
  EXPECT_GE(n.At(seconds{3}), 900);
  EXPECT_LE(n.At(seconds{3}), 1100);
}

TEST(SimScenario, LoadsTheFileFormat) {
  const auto sc = ParseScenario(R"(
title: t
duration: 10m
warmup: 1m
disturbance: 2m
band: [5%, 25%]
actuation_delay: [200ms, 400ms]
nodes:
  - {total: 16GiB, host: {base: 1GiB, steps: [{at: 2m, to: 2GiB}]}}
  - {total: 16GiB}
vms:
  - {name: w, count: 2, max: 4GiB, balloon: 3GiB, min: 1GiB, node: 1, demand: 2GiB,
     virtio_mem: {node: 1, size: 1GiB, block: 128MiB}}
outages: [{vm: w-1, from: 3m, to: 4m, mode: missing}]
targets: {settle_faster: 5}
)",
                                "test.yaml", "t");
  ASSERT_TRUE(sc.has_value()) << sc.error().ToString();
  EXPECT_EQ(sc->duration, std::chrono::minutes{10});
  EXPECT_EQ(sc->disturbance, std::chrono::minutes{2});
  EXPECT_DOUBLE_EQ(sc->band_low, 0.05);
  EXPECT_EQ(sc->delay_max, milliseconds{400});
  ASSERT_EQ(sc->vms.size(), 2u);
  EXPECT_EQ(sc->vms[1].name, "w-1");
  EXPECT_EQ(sc->vms[1].balloon, 3 * kGiB);
  EXPECT_EQ(sc->vms[1].residency.at(1), 1.0);
  EXPECT_EQ(sc->vms[1].virtio_mem->block, 128 * kMiB);
  EXPECT_EQ(sc->nodes[0].host.At(std::chrono::minutes{3}), 2.0 * kGiB);
  EXPECT_TRUE(sc->outages[0].missing);
  EXPECT_EQ(sc->targets.settle_faster, 5.0);
  EXPECT_TRUE(SafeAllocationExists(*sc));
}

TEST(SimScenario, RejectsUnknownKeysAndBadTiming) {
  auto bad =
      ParseScenario("duration: 1m\nnodes: [{total: 1GiB}]\nvms: [{name: a, max: 1GiB, ballon: 1GiB}]\n", "x.yaml", "x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("unknown key vms.ballon"), std::string::npos) << bad.error().message;
  bad = ParseScenario("duration: 1m\nwarmup: 2m\nnodes: [{total: 1GiB}]\n", "x.yaml", "x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("warmup"), std::string::npos);
}

}  // namespace
}  // namespace kvmem::sim
