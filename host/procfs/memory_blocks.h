// Memory hotplug blocks: /sys/devices/system/memory and the nodeN/memoryM links.
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct NodeBlocks {
  uint64_t online = 0;
  uint64_t offline = 0;
};

struct MemoryBlocks {
  uint64_t block_size_bytes = 0;           // block_size_bytes (hex in sysfs)
  std::optional<std::string> auto_online;  // auto_online_blocks: offline, online, online_kernel, online_movable
  std::map<int, NodeBlocks> nodes;         // by node id
};

// kNotFound when the kernel has no memory hotplug (no sys/devices/system/memory).
Result<MemoryBlocks> ReadMemoryBlocks(const Root& root, const std::vector<int>& nodes);

}  // namespace kvmem::procfs
