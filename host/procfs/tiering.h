// Memory tiers (/sys/devices/virtual/memory_tiering/memory_tierN/nodelist) and the demotion
// switch (/sys/kernel/mm/numa/demotion_enabled). Pure parser plus reads under a Root.
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

// The kernel numbers tiers by abstract distance / chunk size: a lower id is a faster tier, and
// DRAM is memory_tier4 by default. Demotion moves cold pages to a higher id.
struct MemoryTier {
  int id = 0;
  std::vector<int> nodes;
  bool operator==(const MemoryTier&) const = default;
};

// "memory_tier4" -> 4; anything else is not a tier directory.
std::optional<int> ParseTierDirName(std::string_view name);

// Tiers in ascending id (fastest first). Missing directory (kernel without tiering): kNotFound.
Result<std::vector<MemoryTier>> ReadMemoryTiers(const Root& root);

// node -> tier id.
std::map<int, int> NodeTiers(const std::vector<MemoryTier>& tiers);

// demotion_enabled holds "true" or "false" (older kernels: 1/0). Missing: kNotFound.
Result<bool> ParseBool(std::string_view text, const std::string& file);
Result<bool> ReadDemotionEnabled(const Root& root);

}  // namespace kvmem::procfs
