// ksmd's CPU time: the kernel thread whose /proc/PID/comm is "ksmd", its utime + stime from
// /proc/PID/stat. ParseProcStatCpu is pure; KsmdCpu finds the thread, caches its PID and finds
// it again when it vanishes (or the PID now belongs to something else). KsmdCpu is
// thread-safe (one mutex); nothing here throws except std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

// The fields of /proc/PID/stat the CPU accounting needs. comm is what sits between the first
// "(" and the last ")", so a comm holding spaces or parentheses parses.
struct ProcStatCpu {
  std::string comm;
  uint64_t utime_ticks = 0;  // field 14, clock ticks (sysconf(_SC_CLK_TCK))
  uint64_t stime_ticks = 0;  // field 15
};

// Errors (kParse, naming `file`): no "(...)", fewer than 15 fields, a time that is not a number.
Result<ProcStatCpu> ParseProcStatCpu(std::string_view text, const std::string& file);

class KsmdCpu {
 public:
  // `rescan_after`: how long a failed search is trusted before /proc is scanned again (a kernel
  // without KSM has no ksmd, and scanning /proc on every scrape would cost more than it tells).
  explicit KsmdCpu(Root root, std::chrono::seconds rescan_after = std::chrono::seconds{60});

  // ksmd's utime + stime in seconds; nullopt when no thread named ksmd is found.
  std::optional<double> CpuSeconds();
  // The cached PID (after a successful CpuSeconds), for tests and logs.
  std::optional<int> Pid() const;

 private:
  std::optional<ProcStatCpu> ReadPid(int pid) const;
  std::optional<int> Find() const;

  Root root_;
  std::chrono::seconds rescan_after_;
  mutable std::mutex mu_;
  std::optional<int> pid_;
  std::optional<std::chrono::steady_clock::time_point> last_miss_;
};

}  // namespace kvmem::procfs
