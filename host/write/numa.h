// libnuma: which CPUs a node has, and moving a process's pages between nodes
// (migrate_pages(2)). Thread-safe as libnuma is. Throws only std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kvmem::hostwrite {

// The live host's CPUs of `node`, ascending; empty for a memory-only node. Errors: NUMA
// unavailable, a node that does not exist.
Result<std::vector<int>> LibnumaNodeCpus(int node);

struct MigrateResult {
  std::string call;    // "numa_migrate_pages(pid 42, from {1}, to {0})", for messages
  int pages_left = 0;  // pages the kernel could not move (in use, locked, pinned)
};
// Moves every page of `pid` on nodes other than `to_node` there. Errors: NUMA unavailable,
// `to_node` not a memory node of this host, or the call failing (the message names it, and
// CAP_SYS_NICE on EPERM). `what` prefixes messages ("migrate memory web-1 (pid 42)").
Result<MigrateResult> MigratePagesTo(int pid, int to_node, const std::string& what);
// Checks `to_node` before anything is read or moved; same errors as above.
Result<void> CheckMemoryNode(int to_node, const std::string& what);

// "0-7,16" for messages. Pure.
std::string CpuListText(const std::vector<int>& cpus);

}  // namespace kvmem::hostwrite
