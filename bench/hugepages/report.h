// Samples of single runs, and the Markdown tables made from them: medians per placement and
// mode, experiment/control ratios, min-max spread, and the raw runs.
// Pure functions over values. Thread-safe. Throws std::bad_alloc only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvmem::hugepage_bench {

// One run: map, fault in, chase, read, write, unmap. Rates use decimal units (1 GB = 1e9 B).
struct RunSample {
  std::string placement;  // "cpu N0, mem N0"
  std::string mode;       // "4k", "2m", "thp"
  int round = 0;          // 0-based; rounds below the warm-up count are discarded
  bool warmup = false;
  // Rates from this thread's CPU time (on-CPU: what the memory system gave while we ran) and
  // from the wall clock (also counts time other processes or the hypervisor held the CPU).
  double chase_ns = 0;  // nanoseconds per dependent access, on-CPU
  double chase_wall_ns = 0;
  double read_gbs = 0;  // on-CPU
  double read_wall_gbs = 0;
  double write_gbs = 0;  // on-CPU
  double write_wall_gbs = 0;
  double cpu_s = 0;  // user + sys of the whole run (getrusage)
  double sys_s = 0;
  double wall_s = 0;
  double fault_in_s = 0;         // on-CPU time (user + kernel) to touch every page once after mmap
  uint64_t minor_faults = 0;     // over the whole run
  uint64_t fault_in_faults = 0;  // while faulting in
  uint64_t invol_switches = 0;   // involuntary context switches: how often others took the CPU
  std::string pages_seen;        // from smaps, e.g. "2048 kB (hugetlb 1024 MiB)"
};

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
// Median (mean of the middle two for an even count), min and max; all 0 for no values.
Spread Summarize(std::vector<double> values);

// The main table: medians of the measured (non-warm-up) runs per placement and mode, modes in
// `modes` order, then one ratio row "<mode>/<control>" per other mode and placement.
std::string MedianTable(const std::vector<RunSample>& samples, const std::vector<std::string>& modes);

// min-max of each measured quantity per placement and mode.
std::string SpreadTable(const std::vector<RunSample>& samples, const std::vector<std::string>& modes);

// Every run in the order it ran, warm-ups marked.
std::string RawTable(const std::vector<RunSample>& samples);

}  // namespace kvmem::hugepage_bench
