// Compressed offload for real: the product's own observe -> decide -> act cycle against a real
// cgroup v2 with zram swap. Runs only inside tests/e2e/offload_guest.sh, whose TCG guest mounts
// cgroup2, puts kvmem-offload-workload (96 MiB, touched once, then idle) in /sys/fs/cgroup/vm,
// swaps on /dev/zram0 and sets KVMEM_OFFLOAD_GUEST_PID; anywhere else it skips (and the script
// fails on a skip). Phase 1: the cycle steps memory.reclaim until max_ratio; the workload's anon
// memory must drop into zram. Phase 2: the workload touches all of it again; the refault guard
// must trip and no step may be planned during the back-off. Then one ask for more than the
// cgroup holds: EAGAIN from the kernel, a partial success for the actuator.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "controller/actuate/offload.h"
#include "controller/loop/cycle.h"
#include "controller/observe/cgroups.h"
#include "controller/observe/observe.h"
#include "controller/observe/read_back.h"
#include "host/procfs/cgroup.h"
#include "host/procfs/swap.h"

namespace kvmem {
namespace {

using namespace std::chrono_literals;

// Sums what the kernel reclaimed (memory.current before - after) over the applied steps.
struct Reclaimed final : loop::CycleListener {
  uint64_t bytes = 0;
  int failed = 0;
  void Finished(const model::Action& /*action*/, const model::Outcome& o) override {
    bytes += o.bytes_reclaimed.value_or(0);
    failed += o.ok ? 0 : 1;
  }
};

struct Guest {
  procfs::Root root;
  observe::CgroupObserver cgroups{root};
  observe::HostReadBack read_back{root};
  actuate::OffloadActuator offload{&read_back};
  actuate::Router router{nullptr, nullptr, nullptr, nullptr, nullptr, &offload};
  loop::ControlCycle cycle;
  model::VmObservation vm;
  Reclaimed reclaimed;

  Guest(int pid, const model::Policy& p) : cycle(p) {
    vm.name = "workload";
    vm.uuid = "uuid-workload";
    vm.running = true;
    vm.qemu_pid = pid;
  }
  // One cycle on this guest's real /proc and /sys; the plan and the VM as observed.
  std::pair<model::Plan, model::VmObservation> Step() {
    auto obs = observe::ObserveHost(root, model::ToTimePoint(std::chrono::steady_clock::now()));
    EXPECT_TRUE(obs) << obs.error().ToString();
    if (!obs) return {};
    obs->vms = {vm};
    cgroups.Fill(obs->vms);
    model::VmObservation seen = obs->vms[0];
    return {cycle.Step(std::move(*obs), router, &reclaimed), seen};
  }
};

procfs::ZramMmStat Zram() {
  auto devices = procfs::ReadZramDevices({});
  return devices && !devices->empty() ? (*devices)[0].mm : procfs::ZramMmStat{};
}
uint64_t ZramOrigBytes() { return Zram().orig_data_size; }

std::string VmSkip(const model::Plan& plan) {
  for (const auto& s : plan.skips) {
    if (s.subject == "vm workload") return s.reason;
  }
  return {};
}

TEST(OffloadGuest, ReclaimsIntoZramThenTheRefaultGuardStopsIt) {
  const char* pid_env = std::getenv("KVMEM_OFFLOAD_GUEST_PID");
  if (!pid_env) GTEST_SKIP() << "runs inside tests/e2e/offload_guest.sh (a TCG guest with cgroup v2 and zram)";
  const int pid = std::atoi(pid_env);
  model::Policy p;  // the default offload policy, with a shorter cadence for a test of minutes
  p.interval = 500ms;
  p.offload.step_interval = 1s;
  p.offload.backoff = 20s;
  Guest g(pid, p);

  // Phase 1: steps until max_ratio stops them.
  auto [first_plan, first] = g.Step();
  ASSERT_TRUE(first.cgroup) << "the workload's cgroup was not found";
  ASSERT_EQ(first.cgroup->version, 2);
  const uint64_t anon0 = first.cgroup->anon_bytes.value_or(0), zram0 = ZramOrigBytes();
  int steps = 0;
  uint64_t asked = 0;
  model::VmObservation last = first;
  const auto t1 = std::chrono::steady_clock::now();
  std::string stop;
  while (std::chrono::steady_clock::now() - t1 < 120s) {
    std::this_thread::sleep_for(500ms);
    auto [plan, seen] = g.Step();
    last = seen;
    for (const auto& a : plan.actions) {
      const auto* r = std::get_if<model::ReclaimVmMemory>(&a);
      ASSERT_TRUE(r) << model::ToString(a);
      ++steps, asked += r->bytes;
    }
    stop = VmSkip(plan);
    ASSERT_EQ(stop.find("guard"), std::string::npos) << "a guard tripped on an idle workload: " << stop;
    if (stop.find("max_ratio") != std::string::npos) break;
  }
  const double phase1_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  ASSERT_TRUE(last.cgroup);
  const uint64_t anon1 = last.cgroup->anon_bytes.value_or(0), swap1 = last.cgroup->swap_bytes.value_or(0);
  const uint64_t zram1 = ZramOrigBytes();
  std::cout << "offload-guest: phase 1 " << phase1_s << " s, " << steps << " steps asking " << (asked >> 10)
            << " KiB, the kernel reclaimed " << (g.reclaimed.bytes >> 10) << " KiB (memory.current), "
            << g.reclaimed.failed << " failed; anon " << (anon0 >> 10) << " -> " << (anon1 >> 10)
            << " KiB; memory.swap.current " << (swap1 >> 10) << " KiB; zram orig_data_size " << (zram0 >> 10) << " -> "
            << (zram1 >> 10) << " KiB, compressed to " << (Zram().compr_data_size >> 10) << " KiB; last skip: " << stop
            << std::endl;
  EXPECT_NE(stop.find("reached max_ratio 50%"), std::string::npos) << stop;
  EXPECT_EQ(g.reclaimed.failed, 0);
  EXPECT_GE(g.reclaimed.bytes, asked * 9 / 10) << "memory.current fell by about what was asked, or more";
  EXPECT_LE(anon1, anon0 * 6 / 10) << "anon memory must drop by at least 40%";
  EXPECT_GE(swap1, (anon0 - anon1) * 9 / 10) << "what left anon memory is in swap";
  EXPECT_GE(zram1 - zram0, (anon0 - anon1) * 9 / 10) << "and that swap is zram";

  // Phase 2: the workload wants its memory back.
  ASSERT_EQ(::kill(pid, SIGUSR1), 0);
  const auto t2 = std::chrono::steady_clock::now();
  std::string guard;
  while (guard.empty() && std::chrono::steady_clock::now() - t2 < 60s) {
    std::this_thread::sleep_for(500ms);
    auto [plan, seen] = g.Step();
    for (const auto& a : plan.actions) ADD_FAILURE() << "planned while the workload refaults: " << model::ToString(a);
    if (VmSkip(plan).starts_with("guard: ")) guard = VmSkip(plan);
  }
  const double trip_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  std::cout << "offload-guest: guard tripped " << trip_s << " s after the workload woke: " << guard << std::endl;
  ASSERT_NE(guard.find("refault "), std::string::npos) << guard;
  EXPECT_NE(guard.find("no step for backoff 20 s"), std::string::npos) << guard;

  // The back-off holds: 10 s (half of it) without a step, whatever the rates do meanwhile.
  const auto t3 = std::chrono::steady_clock::now();
  int cycles = 0;
  std::string later;
  while (std::chrono::steady_clock::now() - t3 < 10s) {
    std::this_thread::sleep_for(500ms);
    auto [plan, seen] = g.Step();
    ++cycles;
    later = VmSkip(plan);
    EXPECT_TRUE(later.starts_with("guard: ") || later.starts_with("backoff ")) << later;
    for (const auto& a : plan.actions) ADD_FAILURE() << "planned during the back-off: " << model::ToString(a);
  }
  std::cout << "offload-guest: " << cycles << " cycles in 10 s of back-off, no step; last skip: " << later << std::endl;
}

// memory.reclaim asked for more than the cgroup holds: the kernel reclaims what it can and
// answers EAGAIN, which the actuator reports as a success with what memory.current lost.
TEST(OffloadGuest, AskingMoreThanTheCgroupHoldsIsAPartialSuccess) {
  const char* pid_env = std::getenv("KVMEM_OFFLOAD_GUEST_PID");
  if (!pid_env) GTEST_SKIP() << "runs inside tests/e2e/offload_guest.sh (a TCG guest with cgroup v2 and zram)";
  procfs::Root root;
  auto where = procfs::LocateMemoryCgroup(root, std::atoi(pid_env));
  ASSERT_TRUE(where) << where.error().ToString();
  observe::HostReadBack read_back(root);
  actuate::OffloadActuator offload(&read_back);
  model::ReclaimVmMemory ask;
  ask.vm = {"uuid-workload", "workload"};
  ask.cgroup = where->dir;
  ask.bytes = 512ULL << 20;  // the cgroup holds about 100 MiB
  const auto start = std::chrono::steady_clock::now();
  const model::Outcome out = offload.Apply(ask);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "offload-guest: asked 512 MiB of a ~100 MiB cgroup: " << model::ToString(out) << " in " << s << " s"
            << std::endl;
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_TRUE(out.bytes_reclaimed.has_value());
}

}  // namespace
}  // namespace kvmem
