// Hugepage demand from domain XML facts; the rules are in the header.
#include "controller/observe/hugepage_demand.h"

#include <charconv>
#include <map>
#include <utility>

#include "controller/model/units.h"

namespace kvmem::observe {
namespace {

constexpr size_t kMaxNodesetIds = 4096;

std::optional<int> ParseNodeId(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

struct Share {
  int node = -1;
  uint64_t pages = 0;
};

// Where a cell's `pages` go under one numatune rule (a memnode or <memory>).
std::vector<Share> Spread(std::string_view mode, std::string_view nodeset, uint64_t pages) {
  auto nodes = ParseNodeset(nodeset);
  if (!nodes || nodes->empty()) return {{-1, pages}};
  if (nodes->size() == 1) return {{*nodes->begin(), pages}};
  if (mode != "interleave") return {{-1, pages}};
  const uint64_t each = (pages + nodes->size() - 1) / nodes->size();
  std::vector<Share> out;
  for (int n : *nodes) out.push_back({n, each});
  return out;
}

uint64_t PageFor(const virt::DomainXml& xml, int cell, uint64_t default_page_bytes) {
  std::optional<uint64_t> catch_all;
  for (const auto& p : xml.hugepage_pages) {
    if (p.size_bytes == 0) continue;
    if (p.nodeset.empty()) {
      if (!catch_all) catch_all = p.size_bytes;
      continue;
    }
    if (auto cells = ParseNodeset(p.nodeset); cells && cells->contains(cell)) return p.size_bytes;
  }
  return catch_all.value_or(default_page_bytes);
}

}  // namespace

std::optional<std::set<int>> ParseNodeset(std::string_view nodeset) {
  std::set<int> in, out;
  if (nodeset.empty()) return std::nullopt;
  for (bool more = true; more;) {
    size_t comma = nodeset.find(',');
    std::string_view part = nodeset.substr(0, comma);
    more = comma != std::string_view::npos;  // "0," has an empty last part: malformed
    nodeset = more ? nodeset.substr(comma + 1) : std::string_view();
    bool exclude = !part.empty() && part.front() == '^';
    if (exclude) part.remove_prefix(1);
    size_t dash = part.find('-');
    auto lo = ParseNodeId(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : ParseNodeId(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || static_cast<size_t>(*hi - *lo) >= kMaxNodesetIds) return std::nullopt;
    for (int i = *lo; i <= *hi; ++i) (exclude ? out : in).insert(i);
    if (in.size() > kMaxNodesetIds) return std::nullopt;
  }
  for (int i : out) in.erase(i);
  return in;
}

std::vector<model::HugepageDemand> HugepageDemand(const virt::DomainXml& xml, uint64_t default_page_bytes) {
  if (!xml.hugepages) return {};
  if (default_page_bytes == 0) default_page_bytes = kFallbackHugepageBytes;
  std::vector<virt::GuestCell> cells = xml.numa_cells;
  if (cells.empty()) {
    if (!xml.memory_bytes) return {};
    uint64_t virtio_mem = 0;
    for (const auto& m : xml.virtio_mem) virtio_mem = model::SatAdd(virtio_mem, m.size_bytes);
    cells.push_back({0, model::SatSub(*xml.memory_bytes, virtio_mem)});
  }
  // With cells, libvirt's <memory> is their sum plus the memory devices: the cells are base RAM.
  std::map<std::pair<int, uint64_t>, uint64_t> pages;  // (node, page size) -> pages
  for (const auto& cell : cells) {
    if (cell.memory_bytes == 0) continue;
    const uint64_t page = PageFor(xml, cell.id, default_page_bytes);
    const uint64_t cell_pages = model::AlignUp(cell.memory_bytes, page) / page;
    std::string_view mode = xml.numatune_mode, nodeset = xml.numatune_nodeset;
    for (const auto& m : xml.memnodes) {
      if (m.cellid != cell.id) continue;
      mode = m.mode;
      nodeset = m.nodeset;
      break;
    }
    for (const auto& s : Spread(mode, nodeset, cell_pages)) {
      auto& sum = pages[{s.node, page}];
      sum = model::SatAdd(sum, s.pages);
    }
  }
  std::vector<model::HugepageDemand> out;
  for (const auto& [key, n] : pages) {
    if (n > 0) out.push_back({key.first, key.second, model::SatMul(n, key.second)});
  }
  return out;
}

}  // namespace kvmem::observe
