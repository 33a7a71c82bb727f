// Counts online and offline memory blocks per node.
#include "host/procfs/memory_blocks.h"

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<MemoryBlocks> ReadMemoryBlocks(const Root& root, const std::vector<int>& nodes) {
  MemoryBlocks out;
  std::string base = root.Sys("devices/system/memory/");
  auto size = ReadU64File(base + "block_size_bytes", 16);
  if (!size) return tl::unexpected(size.error());
  out.block_size_bytes = *size;
  if (auto text = ReadSmallFile(base + "auto_online_blocks")) {
    out.auto_online = std::string(Trim(*text));
  }
  for (int node : nodes) {
    auto names = ListDir(root.Node(node, ""));
    if (!names) return tl::unexpected(names.error());
    NodeBlocks& counts = out.nodes[node];
    for (const auto& name : *names) {
      if (name.size() <= 6 || name.compare(0, 6, "memory") != 0 || !ParseU64(std::string_view(name).substr(6))) {
        continue;
      }
      std::string path = base + name + "/state";
      auto state = ReadSmallFile(path);
      if (!state) {
        if (state.error().kind == ErrorKind::kNotFound) continue;  // removed meanwhile
        return tl::unexpected(state.error());
      }
      std::string_view s = Trim(*state);
      if (s == "online")
        ++counts.online;
      else if (s == "offline")
        ++counts.offline;
      else if (s != "going-offline") {
        return ParseError(path, 1, "unknown block state \"" + std::string(s) + "\"; expected online or offline");
      }
    }
  }
  return out;
}

}  // namespace kvmem::procfs
