// Where a process's or a cgroup's memory sits, per NUMA node: /proc/PID/numa_maps,
// cgroup memory.numa_stat (v1 and v2) and hugetlb.SIZE.numa_stat, and /proc/PID/cgroup
// (to find the cgroup). Pure parsers. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmem::procfs {

using NodeBytes = std::map<int, uint64_t>;  // node id -> bytes

// Sums "N<node>=<pages>" times "kernelpagesize_kB" over every mapping line, so hugetlbfs
// mappings count with their own page size. Lines without N<node> entries (nothing resident)
// are skipped. Errors: an N entry or page size that is not a number, N entries without a
// kernelpagesize_kB, an overflow. An empty file (a process without memory) is an empty map.
Result<NodeBytes> ParseNumaMaps(std::string_view text, const std::string& file);

// memory.numa_stat and hugetlb.<size>.numa_stat. Each line is a key then per-node values:
// v2 "anon N0=4096 N1=0" (bytes); v1 "total=12 N0=10 N1=2" (pages) and
// "hierarchical_total=..."; hugetlb "total=4194304 N0=4194304" (bytes). The key is the first
// token up to any '='. Values are returned as printed: the caller knows the unit.
struct NumaStat {
  std::map<std::string, NodeBytes, std::less<>> items;
  const NodeBytes* Get(std::string_view key) const;
};
// Errors: empty file, a line without a key, a per-node token that is not N<id>=<number>.
Result<NumaStat> ParseNumaStat(std::string_view text, const std::string& file);

// /proc/PID/cgroup: "0::/path" (v2 unified) and "N:memory:/path" (v1 memory controller).
struct ProcCgroup {
  std::optional<std::string> unified;  // v2 path
  std::optional<std::string> memory;   // v1 memory controller path
};
// Errors: a line that does not have three ':'-separated fields.
Result<ProcCgroup> ParseProcCgroup(std::string_view text, const std::string& file);

}  // namespace kvmem::procfs
