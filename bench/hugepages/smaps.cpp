// Parsers for /proc/<pid>/smaps and /proc/<pid>/numa_maps, limited to what the hugepage
// benchmark needs: one mapping's page size, THP and hugetlb backing, and pages per node.
#include "bench/hugepages/smaps.h"

#include <charconv>
#include <cstdio>
#include <vector>

namespace kvmem::hugepage_bench {
namespace {

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseNumber(std::string_view text, int base, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Calls fn(line_number, line) for each line; stops when fn returns false.
template <class Fn>
void ForEachLine(std::string_view text, Fn fn) {
  int number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!fn(++number, line)) return;
  }
}

}  // namespace

Result<SmapsEntry> ParseSmapsFor(std::string_view smaps, uint64_t addr) {
  const std::string file = "smaps";
  SmapsEntry entry;
  bool inside = false, found = false, has_page_size = false;
  Error error;
  bool failed = false;
  ForEachLine(smaps, [&](int number, std::string_view line) {
    auto f = Fields(line);
    if (f.empty()) return true;
    if (f[0].back() != ':') {    // a header: "start-end perms offset dev inode [path]"
      if (inside) return false;  // the entry we wanted has ended
      size_t dash = f[0].find('-');
      uint64_t start = 0, end = 0;
      if (dash == std::string_view::npos || !ParseNumber(f[0].substr(0, dash), 16, &start) ||
          !ParseNumber(f[0].substr(dash + 1), 16, &end)) {
        error = Error{ErrorKind::kParse, "expected an address range \"start-end\", got \"" + std::string(f[0]) + "\"",
                      file, number};
        failed = true;
        return false;
      }
      if (start <= addr && addr < end) {
        inside = found = true;
        entry.start = start;
        entry.end = end;
      }
      return true;
    }
    if (!inside || f.size() < 2) return true;
    std::string_view key = f[0].substr(0, f[0].size() - 1);
    uint64_t* slot = nullptr;
    uint64_t scratch = 0;
    if (key == "KernelPageSize") {
      slot = &entry.kernel_page_kb;
      has_page_size = true;
    } else if (key == "MMUPageSize")
      slot = &entry.mmu_page_kb;
    else if (key == "Rss")
      slot = &entry.rss_kb;
    else if (key == "AnonHugePages")
      slot = &entry.anon_huge_kb;
    else if (key == "Private_Hugetlb" || key == "Shared_Hugetlb")
      slot = &scratch;
    else
      return true;  // fields we do not need, VmFlags among them
    uint64_t value = 0;
    if (!ParseNumber(f[1], 10, &value)) {
      error =
          Error{ErrorKind::kParse, "bad number \"" + std::string(f[1]) + "\" for " + std::string(key), file, number};
      failed = true;
      return false;
    }
    if (slot == &scratch)
      entry.hugetlb_kb += value;
    else
      *slot = value;
    return true;
  });
  if (failed) return tl::unexpected<Error>(error);
  if (!found) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(addr));
    return Fail(ErrorKind::kNotFound, std::string("no mapping contains address 0x") + hex, file);
  }
  if (!has_page_size) return Fail(ErrorKind::kParse, "the mapping has no KernelPageSize line", file);
  return entry;
}

Result<NumaMapsEntry> ParseNumaMapsFor(std::string_view numa_maps, uint64_t addr) {
  const std::string file = "numa_maps";
  NumaMapsEntry best;
  bool found = false, failed = false;
  Error error;
  ForEachLine(numa_maps, [&](int number, std::string_view line) {
    auto f = Fields(line);
    if (f.empty()) return true;
    uint64_t start = 0;
    if (!ParseNumber(f[0], 16, &start)) {
      error = Error{ErrorKind::kParse, "expected a hex start address, got \"" + std::string(f[0]) + "\"", file, number};
      failed = true;
      return false;
    }
    if (start > addr || (found && start < best.start)) return true;
    NumaMapsEntry e;
    e.start = start;
    e.policy = f.size() > 1 ? std::string(f[1]) : "";
    for (size_t i = 2; i < f.size(); ++i) {
      std::string_view field = f[i];
      size_t eq = field.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
      uint64_t n = 0;
      if (key == "kernelpagesize_kB") {
        if (!ParseNumber(value, 10, &n)) {
          error = Error{ErrorKind::kParse, "bad kernelpagesize_kB \"" + std::string(value) + "\"", file, number};
          failed = true;
          return false;
        }
        e.kernel_page_kb = n;
      } else if (key.size() > 1 && key[0] == 'N') {
        uint64_t node = 0;
        if (!ParseNumber(key.substr(1), 10, &node) || !ParseNumber(value, 10, &n)) continue;
        e.node_pages[static_cast<int>(node)] = n;
      }
    }
    best = std::move(e);
    found = true;
    return true;
  });
  if (failed) return tl::unexpected<Error>(error);
  if (!found) return Fail(ErrorKind::kNotFound, "no mapping starts at or below the buffer", file);
  return best;
}

std::string DescribePages(const SmapsEntry& e) {
  char out[96];
  const uint64_t size_kb = (e.end - e.start) / 1024;
  if (e.hugetlb_kb > 0 || e.kernel_page_kb != 4) {
    std::snprintf(out, sizeof out, "%llu kB (hugetlb %llu MiB)", static_cast<unsigned long long>(e.kernel_page_kb),
                  static_cast<unsigned long long>(e.hugetlb_kb / 1024));
  } else if (e.anon_huge_kb == 0) {
    std::snprintf(out, sizeof out, "4 kB (THP 0 MiB)");
  } else {
    double share = size_kb ? 100.0 * static_cast<double>(e.anon_huge_kb) / static_cast<double>(size_kb) : 0;
    std::snprintf(out, sizeof out, "4 kB + THP %llu MiB (%.1f%%)",
                  static_cast<unsigned long long>(e.anon_huge_kb / 1024), share);
  }
  return out;
}

}  // namespace kvmem::hugepage_bench
