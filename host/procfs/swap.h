// Swap devices (/proc/swaps) and zram devices (/sys/block/zramN/mm_stat).
// Pure parsers plus reads. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct SwapDevice {
  std::string filename;  // as the kernel prints it (spaces escaped as \040)
  std::string type;      // partition or file
  uint64_t size_bytes = 0;
  uint64_t used_bytes = 0;
  int64_t priority = 0;
};

// Header line then "Filename Type Size Used Priority" rows (sizes in KiB).
Result<std::vector<SwapDevice>> ParseSwaps(std::string_view text, const std::string& file);
Result<std::vector<SwapDevice>> ReadSwaps(const Root& root);

// zram's mm_stat: 7 fields on every kernel since 4.7, huge_pages since 5.2,
// huge_pages_since since 5.15. All byte fields are bytes; *_pages are page counts.
struct ZramMmStat {
  uint64_t orig_data_size = 0, compr_data_size = 0, mem_used_total = 0, mem_limit = 0, mem_used_max = 0, same_pages = 0,
           pages_compacted = 0;
  std::optional<uint64_t> huge_pages, huge_pages_since;
};
Result<ZramMmStat> ParseZramMmStat(std::string_view text, const std::string& file);

struct ZramDevice {
  std::string name;  // zram0
  uint64_t disksize_bytes = 0;
  ZramMmStat mm;
};
// Every /sys/block/zram* device that has an mm_stat. Never touches zram-control.
Result<std::vector<ZramDevice>> ReadZramDevices(const Root& root);

}  // namespace kvmem::procfs
