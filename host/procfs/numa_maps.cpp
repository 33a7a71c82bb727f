// Parsers for numa_maps, numa_stat and /proc/PID/cgroup.
#include "host/procfs/numa_maps.h"

#include "host/procfs/fields.h"

namespace kvmem::procfs {
namespace {

// "N12=345" -> {12, 345}; nullopt for anything else.
std::optional<std::pair<int, uint64_t>> ParseNodeToken(std::string_view token) {
  if (token.size() < 4 || token[0] != 'N') return std::nullopt;
  size_t eq = token.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  auto node = ParseU64(token.substr(1, eq - 1));
  auto value = ParseU64(token.substr(eq + 1));
  if (!node || !value || *node > 1'000'000) return std::nullopt;
  return std::pair{static_cast<int>(*node), *value};
}

bool AddChecked(uint64_t& into, uint64_t add) {
  if (into > UINT64_MAX - add) return false;
  into += add;
  return true;
}

}  // namespace

Result<NodeBytes> ParseNumaMaps(std::string_view text, const std::string& file) {
  NodeBytes out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int number) {
    if (error) return;
    auto fields = SplitFields(line);
    if (fields.size() < 2) return;  // blank line
    std::map<int, uint64_t> pages;
    std::optional<uint64_t> page_kb;
    for (size_t i = 2; i < fields.size(); ++i) {
      std::string_view f = fields[i];
      if (f.size() > 1 && f[0] == 'N' && f[1] >= '0' && f[1] <= '9') {
        auto nv = ParseNodeToken(f);
        if (!nv) {
          error = Error{ErrorKind::kParse, "bad node count \"" + std::string(f) + "\"", file, number};
          return;
        }
        if (!AddChecked(pages[nv->first], nv->second)) {
          error = Error{ErrorKind::kParse, "page count overflow for node " + std::to_string(nv->first), file, number};
          return;
        }
      } else if (f.substr(0, 18) == "kernelpagesize_kB=") {
        page_kb = ParseU64(f.substr(18));
        // Above UINT64_MAX / 1024 the size in bytes would wrap (to 0 for 2^54: a division by zero).
        if (!page_kb || *page_kb == 0 || *page_kb > UINT64_MAX / 1024) {
          error = Error{ErrorKind::kParse, "bad page size \"" + std::string(f) + "\"", file, number};
          return;
        }
      }
    }
    if (pages.empty()) return;
    if (!page_kb) {
      error = Error{ErrorKind::kParse, "node counts without kernelpagesize_kB", file, number};
      return;
    }
    for (auto [node, n] : pages) {
      uint64_t page_bytes = *page_kb * 1024;
      if (n > UINT64_MAX / page_bytes || !AddChecked(out[node], n * page_bytes)) {
        error = Error{ErrorKind::kParse, "resident bytes overflow", file, number};
        return;
      }
    }
  });
  if (error) return tl::unexpected(*error);
  return out;
}

const NodeBytes* NumaStat::Get(std::string_view key) const {
  auto it = items.find(key);
  return it == items.end() ? nullptr : &it->second;
}

Result<NumaStat> ParseNumaStat(std::string_view text, const std::string& file) {
  NumaStat out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int number) {
    if (error) return;
    auto fields = SplitFields(line);
    if (fields.empty()) return;
    std::string_view key = fields[0].substr(0, fields[0].find('='));
    if (key.empty()) {
      error = Error{ErrorKind::kParse, "line has no key", file, number};
      return;
    }
    NodeBytes& nodes = out.items[std::string(key)];
    for (size_t i = 1; i < fields.size(); ++i) {
      auto nv = ParseNodeToken(fields[i]);
      if (!nv) {
        error =
            Error{ErrorKind::kParse, "expected N<node>=<value>, got \"" + std::string(fields[i]) + "\"", file, number};
        return;
      }
      nodes[nv->first] = nv->second;
    }
  });
  if (error) return tl::unexpected(*error);
  if (out.items.empty()) return ParseError(file, 1, "empty file");
  return out;
}

Result<ProcCgroup> ParseProcCgroup(std::string_view text, const std::string& file) {
  ProcCgroup out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int number) {
    if (error || Trim(line).empty()) return;
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) {
      error = Error{ErrorKind::kParse, "expected ID:CONTROLLERS:PATH, got \"" + std::string(line) + "\"", file, number};
      return;
    }
    std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    std::string path(line.substr(b + 1));
    if (id == "0" && controllers.empty()) {
      out.unified = path;
      return;
    }
    // v1 lists several controllers comma-separated on one hierarchy ("4:memory,cpu:/x").
    std::string_view rest = controllers;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (rest.substr(0, comma) == "memory") out.memory = path;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  });
  if (error) return tl::unexpected(*error);
  return out;
}

}  // namespace kvmem::procfs
