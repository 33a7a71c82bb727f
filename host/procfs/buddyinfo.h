// /proc/buddyinfo, and the kernel's fragmentation formulas computed from it.
// Pure. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct BuddyZone {
  int node = 0;
  std::string zone;                   // "DMA", "DMA32", "Normal", "Movable"
  std::vector<uint64_t> free_blocks;  // index = order; free_blocks[k] blocks of 2^k pages
};

// Lines: "Node 0, zone   Normal   12   5   ...". Errors: empty file, a line not of that shape,
// a non-numeric count, or zones that disagree on the number of orders.
Result<std::vector<BuddyZone>> ParseBuddyinfo(std::string_view text, const std::string& file);
Result<std::vector<BuddyZone>> ReadBuddyinfo(const Root& root);

// The kernel's contig_page_info for a requested order (mm/vmstat.c, fill_contig_page_info).
struct ContigInfo {
  uint64_t free_pages = 0;            // sum of blocks << order
  uint64_t free_blocks_total = 0;     // number of free blocks of any order
  uint64_t free_blocks_suitable = 0;  // blocks of the requested order the free lists could serve
};
ContigInfo ComputeContigInfo(const std::vector<uint64_t>& free_blocks, unsigned order);
// Adds b into a, for node-wide figures summed over zones.
void Accumulate(ContigInfo& a, const ContigInfo& b);

// The THP (PMD) order: log2(hpage_pmd_size / page size), 9 (2 MiB of 4 KiB pages) when the
// file is missing or odd.
unsigned ThpOrder(const Root& root);

// Per node, over all its zones: the contig info for `order` (node-wide fragmentation figures).
std::map<int, ContigInfo> NodeContigInfo(const std::vector<BuddyZone>& zones, unsigned order);

// Unusable free space index (mm/vmstat.c, unusable_free_index), as a ratio 0..1:
// the share of free memory that cannot serve an allocation of `order`. 1 when nothing is free.
// Computed in the kernel's integer thousandths so values equal debugfs' unusable_index.
double UnusableIndex(const ContigInfo& info, unsigned order);

// Fragmentation index (mm/vmstat.c, __fragmentation_index), in the kernel's thousandths / 1000:
// 0 when nothing is free; -1 when a block of `order` is free (the allocation would succeed);
// otherwise 1 - (1 + free_pages / 2^order) / free_blocks_total: towards 0 the failure is for lack
// of memory, towards 1 it is fragmentation.
double FragmentationIndex(const ContigInfo& info, unsigned order);

}  // namespace kvmem::procfs
