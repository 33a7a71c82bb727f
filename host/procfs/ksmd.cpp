// ksmd's /proc/PID/stat: the parser and the PID cache.
#include "host/procfs/ksmd.h"

#include <unistd.h>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<ProcStatCpu> ParseProcStatCpu(std::string_view text, const std::string& file) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return ParseError(file, 1, "no \"(comm)\" field");
  }
  ProcStatCpu out;
  out.comm = std::string(text.substr(open + 1, close - open - 1));
  // After ")" come fields 3 (state) onwards: utime (14) and stime (15) are the 12th and 13th.
  auto rest = SplitFields(text.substr(close + 1));
  if (rest.size() < 13) {
    return ParseError(file, 1, "expected at least 15 fields, got " + std::to_string(rest.size() + 2));
  }
  auto utime = ParseU64(rest[11]);
  auto stime = ParseU64(rest[12]);
  if (!utime || !stime) {
    return ParseError(
        file, 1, "utime or stime is not a number: \"" + std::string(rest[11]) + "\" \"" + std::string(rest[12]) + "\"");
  }
  out.utime_ticks = *utime;
  out.stime_ticks = *stime;
  return out;
}

KsmdCpu::KsmdCpu(Root root, std::chrono::seconds rescan_after) : root_(std::move(root)), rescan_after_(rescan_after) {}

std::optional<ProcStatCpu> KsmdCpu::ReadPid(int pid) const {
  const std::string path = root_.Proc(std::to_string(pid) + "/stat");
  auto text = ReadUncached(path);
  if (!text) return std::nullopt;
  auto stat = ParseProcStatCpu(*text, path);
  if (!stat || stat->comm != "ksmd") return std::nullopt;
  return *stat;
}

std::optional<int> KsmdCpu::Find() const {
  auto names = ListDir(root_.proc);
  if (!names) return std::nullopt;
  for (const auto& name : *names) {
    auto pid = ParseU64(name);
    if (!pid || *pid > 0x7fffffff) continue;
    auto comm = ReadUncached(root_.Proc(name + "/comm"));
    if (comm && Trim(*comm) == "ksmd") return static_cast<int>(*pid);
  }
  return std::nullopt;
}

std::optional<double> KsmdCpu::CpuSeconds() {
  std::lock_guard lock(mu_);
  std::optional<ProcStatCpu> stat;
  if (pid_) stat = ReadPid(*pid_);
  if (!stat) {
    pid_.reset();
    const auto now = std::chrono::steady_clock::now();
    if (last_miss_ && now - *last_miss_ < rescan_after_) return std::nullopt;
    if (auto found = Find()) {
      stat = ReadPid(*found);
      if (stat) pid_ = found;
    }
    if (!stat) {
      last_miss_ = now;
      return std::nullopt;
    }
    last_miss_.reset();
  }
  static const long ticks = sysconf(_SC_CLK_TCK);
  const double hz = ticks > 0 ? static_cast<double>(ticks) : 100.0;
  return static_cast<double>(stat->utime_ticks + stat->stime_ticks) / hz;
}

std::optional<int> KsmdCpu::Pid() const {
  std::lock_guard lock(mu_);
  return pid_;
}

}  // namespace kvmem::procfs
