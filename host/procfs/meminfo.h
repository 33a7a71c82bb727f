// /proc/meminfo and /sys/devices/system/node/nodeN/meminfo.
// Pure parser plus reads under a Root. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

// Field name (as the kernel spells it, e.g. "MemTotal", "Active(file)") to value.
// Values with a "kB" unit are converted to bytes; unit-less ones (HugePages_Total) are counts.
// Keys are views into `text`, which the struct shares, so copies are cheap.
struct Meminfo {
  std::shared_ptr<const std::string> text;
  std::vector<std::pair<std::string_view, uint64_t>> values;  // in file order
  std::optional<uint64_t> Get(std::string_view key) const;
};

// Accepts both "MemTotal:  123 kB" and the per-node "Node 0 MemTotal:  123 kB".
// Errors: empty file; a line without ':'; a value that is not a number; an unknown unit.
Result<Meminfo> ParseMeminfo(std::string text, const std::string& file);

Result<Meminfo> ReadMeminfo(const Root& root);
Result<Meminfo> ReadNodeMeminfo(const Root& root, int node);

}  // namespace kvmem::procfs
