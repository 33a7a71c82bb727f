// NUMA topology under /sys/devices/system/node: which nodes exist, their CPUs and distances.
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

// Node ids from the nodeN directory names, ascending. Ids need not be contiguous.
// A kernel without NUMA support has no such directory: an empty list, not an error.
Result<std::vector<int>> ListNodes(const Root& root);

// nodeN/cpulist; an empty list for a memory-only node.
Result<std::vector<int>> ReadNodeCpus(const Root& root, int node);

// nodeN/distance: one distance per node, in the order of ListNodes().
Result<std::vector<int>> ReadNodeDistances(const Root& root, int node);
// The pure part: "10 21 21" -> {10, 21, 21}. Errors: empty, a value that is not 0..255.
Result<std::vector<int>> ParseDistances(std::string_view text, const std::string& file);

}  // namespace kvmem::procfs
