// Reads node directories, cpulist and distance.
#include "host/procfs/node.h"

#include <algorithm>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<std::vector<int>> ListNodes(const Root& root) {
  auto names = ListDir(root.Sys("devices/system/node"));
  if (!names) {
    if (names.error().kind == ErrorKind::kNotFound) return std::vector<int>{};
    return tl::unexpected(names.error());
  }
  std::vector<int> nodes;
  for (const auto& name : *names) {
    if (name.size() <= 4 || name.compare(0, 4, "node") != 0) continue;
    if (auto id = ParseU64(std::string_view(name).substr(4)); id && *id < 1'000'000) {
      nodes.push_back(static_cast<int>(*id));
    }
  }
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

Result<std::vector<int>> ReadNodeCpus(const Root& root, int node) {
  std::string path = root.Node(node, "cpulist");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseIdList(*text, path);
}

Result<std::vector<int>> ReadNodeDistances(const Root& root, int node) {
  std::string path = root.Node(node, "distance");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseDistances(*text, path);
}

Result<std::vector<int>> ParseDistances(std::string_view text, const std::string& file) {
  std::vector<int> out;
  for (auto f : SplitFields(Trim(text))) {
    auto v = ParseU64(f);
    if (!v || *v > 255) return ParseError(file, 1, "bad distance \"" + std::string(f) + "\"");
    out.push_back(static_cast<int>(*v));
  }
  if (out.empty()) return ParseError(file, 1, "empty file");
  return out;
}

}  // namespace kvmem::procfs
