// NUMA topology under /sys/devices/system/node: which nodes exist, their CPUs and distances.
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <vector>

#include "common/result.h"
#include "exporter/procfs/root.h"

namespace kvmem::procfs {

// Node ids from the nodeN directory names, ascending. Ids need not be contiguous.
// A kernel without NUMA support has no such directory: an empty list, not an error.
Result<std::vector<int>> ListNodes(const Root& root);

// nodeN/cpulist; an empty list for a memory-only node.
Result<std::vector<int>> ReadNodeCpus(const Root& root, int node);

// nodeN/distance: one distance per node, in the order of ListNodes().
Result<std::vector<int>> ReadNodeDistances(const Root& root, int node);

}  // namespace kvmem::procfs
