// PlacementReader: where a VM sits on the host, from /proc and sysfs only: its QEMU process
// (found by the -uuid argument), resident bytes per host NUMA node (the VM's own cgroup's
// memory.numa_stat when it has one, else /proc/PID/numa_maps), KSM savings
// (/proc/PID/ksm_stat) and the host node of each vCPU's CPU. Roots come from
// --path.procfs / --path.sysfs, so fixture trees work.
// Not thread-safe: one reader belongs to one worker thread. Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host/procfs/numa_maps.h"
#include "host/procfs/root.h"
#include "host/virt/types.h"

namespace kvmem::virt {

class PlacementReader {
 public:
  explicit PlacementReader(procfs::Root root) : root_(std::move(root)) {}

  // Re-reads the host's CPU -> node map (one cpulist per node) before a round of Read().
  void BeginRound();
  Placement Read(const std::string& uuid, const std::vector<int>& vcpu_cpus);

  // The QEMU process of `uuid`: a cached pid is re-validated against its cmdline; a full
  // /proc scan runs at most once per round: when an unknown uuid appears, or every 30 s
  // while some uuid stays unresolved (libvirt's test driver has no processes at all).
  std::optional<int> FindQemuPid(const std::string& uuid);
  uint64_t proc_scans() const { return proc_scans_; }
  // Per-process files this user may not read (QEMU runs as another user; numa_maps and ksm_stat
  // need ptrace-read access), by file name ("numa_maps", "ksm_stat"). The first of each name is
  // logged; the metrics they feed are left out.
  const std::map<std::string, uint64_t>& denied() const { return denied_; }

  // Resident bytes per node and which source gave them ("cgroup" or "numa_maps").
  std::optional<std::pair<procfs::NodeBytes, std::string>> Residency(int pid);

 private:
  bool CmdlineHasUuid(int pid, const std::string& uuid) const;
  void ScanProc();
  void NoteDenied(const std::string& file, const std::string& path, int err);
  std::optional<procfs::NodeBytes> CgroupResidency(int pid);

  procfs::Root root_;
  std::map<int, int> cpu_node_;
  std::map<std::string, int> pids_;           // uuid -> QEMU pid
  std::set<std::string> unresolved_at_scan_;  // uuids the last scan could not find
  std::chrono::steady_clock::time_point last_scan_{};
  uint64_t proc_scans_ = 0;
  std::map<std::string, uint64_t> denied_;
  bool scanned_this_round_ = false;
};

// The uuid after "-uuid" / "--uuid" in a NUL-separated command line, or "".
std::string UuidFromCmdline(std::string_view cmdline);

}  // namespace kvmem::virt
