// /proc/PID/smaps_rollup: one process's memory summed over its mappings (the kernel walks the
// page tables once per read). Pure parser. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmem::procfs {

struct SmapsRollup {
  std::optional<uint64_t> rss_bytes;        // Rss
  std::optional<uint64_t> anon_bytes;       // Anonymous
  std::optional<uint64_t> anon_huge_bytes;  // AnonHugePages: anonymous memory in PMD-sized THPs
};

// The first line is the "[rollup]" header; then "Key:  N kB" lines. Unknown keys are ignored;
// a known key whose value is not "N kB" is an error naming the line.
Result<SmapsRollup> ParseSmapsRollup(std::string_view text, const std::string& file);

}  // namespace kvmem::procfs
