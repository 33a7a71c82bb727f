// mmap, madvise and mbind for the three page modes; sysfs reads for the hugetlb pool and THP.
#include "bench/hugepages/mapping.h"

#include <numaif.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

namespace kvmem::hugepage_bench {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorKind::kNotFound, std::strerror(errno), path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<uint64_t> ReadNumber(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Fail(ErrorKind::kIo, "cannot read: " + text.error().message, path);
  uint64_t value = 0;
  const std::string& s = *text;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || (ptr != s.data() + s.size() && *ptr != '\n')) {
    return Fail(ErrorKind::kParse, "expected a number, got \"" + s + "\"", path);
  }
  return value;
}

std::string Reserve(int node, uint64_t pages) {
  std::string target = node < 0 ? "node 0" : "node " + std::to_string(node);
  return "reserve them first, e.g. bench/hugepages/run.sh, or: echo " + std::to_string(pages) + " > " +
         HugePoolPath(node < 0 ? 0 : node) + "/nr_hugepages (as root, " + target + ")";
}

Result<void> Bind(std::byte* data, size_t bytes, int node) {
  if (node < 0) return {};
  unsigned long mask[16] = {};  // 1024 nodes
  constexpr size_t kBits = sizeof(unsigned long) * 8;
  if (static_cast<size_t>(node) >= sizeof(mask) * 8 - 1) {
    return Fail(ErrorKind::kConfig, "node " + std::to_string(node) + " is out of range");
  }
  mask[static_cast<size_t>(node) / kBits] |= 1UL << (static_cast<size_t>(node) % kBits);
  if (mbind(data, bytes, MPOL_BIND, mask, sizeof(mask) * 8, 0) != 0) {
    return Fail(ErrorKind::kIo, "mbind to node " + std::to_string(node) + ": " + std::strerror(errno));
  }
  return {};
}

Result<Mapping> MapHugetlb(size_t bytes, int node) {
  const uint64_t pages = bytes / kHugePageBytes;
  auto pool = ReadHugePool(node);
  if (!pool) return tl::unexpected<Error>(pool.error());
  if (pool->free < pages) {
    return Fail(ErrorKind::kConfig,
                "2 MiB hugepages: need " + std::to_string(pages) + " free, the pool has " + std::to_string(pool->free) +
                    " free of " + std::to_string(pool->nr) + "; " + Reserve(node, pool->nr + pages - pool->free),
                HugePoolPath(node));
  }
  void* p =
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    return Fail(err == ENOMEM ? ErrorKind::kConfig : ErrorKind::kIo,
                std::string("mmap(MAP_HUGETLB|MAP_HUGE_2MB) of ") + std::to_string(pages) +
                    " pages failed: " + std::strerror(err) + "; " + Reserve(node, pool->nr + pages));
  }
  Mapping m(static_cast<std::byte*>(p), bytes);
  if (auto b = Bind(m.data(), bytes, node); !b) return tl::unexpected<Error>(b.error());
  return m;
}

Result<Mapping> MapAnonymous(size_t bytes, PageMode mode, int node) {
  // Over-map by 2 MiB and trim, so a THP mapping starts on a 2 MiB boundary.
  const size_t span = bytes + kHugePageBytes;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Fail(ErrorKind::kIo, std::string("mmap: ") + std::strerror(errno));
  auto raw = reinterpret_cast<uintptr_t>(p);
  uintptr_t start = (raw + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  if (start > raw) munmap(p, start - raw);
  size_t tail = (raw + span) - (start + bytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(start + bytes), tail);
  Mapping m(reinterpret_cast<std::byte*>(start), bytes);
  int advice = mode == PageMode::kThp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
  if (madvise(m.data(), bytes, advice) != 0) {
    int err = errno;
    return Fail(err == EINVAL ? ErrorKind::kConfig : ErrorKind::kIo,
                std::string(mode == PageMode::kThp ? "madvise(MADV_HUGEPAGE)" : "madvise(MADV_NOHUGEPAGE)") + ": " +
                    std::strerror(err) + " (does this kernel have THP?)");
  }
  if (auto b = Bind(m.data(), bytes, node); !b) return tl::unexpected<Error>(b.error());
  return m;
}

}  // namespace

std::string_view ModeName(PageMode mode) {
  switch (mode) {
    case PageMode::k4k: return "4k";
    case PageMode::k2m: return "2m";
    case PageMode::kThp: return "thp";
  }
  return "?";
}

bool ParseMode(std::string_view text, PageMode* out) {
  for (PageMode m : {PageMode::k4k, PageMode::k2m, PageMode::kThp}) {
    if (text == ModeName(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

Mapping::Mapping(Mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Mapping::~Mapping() noexcept {
  if (data_) munmap(data_, size_);
}

Result<Mapping> MapBuffer(PageMode mode, size_t bytes, int mem_node) {
  if (bytes == 0 || bytes % kHugePageBytes != 0) {
    return Fail(ErrorKind::kConfig, "the buffer size must be a non-zero multiple of 2 MiB");
  }
  if (mode == PageMode::k2m) return MapHugetlb(bytes, mem_node);
  return MapAnonymous(bytes, mode, mem_node);
}

std::string HugePoolPath(int node) {
  if (node < 0) return "/sys/kernel/mm/hugepages/hugepages-2048kB";
  return "/sys/devices/system/node/node" + std::to_string(node) + "/hugepages/hugepages-2048kB";
}

Result<HugePool> ReadHugePool(int node) {
  const std::string dir = HugePoolPath(node);
  if (access(dir.c_str(), F_OK) != 0) {
    return Fail(ErrorKind::kConfig,
                "this kernel offers no 2 MiB hugetlb pages (" + dir +
                    " is absent); the 2m mode "
                    "needs CONFIG_HUGETLBFS and a 2 MiB page size",
                dir);
  }
  auto nr = ReadNumber(dir + "/nr_hugepages");
  if (!nr) return tl::unexpected<Error>(nr.error());
  auto free = ReadNumber(dir + "/free_hugepages");
  if (!free) return tl::unexpected<Error>(free.error());
  return HugePool{*nr, *free};
}

Result<std::string> ReadThpEnabled() {
  const std::string path = "/sys/kernel/mm/transparent_hugepage/enabled";
  auto text = ReadFile(path);
  if (!text) return tl::unexpected<Error>(text.error());
  size_t open = text->find('['), close = text->find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return Fail(ErrorKind::kParse, "no [selected] word in \"" + *text + "\"", path);
  }
  return text->substr(open + 1, close - open - 1);
}

}  // namespace kvmem::hugepage_bench
