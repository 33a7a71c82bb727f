// /proc/PID/ksm_stat: KSM's per-process merging figures (Linux 6.1+; older kernels have
// only ksm_rmap_items, and before 5.x no file at all). Pure parser: per-process files are
// read by the caller without ReadSmallFile's descriptor cache (a cached /proc/PID fd outlives
// the process). Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmem::procfs {

struct KsmStat {
  std::optional<uint64_t> rmap_items;     // ksm_rmap_items
  std::optional<uint64_t> zero_pages;     // ksm_zero_pages (6.10+)
  std::optional<uint64_t> merging_pages;  // ksm_merging_pages (6.1+)
  std::optional<int64_t> profit_bytes;    // ksm_process_profit; negative when the rmap items cost more
  std::optional<bool> merge_any;          // ksm_merge_any: yes|no (prctl PR_SET_MEMORY_MERGE)
  std::optional<bool> mergeable;          // ksm_mergeable: yes|no (any VMA marked mergeable)
};

// Lines "key value" or "key: yes|no". Unknown keys are ignored. Errors: empty file, a line
// with other than two fields, a number that does not parse, a flag that is not yes/no.
Result<KsmStat> ParseKsmStat(std::string_view text, const std::string& file);

}  // namespace kvmem::procfs
