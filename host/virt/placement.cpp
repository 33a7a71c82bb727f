// QEMU process discovery and per-node residency from /proc and cgroupfs.
#include "host/virt/placement.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "host/procfs/cgroup.h"
#include "host/procfs/fields.h"
#include "host/procfs/ksm_stat.h"
#include "host/procfs/node.h"
#include "host/procfs/read.h"
#include "host/procfs/smaps.h"

namespace kvmem::virt {
namespace {

constexpr auto kRescanEvery = std::chrono::seconds(30);

uint64_t PageBytes() { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

void AddAll(procfs::NodeBytes& into, const procfs::NodeBytes& from, uint64_t scale = 1) {
  for (auto [node, v] : from) into[node] += v * scale;
}

// True when the cgroup at `dir` holds exactly this one process: only then is its
// numa_stat the VM's alone (a shared cgroup would count other processes too).
bool OnlyProcess(const std::string& dir, int pid) {
  auto procs = procfs::ReadUncached(dir + "/cgroup.procs");
  if (!procs) return false;
  auto fields = procfs::SplitFields(procfs::Trim(*procs));
  std::string me = std::to_string(pid);
  if (fields.empty()) return false;
  for (auto f : fields) {
    if (procfs::Trim(f) != me) return false;
  }
  return true;
}

}  // namespace

std::optional<double> Placement::LocalityRatio() const {
  if (vcpus_per_node.empty() || resident_bytes.empty()) return std::nullopt;
  double total = 0, local = 0;
  for (auto [node, bytes] : resident_bytes) {
    total += static_cast<double>(bytes);
    if (vcpus_per_node.contains(node)) local += static_cast<double>(bytes);
  }
  if (total <= 0) return std::nullopt;
  return local / total;
}

std::string UuidFromCmdline(std::string_view cmdline) {
  bool next = false;
  while (!cmdline.empty()) {
    size_t nul = cmdline.find('\0');
    std::string_view arg = cmdline.substr(0, nul);
    if (next) return std::string(arg);
    next = arg == "-uuid" || arg == "--uuid";
    if (nul == std::string_view::npos) break;
    cmdline.remove_prefix(nul + 1);
  }
  return {};
}

void PlacementReader::BeginRound() {
  scanned_this_round_ = false;
  cpu_node_.clear();
  auto nodes = procfs::ListNodes(root_);
  if (!nodes) return;
  for (int node : *nodes) {
    if (auto cpus = procfs::ReadNodeCpus(root_, node)) {
      for (int cpu : *cpus) cpu_node_[cpu] = node;
    }
  }
}

bool PlacementReader::CmdlineHasUuid(int pid, const std::string& uuid) const {
  auto cmdline = procfs::ReadUncached(root_.Proc(std::to_string(pid) + "/cmdline"));
  return cmdline && UuidFromCmdline(*cmdline) == uuid;
}

void PlacementReader::ScanProc() {
  ++proc_scans_;
  last_scan_ = std::chrono::steady_clock::now();
  pids_.clear();  // rebuilt whole, so exited VMs do not linger
  auto names = procfs::ListDir(root_.proc);
  if (!names) return;
  for (const auto& name : *names) {
    auto pid = procfs::ParseU64(name);
    if (!pid || *pid > INT32_MAX) continue;
    auto cmdline = procfs::ReadUncached(root_.Proc(name + "/cmdline"));
    if (!cmdline || cmdline->find("uuid") == std::string::npos) continue;
    if (std::string uuid = UuidFromCmdline(*cmdline); !uuid.empty()) pids_[uuid] = static_cast<int>(*pid);
  }
}

std::optional<int> PlacementReader::FindQemuPid(const std::string& uuid) {
  if (auto it = pids_.find(uuid); it != pids_.end()) {
    if (CmdlineHasUuid(it->second, uuid)) return it->second;
    pids_.erase(it);  // the VM restarted or the pid was reused
  }
  // At most one scan per round, however many uuids are unresolved.
  bool known_miss = unresolved_at_scan_.contains(uuid);
  bool due = !known_miss || std::chrono::steady_clock::now() - last_scan_ >= kRescanEvery;
  if (due && !scanned_this_round_) {
    ScanProc();
    scanned_this_round_ = true;
  }
  if (auto it = pids_.find(uuid); it != pids_.end()) {
    unresolved_at_scan_.erase(uuid);
    return it->second;
  }
  unresolved_at_scan_.insert(uuid);
  return std::nullopt;
}

std::optional<procfs::NodeBytes> PlacementReader::CgroupResidency(int pid) {
  auto text = procfs::ReadUncached(root_.Proc(std::to_string(pid) + "/cgroup"));
  if (!text) return std::nullopt;
  auto cg = procfs::ParseProcCgroup(*text, "cgroup");
  if (!cg) return std::nullopt;
  if (cg->unified && *cg->unified != "/") {
    for (const char* mount : {"fs/cgroup", "fs/cgroup/unified"}) {
      std::string dir = root_.Sys(mount) + *cg->unified;
      // vCPU and emulator threads live in threaded children; memory is accounted at the
      // nearest domain cgroup above them.
      while (procfs::Trim(procfs::ReadUncached(dir + "/cgroup.type").value_or("")) == "threaded") {
        dir = dir.substr(0, dir.rfind('/'));
      }
      auto stat = procfs::ReadUncached(dir + "/memory.numa_stat");
      if (!stat || !OnlyProcess(dir, pid)) continue;
      auto parsed = procfs::ParseNumaStat(*stat, dir + "/memory.numa_stat");
      if (!parsed) continue;
      procfs::NodeBytes out;
      for (const char* key : {"anon", "file"}) {
        if (const auto* v = parsed->Get(key)) AddAll(out, *v);
      }
      // hugetlbfs-backed guest RAM is not in memory.numa_stat; its own controller has it.
      for (const auto& name : procfs::ListDir(dir).value_or(std::vector<std::string>{})) {
        if (name.rfind("hugetlb.", 0) != 0 || !name.ends_with(".numa_stat")) continue;
        auto h = procfs::ReadUncached(dir + "/" + name);
        auto hp = h ? procfs::ParseNumaStat(*h, name) : Result<procfs::NumaStat>(Fail(ErrorKind::kNotFound, ""));
        if (hp && hp->Get("total")) AddAll(out, *hp->Get("total"));
      }
      return out;
    }
  }
  if (cg->memory && *cg->memory != "/") {
    std::string dir = root_.Sys("fs/cgroup/memory") + *cg->memory;
    auto stat = procfs::ReadUncached(dir + "/memory.numa_stat");
    if (!stat || !OnlyProcess(dir, pid)) return std::nullopt;
    auto parsed = procfs::ParseNumaStat(*stat, dir + "/memory.numa_stat");
    if (!parsed) return std::nullopt;
    const auto* total = parsed->Get("hierarchical_total");
    if (!total) total = parsed->Get("total");
    if (!total) return std::nullopt;
    procfs::NodeBytes out;
    AddAll(out, *total, PageBytes());  // v1 counts pages
    return out;
  }
  return std::nullopt;
}

namespace {
const char* MetricsFedBy(const std::string& file) {
  if (file == "numa_maps")
    return "kvmem_domain_numa_memory_bytes, kvmem_domain_numa_locality_ratio, kvmem_domain_tier_memory_bytes";
  if (file == "smaps_rollup") return "kvmem_domain_thp_anon_bytes";
  return "kvmem_domain_ksm_merging_pages, kvmem_domain_ksm_profit_bytes";
}
}  // namespace

void PlacementReader::NoteDenied(const std::string& file, const std::string& path, int err) {
  if (err != EACCES && err != EPERM) return;
  if (denied_[file]++ > 0) return;
  log::Warn(
      "cannot read a QEMU process's file: permission denied; the per-VM metrics it feeds are "
      "left out (reading it needs ptrace-read access to QEMU: its uid, or CAP_SYS_PTRACE); "
      "logged once, counted in kvmem_libvirt_proc_read_denied_total",
      {{"file", path}, {"metrics", MetricsFedBy(file)}});
}

std::optional<std::pair<procfs::NodeBytes, std::string>> PlacementReader::Residency(int pid) {
  if (auto cg = CgroupResidency(pid)) return std::pair{std::move(*cg), std::string("cgroup")};
  std::string path = root_.Proc(std::to_string(pid) + "/numa_maps");
  int err = 0;
  auto text = procfs::ReadUncached(path, &err);
  if (!text) {
    NoteDenied("numa_maps", path, err);
    return std::nullopt;
  }
  auto parsed = procfs::ParseNumaMaps(*text, path);
  if (!parsed) return std::nullopt;
  return std::pair{std::move(*parsed), std::string("numa_maps")};
}

Placement PlacementReader::Read(const std::string& uuid, const std::vector<int>& vcpu_cpus) {
  Placement p;
  for (int cpu : vcpu_cpus) {
    if (auto it = cpu_node_.find(cpu); it != cpu_node_.end()) ++p.vcpus_per_node[it->second];
  }
  p.qemu_pid = FindQemuPid(uuid);
  if (!p.qemu_pid) return p;
  if (auto r = Residency(*p.qemu_pid)) {
    p.resident_bytes = std::move(r->first);
    p.residency_source = std::move(r->second);
  }
  std::string ksm_path = root_.Proc(std::to_string(*p.qemu_pid) + "/ksm_stat");
  int ksm_err = 0;
  auto ksm_text = procfs::ReadUncached(ksm_path, &ksm_err);
  if (!ksm_text) NoteDenied("ksm_stat", ksm_path, ksm_err);
  if (auto ksm = ksm_text ? procfs::ParseKsmStat(*ksm_text, ksm_path)
                          : Result<procfs::KsmStat>(tl::unexpected(ksm_text.error()))) {
    p.ksm_merging_pages = ksm->merging_pages;
    p.ksm_profit_bytes = ksm->profit_bytes;
  }
  // smaps_rollup walks the whole address space once: one read per VM per refresh, within the
  // placement budget like numa_maps.
  std::string smaps_path = root_.Proc(std::to_string(*p.qemu_pid) + "/smaps_rollup");
  int smaps_err = 0;
  auto smaps_text = procfs::ReadUncached(smaps_path, &smaps_err);
  if (!smaps_text) NoteDenied("smaps_rollup", smaps_path, smaps_err);
  if (smaps_text) {
    if (auto r = procfs::ParseSmapsRollup(*smaps_text, smaps_path)) p.thp_anon_bytes = r->anon_huge_bytes;
  }
  if (auto where = procfs::LocateMemoryCgroup(root_, *p.qemu_pid)) {
    if (!where->is_root) {
      if (auto memory = procfs::ReadCgroupMemory(*where)) p.cgroup_memory = std::move(*memory);
    }
    p.cgroup = std::move(*where);
  }
  return p;
}

}  // namespace kvmem::virt
