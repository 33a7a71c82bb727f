// The benchmark buffer in one of three page modes, and the kernel state those modes depend on
// (the 2 MiB hugetlb pool, THP's setting). This is the only code here that maps memory.
// Mapping is not thread-safe; the functions are. Nothing throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmem::hugepage_bench {

enum class PageMode {
  k4k,   // anonymous mmap + MADV_NOHUGEPAGE: the control
  k2m,   // MAP_HUGETLB | MAP_HUGE_2MB from the pool: the experiment
  kThp,  // anonymous mmap, 2 MiB aligned, + MADV_HUGEPAGE: best effort, an extra column
};
std::string_view ModeName(PageMode mode);  // "4k", "2m", "thp"
bool ParseMode(std::string_view text, PageMode* out);

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// An owned mapping; unmapped by the destructor. Move-only.
class Mapping {
 public:
  Mapping() = default;
  Mapping(std::byte* data, size_t size) : data_(data), size_(size) {}
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() noexcept;

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// Maps `bytes` (a multiple of 2 MiB) in `mode` and, when mem_node >= 0, binds it to that node
// (MPOL_BIND) before any page is touched. Touches nothing. Errors: kConfig when the mode cannot
// be had on this host (no or too few free 2 MiB hugepages, THP unsupported) with a message
// saying what to do; kIo for other failures.
Result<Mapping> MapBuffer(PageMode mode, size_t bytes, int mem_node);

// The 2 MiB hugetlb pool of `node`, or of the whole system when node < 0.
struct HugePool {
  uint64_t nr = 0;    // nr_hugepages
  uint64_t free = 0;  // free_hugepages
};
// kConfig error when the kernel has no 2 MiB hugetlb pages; kIo when a file cannot be read.
Result<HugePool> ReadHugePool(int node);
std::string HugePoolPath(int node);  // the directory holding nr_hugepages for `node`

// THP's mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled.
// kNotFound when the kernel has no THP.
Result<std::string> ReadThpEnabled();

}  // namespace kvmem::hugepage_bench
