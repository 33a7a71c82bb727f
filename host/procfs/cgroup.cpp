// Memory cgroup location and reads.
#include "host/procfs/cgroup.h"

#include "host/procfs/fields.h"
#include "host/procfs/numa_maps.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {
namespace {

std::optional<uint64_t> NonNegative(const KeyValues& kv, std::string_view key) {
  auto v = kv.Get(key);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  auto text = ReadUncached(path);
  if (!text) return std::nullopt;
  auto v = ParseSingleU64(Trim(*text), path);
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace

std::optional<uint64_t> CgroupMemory::RefaultPages() const {
  if (zswpin || pswpin) return zswpin.value_or(0) + pswpin.value_or(0);
  return workingset_refault_anon;
}

Result<CgroupLocation> LocateMemoryCgroup(const Root& root, int pid) {
  auto text = ReadUncached(root.Proc(std::to_string(pid) + "/cgroup"));
  if (!text) return tl::unexpected(text.error());
  auto cg = ParseProcCgroup(*text, root.Proc(std::to_string(pid) + "/cgroup"));
  if (!cg) return tl::unexpected(cg.error());
  if (cg->unified) {
    for (const char* mount : {"fs/cgroup", "fs/cgroup/unified"}) {
      const std::string base = root.Sys(mount);
      // Only a hierarchy with the memory controller: the root has no memory.current, so ask
      // the controllers it offers.
      auto controllers = ReadUncached(base + "/cgroup.controllers");
      if (!controllers) continue;
      bool memory = false;
      for (auto c : SplitFields(Trim(*controllers))) memory = memory || c == "memory";
      if (!memory) continue;
      std::string dir = base + (*cg->unified == "/" ? "" : *cg->unified);
      // vCPU and emulator threads live in threaded children; memory is accounted at the
      // nearest domain cgroup above them.
      while (dir.size() > base.size() && Trim(ReadUncached(dir + "/cgroup.type").value_or("")) == "threaded") {
        dir = dir.substr(0, dir.rfind('/'));
      }
      return CgroupLocation{dir, 2, dir == base};
    }
  }
  if (cg->memory) {
    const std::string base = root.Sys("fs/cgroup/memory");
    if (!PathExists(base))
      return Fail(ErrorKind::kNotFound, "no memory cgroup hierarchy under " + root.Sys("fs/cgroup"));
    std::string dir = base + (*cg->memory == "/" ? "" : *cg->memory);
    return CgroupLocation{dir, 1, dir == base};
  }
  return Fail(ErrorKind::kNotFound, "process " + std::to_string(pid) + " has no memory cgroup");
}

void ApplyMemoryStat(const KeyValues& stat, int version, CgroupMemory& out) {
  if (version == 1) {
    out.anon_bytes = NonNegative(stat, "rss");
    out.file_bytes = NonNegative(stat, "cache");
    out.swap_bytes = NonNegative(stat, "swap");
    return;
  }
  out.anon_bytes = NonNegative(stat, "anon");
  out.file_bytes = NonNegative(stat, "file");
  out.zswap_bytes = NonNegative(stat, "zswap");
  out.zswapped_bytes = NonNegative(stat, "zswapped");
  out.pswpin = NonNegative(stat, "pswpin");
  out.zswpin = NonNegative(stat, "zswpin");
  out.workingset_refault_anon = NonNegative(stat, "workingset_refault_anon");
}

Result<CgroupMemory> ReadCgroupMemory(const CgroupLocation& where) {
  const std::string stat_path = where.dir + "/memory.stat";
  auto text = ReadUncached(stat_path);
  if (!text) return tl::unexpected(text.error());
  auto stat = ParseKeyValues(std::move(*text), stat_path);
  if (!stat) return tl::unexpected(stat.error());
  CgroupMemory out;
  ApplyMemoryStat(*stat, where.version, out);
  if (where.version == 1) {
    out.current_bytes = ReadNumber(where.dir + "/memory.usage_in_bytes");
    return out;
  }
  out.current_bytes = ReadNumber(where.dir + "/memory.current");
  out.swap_bytes = ReadNumber(where.dir + "/memory.swap.current");
  const std::string psi_path = where.dir + "/memory.pressure";
  if (auto psi_text = ReadUncached(psi_path)) {
    if (auto psi = ParsePsi(*psi_text, psi_path)) out.pressure = *psi;
  }
  return out;
}

bool ZswapEnabled(const Root& root) {
  auto text = ReadUncached(root.Sys("module/zswap/parameters/enabled"));
  if (!text) return false;
  auto v = Trim(*text);
  return v == "Y" || v == "1";
}

bool IsZramSwap(std::string_view filename) { return filename.starts_with("/dev/zram"); }

}  // namespace kvmem::procfs
