// Memory tiers and the demotion switch.
#include "host/procfs/tiering.h"

#include <algorithm>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

std::optional<int> ParseTierDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "memory_tier";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  auto id = ParseU64(name.substr(kPrefix.size()));
  if (!id || *id > 1'000'000) return std::nullopt;
  return static_cast<int>(*id);
}

Result<std::vector<MemoryTier>> ReadMemoryTiers(const Root& root) {
  const std::string dir = root.Sys("devices/virtual/memory_tiering");
  auto names = ListDir(dir);
  if (!names) return tl::unexpected(names.error());
  std::vector<MemoryTier> out;
  for (const auto& name : *names) {
    auto id = ParseTierDirName(name);
    if (!id) continue;
    const std::string path = dir + "/" + name + "/nodelist";
    auto text = ReadSmallFile(path);
    if (!text) return tl::unexpected(text.error());
    auto nodes = ParseIdList(Trim(*text), path);
    if (!nodes) return tl::unexpected(nodes.error());
    out.push_back({*id, std::move(*nodes)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::map<int, int> NodeTiers(const std::vector<MemoryTier>& tiers) {
  std::map<int, int> out;
  for (const auto& t : tiers) {
    for (int n : t.nodes) out[n] = t.id;
  }
  return out;
}

Result<bool> ParseBool(std::string_view text, const std::string& file) {
  std::string_view v = Trim(text);
  if (v == "true" || v == "1" || v == "Y") return true;
  if (v == "false" || v == "0" || v == "N") return false;
  return ParseError(file, 1, "expected true or false, got \"" + std::string(v) + "\"");
}

Result<bool> ReadDemotionEnabled(const Root& root) {
  const std::string path = root.Sys("kernel/mm/numa/demotion_enabled");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseBool(*text, path);
}

}  // namespace kvmem::procfs
