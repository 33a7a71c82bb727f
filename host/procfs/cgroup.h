// A process's memory cgroup (v2 or v1) and what its files say: memory.stat, memory.pressure,
// memory.current and memory.swap.current (v1: memory.usage_in_bytes and memory.stat's swap),
// plus whether zswap is on. Pure parsers plus reads under a Root. Per-cgroup files are read
// uncached (a cgroup can vanish between two reads: that is kNotFound, never a crash).
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/psi.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct CgroupLocation {
  std::string dir;       // absolute directory of the memory cgroup, under root.sys
  int version = 2;       // 2: the unified hierarchy has the memory controller; 1: the v1 memory hierarchy
  bool is_root = false;  // the process sits in the hierarchy's root cgroup: not a VM's own
};

// Where process `pid`'s memory is accounted: the v2 cgroup from "0::/path" when the unified
// mount (<sys>/fs/cgroup, or <sys>/fs/cgroup/unified on hybrid hosts) offers the memory
// controller, walking up out of threaded children (vCPU threads); else the v1 memory cgroup
// (<sys>/fs/cgroup/memory/path). kNotFound when the process or both hierarchies are gone.
Result<CgroupLocation> LocateMemoryCgroup(const Root& root, int pid);

// The memory facts of one cgroup; what the kernel or the cgroup version lacks stays unset.
struct CgroupMemory {
  std::optional<uint64_t> current_bytes;            // v2 memory.current; v1 memory.usage_in_bytes
  std::optional<uint64_t> anon_bytes;               // memory.stat anon; v1 rss
  std::optional<uint64_t> file_bytes;               // memory.stat file; v1 cache
  std::optional<uint64_t> swap_bytes;               // v2 memory.swap.current; v1 memory.stat swap (memsw accounting)
  std::optional<uint64_t> zswap_bytes;              // memory.stat zswap (v2, kernel with zswap)
  std::optional<uint64_t> zswapped_bytes;           // memory.stat zswapped
  std::optional<uint64_t> pswpin;                   // memory.stat pswpin (6.3+), pages
  std::optional<uint64_t> zswpin;                   // memory.stat zswpin (6.3+), pages
  std::optional<uint64_t> workingset_refault_anon;  // memory.stat (5.9+), pages
  std::optional<Psi> pressure;                      // memory.pressure (v2 with PSI)

  // zswpin + pswpin where the kernel has them, else workingset_refault_anon.
  std::optional<uint64_t> RefaultPages() const;
};

// Fills the memory.stat fields of `out` for cgroup `version` (v1 keys: rss, cache, swap).
void ApplyMemoryStat(const KeyValues& stat, int version, CgroupMemory& out);

// Reads every file of the cgroup. kNotFound when memory.stat is gone (the cgroup was removed:
// the VM stopped); a malformed memory.stat is kParse naming the file. Other missing files just
// leave their fields unset.
Result<CgroupMemory> ReadCgroupMemory(const CgroupLocation& where);

// /sys/module/zswap/parameters/enabled is "Y" (or "1"). False when the file is absent.
bool ZswapEnabled(const Root& root);

// "/dev/zram0" and the like: a swap device that is compressed memory.
bool IsZramSwap(std::string_view filename);

}  // namespace kvmem::procfs
