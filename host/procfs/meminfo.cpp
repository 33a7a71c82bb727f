// Parses meminfo's "Key: value [kB]" lines.
#include "host/procfs/meminfo.h"

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

std::optional<uint64_t> Meminfo::Get(std::string_view key) const {
  for (const auto& [k, v] : values) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<Meminfo> ParseMeminfo(std::string text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file");
  Meminfo out;
  out.text = std::make_shared<const std::string>(std::move(text));
  std::optional<Error> error;
  ForEachLine(*out.text, [&](std::string_view line, int n) {
    if (error || Trim(line).empty()) return;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = Error{ErrorKind::kParse, "no ':' in line \"" + std::string(line) + "\"", file, n};
      return;
    }
    std::string_view key = Trim(line.substr(0, colon));
    if (key.substr(0, 5) == "Node ") {  // "Node 0 MemTotal"
      auto parts = SplitFields(key);
      if (parts.size() != 3) {
        error = Error{ErrorKind::kParse, "expected \"Node N Key:\" in \"" + std::string(line) + "\"", file, n};
        return;
      }
      key = parts[2];
    }
    auto value = SplitFields(line.substr(colon + 1));
    if (value.empty() || value.size() > 2) {
      error = Error{ErrorKind::kParse, "expected \"" + std::string(key) + ": NUMBER [kB]\"", file, n};
      return;
    }
    auto number = ParseU64(value[0]);
    if (!number) {
      error = Error{ErrorKind::kParse,
                    "value of " + std::string(key) + " is not a number: \"" + std::string(value[0]) + "\"", file, n};
      return;
    }
    uint64_t v = *number;
    if (value.size() == 2) {
      if (value[1] != "kB") {
        error =
            Error{ErrorKind::kParse,
                  "unknown unit \"" + std::string(value[1]) + "\" for " + std::string(key) + "; expected kB", file, n};
        return;
      }
      if (v > UINT64_MAX / 1024) {
        error = Error{ErrorKind::kParse, "value of " + std::string(key) + " overflows", file, n};
        return;
      }
      v *= 1024;
    }
    out.values.emplace_back(key, v);
  });
  if (error) return tl::unexpected(*error);
  return out;
}

Result<Meminfo> ReadMeminfo(const Root& root) { return ReadParsed<Meminfo>(root.Proc("meminfo"), ParseMeminfo); }

Result<Meminfo> ReadNodeMeminfo(const Root& root, int node) {
  return ReadParsed<Meminfo>(root.Node(node, "meminfo"), ParseMeminfo);
}

}  // namespace kvmem::procfs
