// Parses "name value" lines.
#include "exporter/procfs/keyvalue.h"

#include "exporter/procfs/fields.h"
#include "exporter/procfs/read.h"

namespace kvmem::procfs {

std::optional<int64_t> KeyValues::Get(std::string_view key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Result<KeyValues> ParseKeyValues(std::string_view text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file");
  KeyValues out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int n) {
    if (error || Trim(line).empty()) return;
    auto f = SplitFields(line);
    if (f.size() != 2) {
      error = Error{ErrorKind::kParse, "expected \"name value\", got \"" + std::string(line) + "\"", file, n};
      return;
    }
    auto v = ParseI64(f[1]);
    if (!v) {
      error = Error{ErrorKind::kParse, "value of " + std::string(f[0]) + " is not a number: \"" +
                                           std::string(f[1]) + "\"", file, n};
      return;
    }
    out.values.insert_or_assign(std::string(f[0]), *v);
  });
  if (error) return tl::unexpected(*error);
  return out;
}

namespace {
Result<KeyValues> ReadKeyValues(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseKeyValues(*text, path);
}
}  // namespace

Result<KeyValues> ReadVmstat(const Root& root) { return ReadKeyValues(root.Proc("vmstat")); }
Result<KeyValues> ReadNodeVmstat(const Root& root, int node) {
  return ReadKeyValues(root.Node(node, "vmstat"));
}
Result<KeyValues> ReadNodeNumastat(const Root& root, int node) {
  return ReadKeyValues(root.Node(node, "numastat"));
}

}  // namespace kvmem::procfs
