// "name value" files: /proc/vmstat, nodeN/vmstat and nodeN/numastat.
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

// Values are signed: per-CPU drift can make a gauge briefly negative on some kernels.
// Keys are views into `text`, which the struct shares, so copies are cheap.
struct KeyValues {
  std::shared_ptr<const std::string> text;
  std::vector<std::pair<std::string_view, int64_t>> values;  // sorted by key, unique
  std::optional<int64_t> Get(std::string_view key) const;
};

// Errors: empty file; a line that is not exactly two fields; a value that is not a number.
Result<KeyValues> ParseKeyValues(std::string text, const std::string& file);

Result<KeyValues> ReadVmstat(const Root& root);                  // /proc/vmstat
Result<KeyValues> ReadNodeVmstat(const Root& root, int node);    // nodeN/vmstat
Result<KeyValues> ReadNodeNumastat(const Root& root, int node);  // nodeN/numastat

}  // namespace kvmem::procfs
