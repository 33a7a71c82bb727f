// The host configuration check: named checks over facts about the host and its VMs, each with
// a severity and a one-line fix. Pure: facts in, results out; no I/O. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/procfs/dmi.h"

namespace kvmem::checks {

// Swap on zram costs a compression, not a disk I/O, so anonymous pages should be reclaimed at
// least as readily as page cache: swappiness 100 weighs both equally (the kernel's
// admin-guide/sysctl/vm.rst suggests values above 100 for in-memory swap).
inline constexpr int64_t kZramMinSwappiness = 100;
// NUMA hinting faults per second above which balancing's page-table scanning (one KVM
// invalidation per range) costs more than it gains on a VM host.
inline constexpr double kHintFaultStormPerSecond = 10000;

struct NodeFacts {
  int id = 0;
  size_t cpus = 0;
  std::optional<int> tier;  // absent: the kernel has no memory tiers
};

struct VmFacts {
  std::string name;
  bool hugetlb = false;
  bool free_page_reporting_eligible = false;
  bool free_page_reporting = false;
};

// Absent optionals: the kernel lacks the file, or it could not be read; checks that need
// them are skipped, not failed.
struct HostFacts {
  std::vector<NodeFacts> nodes;
  std::optional<int64_t> zone_reclaim_mode, numa_balancing, swappiness, ksm_run, ksm_merge_across_nodes;
  std::optional<std::string> thp_enabled;  // the selected mode of transparent_hugepage/enabled
  std::optional<double> hint_faults_per_second;
  std::optional<std::vector<procfs::MemoryDevice>> dimms;
  bool swap_on_zram = false;
  std::optional<std::vector<VmFacts>> vms;  // absent: libvirt not consulted or not reachable
};

struct CheckResult {
  std::string check;
  std::string severity;  // critical, warning or info
  bool evaluated = false;
  bool failed = false;
  std::string detail;  // what was found, or why it was skipped
  std::string fix;
};

// Every check, in a fixed order, evaluated or skipped.
std::vector<CheckResult> RunHostChecks(const HostFacts& facts);

// The human-readable report of --check-host.
std::string FormatReport(const std::vector<CheckResult>& results);

// 0 when no critical check failed, kExitCritical otherwise.
inline constexpr int kExitCritical = 3;
int ExitCode(const std::vector<CheckResult>& results);

}  // namespace kvmem::checks
