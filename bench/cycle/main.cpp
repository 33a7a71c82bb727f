// kvmem_cycle_bench: what one control cycle (loop::ControlCycle::Step: window, track, decide,
// apply) costs on a host of 4 NUMA nodes with 100 or 1000 VMs, in wall time and heap
// allocations per cycle. The actuator accepts every action at once, so only the controller's
// own work is measured. Two host states: "reclaim" (every node below reclaim_below, so every
// VM is a candidate each cycle) and "steady" (every node in the dead band).
//   kvmem_cycle_bench [--cycles N] [--out FILE]   prints (and writes) the Markdown results
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "controller/loop/cycle.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace kvmem;
constexpr uint64_t kGiB = 1ULL << 30;

class AcceptAll final : public actuate::Actuator {
 public:
  model::Outcome Apply(const model::Action&) noexcept override { return {}; }
};

model::Observation Host(int vms, double available_share, model::TimePoint now) {
  model::Observation obs;
  obs.time = now;
  for (int n = 0; n < 4; ++n) {
    model::NodeObservation node;
    node.id = n;
    node.total_bytes = 512 * kGiB;
    node.available_bytes = node.free_bytes = static_cast<uint64_t>(available_share * 512 * kGiB);
    node.fragmentation_index = -1;
    node.unusable_ratio = 0;
    obs.nodes.push_back(node);
  }
  for (int i = 0; i < vms; ++i) {
    model::VmObservation vm;
    vm.name = "vm" + std::to_string(i);
    vm.uuid = "00000000-0000-0000-0000-" + std::to_string(100000000000 + i);
    vm.running = true;
    vm.balloon_current_bytes = vm.balloon_maximum_bytes = 8 * kGiB;
    vm.guest_available_bytes = 8 * kGiB;
    vm.guest_usable_bytes = vm.guest_unused_bytes = 4 * kGiB;
    vm.guest_stats_time = now - std::chrono::seconds{1};
    vm.memory_per_node = {{i % 4, 8 * kGiB}};
    vm.vcpus_per_node = {{i % 4, 2}};
    model::VmCgroup cg;  // a cgroup v2 of its own, so the offload rule weighs every VM
    cg.path = "/sys/fs/cgroup/machine.slice/" + vm.name + ".scope";
    cg.current_bytes = 8 * kGiB;
    cg.anon_bytes = 7 * kGiB;
    cg.file_bytes = 1 * kGiB;
    cg.swap_bytes = cg.zswap_bytes = cg.zswapped_bytes = 0;
    cg.psi_some_seconds_total = cg.psi_full_seconds_total = 0.0;
    cg.refault_pages_total = 0;
    vm.cgroup = std::move(cg);
    obs.vms.push_back(std::move(vm));
  }
  // KSM running and zram swap: the KSM and offload rules run every cycle too.
  obs.cpus = 128;
  model::KsmObservation ksm;
  ksm.run = 1;
  ksm.pages_to_scan = 1250;
  ksm.sleep_millisecs = 20;
  ksm.pages_sharing = 1 << 20;
  ksm.ksmd_cpu_seconds_total = 100.0;
  obs.ksm = ksm;
  model::SwapObservation swap;
  swap.total_bytes = swap.free_bytes = 64 * kGiB;
  swap.zram_only = true;
  obs.swap = swap;
  return obs;
}

struct Result {
  double p50_us = 0, p99_us = 0;
  uint64_t allocations_p50 = 0;
};

Result Measure(int vms, double available_share, int cycles) {
  loop::ControlCycle cycle{model::Policy{}};
  AcceptAll actuator;
  std::vector<double> micros;
  std::vector<uint64_t> allocations;
  const model::TimePoint start{std::chrono::hours{1000}};
  for (int c = 0; c < cycles; ++c) {
    model::Observation obs = Host(vms, available_share, start + std::chrono::seconds{2 * c});
    const uint64_t before = g_allocations.load();
    const auto t0 = std::chrono::steady_clock::now();
    model::Plan plan = cycle.Step(std::move(obs), actuator, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    if (c < 60) continue;  // warm-up: the window fills and cooldowns settle
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    allocations.push_back(g_allocations.load() - before);
  }
  std::sort(micros.begin(), micros.end());
  std::sort(allocations.begin(), allocations.end());
  Result r;
  r.p50_us = micros[micros.size() / 2];
  r.p99_us = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  r.allocations_p50 = allocations[allocations.size() / 2];
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int cycles = 360;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cycles" && i + 1 < argc)
      cycles = std::atoi(argv[++i]);
    else if (a == "--out" && i + 1 < argc)
      out = argv[++i];
    else {
      std::fprintf(stderr, "usage: kvmem_cycle_bench [--cycles N (>= 100)] [--out FILE]\n");
      return 2;
    }
  }
  if (cycles < 100) {
    std::fprintf(stderr, "kvmem_cycle_bench: --cycles must be at least 100 (60 are warm-up)\n");
    return 2;
  }
  std::string md = "| VMs | host | cycle p50 | cycle p99 | allocations per cycle (p50) |\n|---:|---|---:|---:|---:|\n";
  for (int vms : {100, 1000}) {
    for (auto [name, share] : {std::pair{"reclaim", 0.05}, std::pair{"steady", 0.15}}) {
      const Result r = Measure(vms, share, cycles);
      char line[200];
      std::snprintf(line, sizeof line, "| %d | %s | %.0f µs | %.0f µs | %llu |\n", vms, name, r.p50_us, r.p99_us,
                    static_cast<unsigned long long>(r.allocations_p50));
      md += line;
    }
  }
  std::fputs(md.c_str(), stdout);
  if (out.empty()) return 0;
  std::string load = "unknown";
  if (std::ifstream f("/proc/loadavg"); f) f >> load;
  std::ofstream(out)
      << "# One control cycle at scale\n\n"
      << "Written by `build/bench/cycle/kvmem_cycle_bench --out bench/cycle/RESULTS.md` (" << cycles
      << " cycles per row, the first 60 not counted; load average " << load
      << " when measured: compare rows of one run, not runs). "
      << "A host of 4 nodes of 512 GiB and 128 CPUs, VMs of 8 GiB with fresh stats, each in a cgroup v2 of its own; "
         "KSM "
         "running and zram swap, so the KSM and offload rules weigh every cycle too; the default policy; an actuator "
      << "that accepts every action at once, so the numbers are the controller's own work: window, "
      << "track, decide and apply (loop::ControlCycle::Step). The interval is 2 s.\n\n"
      << md;
  return 0;
}
