// The simulator's density model and the baselines' KSM rules: ksmd's scan rate and CPU, merging
// by image (nosharepages and lone images never merge), a full pass merging everything
// identical, copy-on-write unmerging, the saving raising node free memory; offload taking cold
// pages first, the compressed size, the cgroup's counters, refaults and their stall; the
// scenario keys; MOM's ksm rule and ksmtuned (boost, decay, stop, sleep scaled by host size).
#include <gtest/gtest.h>

#include <cmath>

#include "bench/sim/controller.h"
#include "bench/sim/metrics.h"
#include "bench/sim/plant.h"
#include "bench/sim/scenario.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kPages4GiB = 1048576;  // 4 GiB of 4 KiB pages

sim::VmSpec Vm(std::string name, std::string image, double shareable, double cold, bool nosharepages = false) {
  sim::VmSpec vm{std::move(name), 4 * kGiB, 4 * kGiB, 4 * kGiB, 1000, {}, {}, {}, seconds{5}, {}};
  vm.demand.base = 2.0 * kGiB;
  vm.image = std::move(image);
  vm.shareable = shareable;
  vm.cold = cold;
  vm.nosharepages = nosharepages;
  return vm;
}

// a and b share an image; c has nosharepages; d is alone with its image.
sim::Scenario KsmHost(double cow_per_minute = 0) {
  sim::Scenario sc;
  sc.duration = seconds{600};
  sc.cpus = 8;
  sc.nodes = {{0, 64 * kGiB, {}}};
  sc.vms = {Vm("a", "img", 0.5, 0), Vm("b", "img", 0.5, 0), Vm("c", "img", 0.5, 0, true), Vm("d", "other", 0.5, 0)};
  sc.ksm = sim::KsmSpec{1, 1000, 10, 1e-6, cow_per_minute};
  return sc;
}

void AdvanceTo(sim::Plant& p, int64_t ms) {
  for (int64_t t = p.now().count() + 100; t <= ms; t += 100) p.Advance(milliseconds{t});
}

TEST(SimDensity, KsmdScansAtItsRateAndPaysCpuPerPage) {
  const sim::Scenario sc = KsmHost();
  sim::Plant p(sc);
  AdvanceTo(p, 10'000);
  // 1000 pages per batch of 1000 x 1 us + 10 ms: 90909.09 pages/s for 10 s.
  const double scanned = 1000.0 / 0.011 * 10;
  EXPECT_NEAR(p.ksm().pages_scanned, scanned, 1e-3);
  EXPECT_NEAR(p.ksm().cpu_seconds, scanned * 1e-6, 1e-9);
  // a, b and d are mergeable (c is not): each VM's identical half merges as the scan advances.
  const double progress = scanned / (3 * kPages4GiB);
  EXPECT_NEAR(p.vms()[0].merged_pages, 0.5 * kPages4GiB * progress, 1e-3);
  EXPECT_EQ(p.vms()[2].merged_pages, 0);
  EXPECT_EQ(p.vms()[3].merged_pages, 0);
  const model::Observation obs = p.Observe();
  ASSERT_TRUE(obs.ksm.has_value());
  EXPECT_EQ(obs.ksm->pages_sharing, 151515u);  // two copies of 151515.15 pages keep one
  EXPECT_EQ(obs.ksm->pages_shared, 151515u);
  EXPECT_EQ(obs.cpus, 8);
  EXPECT_TRUE(obs.vms[2].nosharepages);
}

TEST(SimDensity, AFullPassMergesEverythingIdenticalAndFreesItOnTheNode) {
  const sim::Scenario sc = KsmHost();
  sim::Plant p(sc);
  const int64_t free_before = p.nodes()[0].free;
  AdvanceTo(p, 40'000);  // a pass over 3 x 1048576 pages takes 34.6 s
  EXPECT_EQ(p.vms()[0].merged_pages, 0.5 * kPages4GiB);
  EXPECT_EQ(p.vms()[1].merged_pages, 0.5 * kPages4GiB);
  const model::Observation obs = p.Observe();
  EXPECT_EQ(obs.ksm->pages_sharing, 524288u);
  EXPECT_EQ(obs.ksm->full_scans, 1u);
  // Saved: 524288 pages = 2 GiB; KSM's rmap items (64 bytes for each of 3145728 pages) cost.
  EXPECT_EQ(*obs.ksm->general_profit_bytes, 2147483648 - 3145728LL * 64);
  EXPECT_EQ(p.nodes()[0].free - free_before, static_cast<int64_t>(2 * kGiB));
  EXPECT_EQ(p.nodes()[0].saved, 2 * kGiB);
}

TEST(SimDensity, StoppedKsmCostsNothingAndCopyOnWriteUnmerges) {
  const sim::Scenario sc = KsmHost(0.6);  // 1 % of merged pages a second
  sim::Plant p(sc);
  AdvanceTo(p, 40'000);
  const double merged = p.vms()[0].merged_pages;
  EXPECT_TRUE(p.Submit(model::SetKsm{{1, 1000, 10}, {0, 1000, 10}, {}}, milliseconds{40'000}));
  EXPECT_EQ(p.Observe().ksm->run, 0);
  const double cpu = p.ksm().cpu_seconds;
  AdvanceTo(p, 41'000);
  EXPECT_EQ(p.ksm().cpu_seconds, cpu);
  EXPECT_NEAR(p.vms()[0].merged_pages, merged * std::pow(1 - 0.001, 10), 1e-6);
}

// One VM of 4 GiB, `cold` of it cold; zswap at 4:1, warm pages touched 60 % a minute.
sim::Scenario OffloadHost(double cold, int64_t seconds_long) {
  sim::Scenario sc;
  sc.duration = seconds{seconds_long};
  sc.nodes = {{0, 64 * kGiB, {}}};
  sc.vms = {Vm("a", "", 0, cold)};
  sc.offload = sim::OffloadSpec{4, 10e-6, 0.6, 0};
  return sc;
}

TEST(SimDensity, ReclaimTakesColdPagesFirstAndSavesAllButTheCompressedSize) {
  const sim::Scenario sc = OffloadHost(0.25, 60);
  sim::Plant p(sc);
  const int64_t free_before = p.nodes()[0].free;
  const model::ReclaimVmMemory reclaim{{"uuid-a", "a"}, "/sys/fs/cgroup/a", 3 * kGiB / 2, {}};
  ASSERT_TRUE(p.Submit(reclaim, milliseconds{0}));
  EXPECT_EQ(p.vms()[0].offloaded_cold, 1.0 * kGiB);  // all of the cold quarter, then warm pages
  EXPECT_EQ(p.vms()[0].offloaded_warm, 0.5 * kGiB);
  EXPECT_EQ(p.nodes()[0].free - free_before, static_cast<int64_t>(1.125 * kGiB));  // 1.5 GiB x (1 - 1/4)
  model::Observation obs = p.Observe();
  ASSERT_TRUE(obs.vms[0].cgroup.has_value());
  const model::VmCgroup& cg = *obs.vms[0].cgroup;
  EXPECT_EQ(cg.version, 2);
  EXPECT_EQ(*cg.anon_bytes, 5 * kGiB / 2);
  EXPECT_EQ(*cg.swap_bytes, 3 * kGiB / 2);
  EXPECT_EQ(*cg.zswapped_bytes, 3 * kGiB / 2);
  EXPECT_EQ(*cg.zswap_bytes, 3 * kGiB / 8);
  EXPECT_EQ(*cg.current_bytes, 5 * kGiB / 2 + 3 * kGiB / 8);
  ASSERT_TRUE(obs.swap.has_value());
  EXPECT_TRUE(obs.swap->Compressed());
  // One tick: 0.1 % of the warm offloaded pages come back (60 %/min), cold ones never here.
  p.Advance(milliseconds{100});
  EXPECT_NEAR(p.vms()[0].refault_pages, 0.5 * kGiB * 0.001 / 4096, 1e-9);
  EXPECT_NEAR(p.vms()[0].psi_some_seconds, 0.5 * kGiB * 0.001 / 4096 * 10e-6, 1e-12);
  EXPECT_EQ(p.vms()[0].offloaded_cold, 1.0 * kGiB);
  EXPECT_FALSE(p.Submit(model::ReclaimVmMemory{{"uuid-x", "x"}, "", kGiB, {}}, milliseconds{100}));
}

TEST(SimDensity, RecorderMeasuresTheWorstRefaultMinuteAndTheSavingAtTheEnd) {
  const sim::Scenario sc = OffloadHost(0, 150);
  sim::Plant p(sc);
  sim::Recorder rec(sc);
  ASSERT_TRUE(p.Submit(model::ReclaimVmMemory{{"uuid-a", "a"}, "", kGiB, {}}, milliseconds{0}));
  for (int64_t t = 0; t < 150'000; t += 100) {
    p.Advance(milliseconds{t});
    rec.Sample(p, milliseconds{100});
  }
  const sim::Metrics m = rec.Finish("x");
  // The first whole minute is the worst: 1 GiB offloaded warm, 0.1 % of it back each tick.
  const double left = std::pow(0.999, 600);
  EXPECT_NEAR(m.refault_worst_ratio, (1 - left) * kGiB / (4 * kGiB - left * kGiB), 1e-9);
  EXPECT_NEAR(m.offload_saved_ratio, p.vms()[0].Offloaded() * 0.75 / (4 * kGiB), 1e-12);
  // Over the run: everything that came back / the resident byte-minutes, sampled every tick.
  double resident_minutes = 0;
  for (int k = 0; k < 1500; ++k) resident_minutes += (4 - std::pow(0.999, k)) * kGiB * 0.1 / 60;
  EXPECT_NEAR(m.refault_mean_ratio, (1 - std::pow(0.999, 1499)) * kGiB / resident_minutes, 1e-9);
  EXPECT_EQ(m.ksm_saved_mean_bytes, 0);
  double saved = 0;  // the offload saving, 3/4 of what is offloaded, each tick
  for (int k = 0; k < 1500; ++k) saved += std::pow(0.999, k) * kGiB * 0.75;
  EXPECT_NEAR(m.saved_mean_bytes, saved / 1500, 1e-3);
  EXPECT_EQ(m.ksmd_cpu_seconds, 0);
}

TEST(SimDensity, WithoutKsmOrOffloadTheObservationHasNeither) {
  sim::Scenario sc;
  sc.duration = seconds{60};
  sc.nodes = {{0, 64 * kGiB, {}}};
  sc.vms = {Vm("a", "", 0, 0.25)};
  sim::Plant p(sc);
  const model::Observation obs = p.Observe();
  EXPECT_FALSE(obs.ksm.has_value());
  EXPECT_FALSE(obs.swap.has_value());
  EXPECT_FALSE(obs.vms[0].cgroup.has_value());
  EXPECT_FALSE(p.Submit(model::SetKsm{{}, {1, 100, 20}, {}}, milliseconds{0}));
}

TEST(SimDensity, ScenarioKeysLoadAndBadValuesAreRefused) {
  const std::string head = "duration: 10m\nnodes: [{total: 64GiB}]\n";
  auto sc = sim::ParseScenario(head +
                                   "cpus: 16\nksm: {run: 1, pages_to_scan: 300, sleep_millisecs: 10, "
                                   "cpu_per_page: 1e-6, cow_per_minute: 2%}\n"
                                   "offload: {compression_ratio: 2.5, cold_touch_per_minute: 0.1%}\n"
                                   "vms: [{name: a, max: 4GiB, demand: 1GiB, image: x, shareable: 30%, cold: 40%, "
                                   "nosharepages: true}]\ntargets: {ksm_cpu_at_most: 50%, "
                                   "offload_saves_at_least: 15%, refaults_at_most: 0.2%}\n",
                               "f.yaml", "f");
  ASSERT_TRUE(sc.has_value()) << sc.error().ToString();
  EXPECT_EQ(sc->cpus, 16);
  EXPECT_EQ(sc->ksm->pages_to_scan, 300u);
  EXPECT_DOUBLE_EQ(sc->ksm->cow_per_minute, 0.02);
  EXPECT_DOUBLE_EQ(sc->offload->compression_ratio, 2.5);
  EXPECT_DOUBLE_EQ(sc->offload->cold_touch_per_minute, 0.001);
  EXPECT_DOUBLE_EQ(sc->offload->warm_touch_per_minute, 0.5);  // default
  EXPECT_EQ(sc->vms[0].image, "x");
  EXPECT_DOUBLE_EQ(sc->vms[0].shareable, 0.3);
  EXPECT_TRUE(sc->vms[0].nosharepages);
  EXPECT_DOUBLE_EQ(*sc->targets.refaults_at_most, 0.002);
  const struct {
    std::string yaml, error;
  } bad[] = {
      {"vms: [{name: a, max: 4GiB, shareable: 30%}]\n", "shareable needs an image"},
      {"vms: [{name: a, max: 4GiB, cold: 120%}]\n", "shareable and cold are at most 100 %"},
      {"ksm: {run: 2}\n", "ksm: needs run 0 or 1"},
      {"ksm: {speed: 1}\n", "unknown key ksm.speed at line 3, column 7"},
      {"offload: {compression_ratio: 0.5}\n", "compression_ratio >= 1"},
      {"cpus: -1\n", "cpus: must be >= 0"},
  };
  for (const auto& b : bad) {
    auto r = sim::ParseScenario(head + b.yaml, "f.yaml", "f");
    ASSERT_FALSE(r.has_value()) << b.yaml;
    EXPECT_NE(r.error().ToString().find(b.error), std::string::npos) << r.error().ToString();
  }
}

// 128 GiB host with `free` available; KSM as the kernel starts it unless `ksm` is given.
model::Observation KsmObs(uint64_t free, uint64_t committed, model::KsmSettings ksm = {0, 100, 20},
                          model::TimePoint at = kT0) {
  ObservationBuilder b(at);
  b.Node(NodeBuilder().Total(128 * kGiB).Available(free));
  if (committed > 0) b.Vm(VmBuilder("v").Balloon(committed, committed));
  model::Observation obs = b.Build();
  obs.ksm = model::KsmObservation{};
  obs.ksm->run = ksm.run;
  obs.ksm->pages_to_scan = ksm.pages_to_scan;
  obs.ksm->sleep_millisecs = ksm.sleep_millisecs;
  return obs;
}

std::optional<model::SetKsm> KsmOf(const std::vector<model::Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* k = std::get_if<model::SetKsm>(&a)) return *k;
  }
  return std::nullopt;
}

TEST(SimKsmRule, MomBoostsUnderTwentyPercentFreeDecaysAboveAndStopsWhenAllFits) {
  struct Case {
    const char* name;
    uint64_t free, committed;
    model::KsmSettings before;
    std::optional<model::KsmSettings> after;
  } cases[] = {
      // 10 GiB free < 25.6 GiB: run, 100 + 300 pages, 10 ms x 16 GiB / 128 GiB = 1 ms.
      {"boost", 10 * kGiB, 0, {0, 100, 20}, model::KsmSettings{1, 400, 1}},
      {"boost to the maximum", 10 * kGiB, 0, {1, 1100, 1}, model::KsmSettings{1, 1250, 1}},
      // 40 GiB free, but 112 GiB committed + 25.6 GiB > 128 GiB: keeps running, decays.
      {"decay", 40 * kGiB, 112 * kGiB, {1, 400, 1}, model::KsmSettings{1, 350, 1}},
      {"decay to the minimum", 40 * kGiB, 112 * kGiB, {1, 100, 1}, model::KsmSettings{1, 64, 1}},
      {"stop", 40 * kGiB, 60 * kGiB, {1, 400, 1}, model::KsmSettings{0, 400, 1}},
      {"already stopped", 40 * kGiB, 60 * kGiB, {0, 400, 1}, std::nullopt},
  };
  for (const auto& c : cases) {
    auto mom = sim::MakeMom();
    const auto k = KsmOf(mom->Cycle(KsmObs(c.free, c.committed, c.before)));
    ASSERT_EQ(k.has_value(), c.after.has_value()) << c.name;
    if (k) {
      EXPECT_EQ(k->to, *c.after) << c.name;
    }
  }
}

TEST(SimKsmRule, KsmtunedEveryMinuteFromZeroPagesWithATenMillisecondFloor) {
  auto pve = sim::MakeProxmox();
  model::KsmSettings knobs{0, 100, 20};
  std::vector<model::KsmSettings> seen;
  for (int s = 0; s <= 120; s += 10) {
    const auto k = KsmOf(pve->Cycle(KsmObs(10 * kGiB, 0, knobs, At(s))));
    if (!k) continue;
    knobs = k->to;
    seen.push_back(knobs);
  }
  // At 0, 60 and 120 s: its own count starts at 0, boosts by 300; sleep 1.25 ms -> 10 ms.
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (model::KsmSettings{1, 300, 10}));
  EXPECT_EQ(seen[1], (model::KsmSettings{1, 600, 10}));
  EXPECT_EQ(seen[2], (model::KsmSettings{1, 900, 10}));
}

}  // namespace
}  // namespace kvmem::test
