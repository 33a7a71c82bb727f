// Parses buddyinfo and reproduces the kernel's integer fragmentation arithmetic.
#include "host/procfs/buddyinfo.h"

#include <unistd.h>

#include <bit>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<std::vector<BuddyZone>> ParseBuddyinfo(std::string_view text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file");
  std::vector<BuddyZone> zones;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int n) {
    if (error || Trim(line).empty()) return;
    auto f = SplitFields(line);
    // "Node" "0," "zone" "Normal" counts...
    if (f.size() < 5 || f[0] != "Node" || f[1].empty() || f[1].back() != ',' || f[2] != "zone") {
      error = Error{ErrorKind::kParse, "expected \"Node N, zone NAME counts...\", got \"" + std::string(line) + "\"",
                    file, n};
      return;
    }
    auto node = ParseU64(f[1].substr(0, f[1].size() - 1));
    if (!node || *node > 1'000'000) {
      error = Error{ErrorKind::kParse, "bad node id \"" + std::string(f[1]) + "\"", file, n};
      return;
    }
    BuddyZone z;
    z.node = static_cast<int>(*node);
    z.zone = std::string(f[3]);
    for (size_t i = 4; i < f.size(); ++i) {
      auto v = ParseU64(f[i]);
      if (!v) {
        error =
            Error{ErrorKind::kParse,
                  "order " + std::to_string(i - 4) + " count is not a number: \"" + std::string(f[i]) + "\"", file, n};
        return;
      }
      z.free_blocks.push_back(*v);
    }
    if (!zones.empty() && zones.front().free_blocks.size() != z.free_blocks.size()) {
      error = Error{ErrorKind::kParse,
                    "line has " + std::to_string(z.free_blocks.size()) + " orders, earlier lines have " +
                        std::to_string(zones.front().free_blocks.size()),
                    file, n};
      return;
    }
    zones.push_back(std::move(z));
  });
  if (error) return tl::unexpected(*error);
  return zones;
}

Result<std::vector<BuddyZone>> ReadBuddyinfo(const Root& root) {
  std::string path = root.Proc("buddyinfo");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseBuddyinfo(*text, path);
}

ContigInfo ComputeContigInfo(const std::vector<uint64_t>& free_blocks, unsigned order) {
  ContigInfo info;
  for (unsigned k = 0; k < free_blocks.size() && k < 64; ++k) {
    uint64_t blocks = free_blocks[k];
    info.free_blocks_total += blocks;
    info.free_pages += blocks << k;
    if (k >= order) info.free_blocks_suitable += blocks << (k - order);
  }
  return info;
}

void Accumulate(ContigInfo& a, const ContigInfo& b) {
  a.free_pages += b.free_pages;
  a.free_blocks_total += b.free_blocks_total;
  a.free_blocks_suitable += b.free_blocks_suitable;
}

double UnusableIndex(const ContigInfo& info, unsigned order) {
  if (info.free_pages == 0) return 1.0;
  uint64_t usable = info.free_blocks_suitable << order;
  uint64_t thousandths = (info.free_pages - usable) * 1000ULL / info.free_pages;
  return static_cast<double>(thousandths) / 1000.0;
}

double FragmentationIndex(const ContigInfo& info, unsigned order) {
  if (info.free_blocks_total == 0) return 0.0;
  if (info.free_blocks_suitable > 0) return -1.0;
  uint64_t requested = 1ULL << order;
  uint64_t thousandths = 1000 - (1000 + info.free_pages * 1000ULL / requested) / info.free_blocks_total;
  return static_cast<double>(static_cast<int64_t>(thousandths)) / 1000.0;
}

unsigned ThpOrder(const Root& root) {
  auto pmd = ReadU64File(root.Sys("kernel/mm/transparent_hugepage/hpage_pmd_size"));
  auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (!pmd || *pmd < page || !std::has_single_bit(*pmd)) return 9;
  return static_cast<unsigned>(std::countr_zero(*pmd / page));
}

std::map<int, ContigInfo> NodeContigInfo(const std::vector<BuddyZone>& zones, unsigned order) {
  std::map<int, ContigInfo> out;
  for (const auto& z : zones) Accumulate(out[z.node], ComputeContigInfo(z.free_blocks, order));
  return out;
}

}  // namespace kvmem::procfs
