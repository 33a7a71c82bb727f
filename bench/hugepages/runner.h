// One measured run: map the buffer in a page mode, fault it in, check what the kernel gave
// (smaps, numa_maps), chase, stream, unmap; with CPU time, wall time and faults around it all.
// Not thread-safe (getrusage(RUSAGE_SELF) assumes this is the only busy thread). Throws
// std::bad_alloc only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/hugepages/mapping.h"
#include "bench/hugepages/report.h"
#include "common/result.h"

namespace kvmem::hugepage_bench {

struct Placement {
  int cpu_node = -1;  // -1: not bound (no NUMA support)
  int mem_node = -1;
  std::string label;  // "cpu N0, mem N0"
};

struct RunConfig {
  size_t bytes = 0;
  uint64_t accesses = 0;
  int stream_passes = 1;
  const std::vector<uint32_t>* cycle = nullptr;  // SattoloCycle over bytes / kLineBytes lines
};

// What the kernel gave the buffer, as one line: "KernelPageSize=4 kB ... numa_maps N0=262144".
struct Verification {
  std::string line;
  std::string pages_seen;  // the table's column
};

// Errors: kConfig when the mode cannot be had (see MapBuffer); kIo when the kernel gave other
// pages than the mode asks for (THP in 4k, anything but 2048 kB in 2m, pages off the bound
// node), or /proc/self cannot be read.
Result<RunSample> RunOnce(PageMode mode, const Placement& placement, const RunConfig& config,
                          Verification* verification);

}  // namespace kvmem::hugepage_bench
