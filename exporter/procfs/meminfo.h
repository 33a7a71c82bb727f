// /proc/meminfo and /sys/devices/system/node/nodeN/meminfo.
// Pure parser plus reads under a Root. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "exporter/procfs/root.h"

namespace kvmem::procfs {

// Field name (as the kernel spells it, e.g. "MemTotal", "Active(file)") to value.
// Values with a "kB" unit are converted to bytes; unit-less ones (HugePages_Total) are counts.
struct Meminfo {
  std::map<std::string, uint64_t, std::less<>> values;
  std::optional<uint64_t> Get(std::string_view key) const;
};

// Accepts both "MemTotal:  123 kB" and the per-node "Node 0 MemTotal:  123 kB".
// Errors: empty file; a line without ':'; a value that is not a number; an unknown unit.
Result<Meminfo> ParseMeminfo(std::string_view text, const std::string& file);

Result<Meminfo> ReadMeminfo(const Root& root);
Result<Meminfo> ReadNodeMeminfo(const Root& root, int node);

}  // namespace kvmem::procfs
