// Scenario: everything one simulated run needs besides the controller: the host's NUMA nodes
// and their host usage, the VMs with their balloons and demand traces, stats outages, the
// evaluation band and the timing. Loaded from bench/sim/scenarios/*.yaml (docs/simulator.md
// documents the format). Traces are pure functions of time and the scenario seed, so every
// controller sees exactly the same demand and noise.
// Thread-safe as values. Loading throws nothing but std::bad_alloc: errors come back as Result.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controller/model/time.h"

namespace kvmem::sim {

using model::Duration;

// A size over time, in bytes: a level moved by steps and ramps, plus a sine and seeded noise.
struct Trace {
  // From `start` to `end` the level moves linearly to `value`; start == end is a step.
  // Segments are sorted by start and do not overlap (the loader checks).
  struct Segment {
    Duration start{0};
    Duration end{0};
    double value = 0;
  };
  double base = 0;
  std::vector<Segment> segments;
  double sine_amplitude = 0;
  Duration sine_period{0};
  double sine_phase = 0;       // fraction of a period, 0..1
  double noise_amplitude = 0;  // uniform in [-amplitude, amplitude], redrawn every noise_every
  Duration noise_every{1000};
  uint64_t noise_seed = 0;  // derived from the scenario seed and the trace's owner

  // The value at `t` (time since the start of the run), never below 0.
  double At(Duration t) const;
  // The level without sine and noise; what the trace's author wrote down.
  double Level(Duration t) const;
};

// A uniform draw in [0, 1) that depends only on (seed, index): noise without hidden state.
double Uniform(uint64_t seed, uint64_t index);
// Mixes a name into a seed (FNV-1a then splitmix), for per-series noise.
uint64_t SeedFor(uint64_t seed, std::string_view name);

struct NodeSpec {
  int id = 0;
  uint64_t total = 0;
  Trace host;  // memory the host itself uses on this node (kernel, services, page tables)
};

struct VirtioMemSpec {
  int node = 0;
  uint64_t size = 0;     // most that can be plugged
  uint64_t block = 0;    // every size is a multiple of this
  uint64_t plugged = 0;  // at the start
};

struct VmSpec {
  std::string name;
  uint64_t max = 0;                 // balloon maximum (boot memory)
  uint64_t balloon = 0;             // balloon size at the start
  uint64_t min = 0;                 // guaranteed memory: kvmem's min_guarantee, MOM's and Proxmox's minimum
  uint64_t shares = 1000;           // Proxmox auto-balloon shares
  std::map<int, double> residency;  // node -> weight; empty: even over every node
  Trace demand;                     // memory the guest's workload needs
  std::optional<VirtioMemSpec> virtio_mem;
  Duration stats_period{5000};  // how often the guest refreshes its balloon statistics
  Duration stats_phase{0};      // first refresh, within the first period
  int priority = 0;             // kvmem's VM priority (domain metadata): higher gives last, gets first
  // Density (docs/simulator.md "KSM and compressed memory"): the image the VM was booted from
  // (VMs of one image have `shareable` of their memory identical), <nosharepages/>, and the
  // share of its memory that is cold (untouched for minutes).
  std::string image{};  // empty: shares nothing
  double shareable = 0;
  bool nosharepages = false;
  double cold = 0;
};

// KSM on the simulated host: the knobs at the start, what scanning a page costs ksmd, and how
// fast guests write to merged pages (copy on write, which unmerges them).
struct KsmSpec {
  int run = 0;
  uint64_t pages_to_scan = 100;  // the kernel's defaults
  uint64_t sleep_millisecs = 20;
  double cpu_per_page = 0.7e-6;  // ksmd CPU seconds per page scanned
  double cow_per_minute = 0.01;  // share of the merged pages written (unmerged) per minute
};

// Compressed memory (zswap): how well pages compress, what a refault costs the vCPU, and how
// often offloaded pages are touched again, warm and cold ones (share per minute).
struct OffloadSpec {
  double compression_ratio = 3.0;
  double refault_stall = 6e-6;           // seconds a task stalls per page brought back
  double warm_touch_per_minute = 0.5;    // warm pages: touched within two minutes
  double cold_touch_per_minute = 0.005;  // cold pages: rarely
};

// The guest stops refreshing its statistics: kept with their old time (stale) or gone (missing).
struct Outage {
  std::string vm;
  Duration from{0};
  Duration to{0};
  bool missing = false;
};

// What REPORT.md checks for this scenario, on top of "no guest OOM where a safe allocation
// exists", which every scenario checks.
struct Targets {
  std::optional<double> settle_faster;  // kvmem settles this many times faster than each baseline
  std::optional<int> direction_changes_at_most;
  bool no_blind_shrinks = false;  // kvmem never shrinks a VM during its outage
  bool priority_spared = false;   // kvmem takes nothing from VMs of priority above 0
  // Density: kvmem's KSM saving >= each baseline's, with ksmd CPU <= this share of each one's.
  std::optional<double> ksm_cpu_at_most;
  // Compressed offload saves at least this share of VM memory, with refaults within
  // refaults_at_most (bytes per minute / resident bytes, each VM), and no guest OOM.
  std::optional<double> offload_saves_at_least;
  std::optional<double> refaults_at_most;
};

struct Scenario {
  std::string name;  // file stem, e.g. "step"
  std::string title;
  std::string description;
  Duration duration{0};
  Duration warmup{0};       // metrics count from here
  Duration disturbance{0};  // settling and overshoot are measured from here
  bool settling = true;     // false when the disturbance never ends (a diurnal cycle): no settling rows
  uint64_t seed = 1;
  double band_low = 0.10;   // node available below this share of its total: host pressure
  double band_high = 0.20;  // above this, memory kept from ballooned guests is overshoot
  Duration delay_min{100};  // actuation delay, drawn per action from [min, max]
  Duration delay_max{1000};
  Duration tick{100};  // simulation step
  std::vector<NodeSpec> nodes;
  std::vector<VmSpec> vms;
  std::vector<Outage> outages;
  Targets targets;
  int cpus = 0;                        // host CPUs, for the observation; 0 unknown
  std::optional<KsmSpec> ksm;          // unset: no KSM on this host (no /sys/kernel/mm/ksm)
  std::optional<OffloadSpec> offload;  // unset: no zswap, no VM cgroups

  const VmSpec* FindVm(std::string_view name) const;
  // True when `vm` is inside one of its outages at `t`; `missing` tells which kind.
  bool InOutage(std::string_view vm, Duration t, bool* missing = nullptr) const;
};

// Parses scenario YAML; `name` becomes Scenario::name. Unknown keys are errors.
Result<Scenario> ParseScenario(std::string_view yaml, const std::string& file, std::string name);
Result<Scenario> LoadScenarioFile(const std::string& path);

}  // namespace kvmem::sim
