// What the kernel actually gave one mapping: pure parsers for /proc/self/smaps and
// /proc/self/numa_maps, so the benchmark can print (and check) the page size it measured.
// Thread-safe (pure functions over text). Throws std::bad_alloc only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmem::hugepage_bench {

// One smaps entry; sizes in kB as the kernel prints them. Fields a kernel lacks stay 0.
struct SmapsEntry {
  uint64_t start = 0;  // address range [start, end)
  uint64_t end = 0;
  uint64_t kernel_page_kb = 0;  // KernelPageSize
  uint64_t mmu_page_kb = 0;     // MMUPageSize
  uint64_t rss_kb = 0;          // Rss
  uint64_t anon_huge_kb = 0;    // AnonHugePages: THP backing
  uint64_t hugetlb_kb = 0;      // Private_Hugetlb + Shared_Hugetlb: hugetlbfs backing
};

// The entry whose range contains `addr`. Errors: kNotFound when no entry does, kParse (with
// the line) on a malformed header or number, or when KernelPageSize is missing.
Result<SmapsEntry> ParseSmapsFor(std::string_view smaps, uint64_t addr);

// Pages per NUMA node (the `N<node>=<pages>` fields) of the numa_maps line for the mapping
// containing `addr` (the line with the greatest start address <= addr), plus its policy word.
struct NumaMapsEntry {
  uint64_t start = 0;
  std::string policy;                  // "default", "bind:0", ...
  std::map<int, uint64_t> node_pages;  // node -> pages of kernelpagesize_kB
  uint64_t kernel_page_kb = 0;
};
Result<NumaMapsEntry> ParseNumaMapsFor(std::string_view numa_maps, uint64_t addr);

// "4 kB", "2048 kB": what the table's "page size seen" column says, from an smaps entry.
std::string DescribePages(const SmapsEntry& e);

}  // namespace kvmem::hugepage_bench
