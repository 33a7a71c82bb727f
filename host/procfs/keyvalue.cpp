// Parses "name value" lines.
#include "host/procfs/keyvalue.h"

#include <algorithm>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

std::optional<int64_t> KeyValues::Get(std::string_view key) const {
  auto it = std::lower_bound(values.begin(), values.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  if (it == values.end() || it->first != key) return std::nullopt;
  return it->second;
}

Result<KeyValues> ParseKeyValues(std::string text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file");
  KeyValues out;
  out.text = std::make_shared<const std::string>(std::move(text));
  std::optional<Error> error;
  ForEachLine(*out.text, [&](std::string_view line, int n) {
    if (error) return;
    line = Trim(line);
    if (line.empty()) return;
    size_t space = line.find_first_of(" \t");
    std::string_view key = line.substr(0, space);
    std::string_view value = space == std::string_view::npos ? std::string_view() : Trim(line.substr(space));
    if (value.empty() || value.find_first_of(" \t") != std::string_view::npos) {
      error = Error{ErrorKind::kParse, "expected \"name value\", got \"" + std::string(line) + "\"", file, n};
      return;
    }
    auto v = ParseI64(value);
    if (!v) {
      error = Error{ErrorKind::kParse,
                    "value of " + std::string(key) + " is not a number: \"" + std::string(value) + "\"", file, n};
      return;
    }
    out.values.emplace_back(key, *v);
  });
  if (error) return tl::unexpected(*error);
  // Sort by key; on a repeated key the later line wins, as in a map assignment.
  std::stable_sort(out.values.begin(), out.values.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string_view, int64_t>> unique;
  unique.reserve(out.values.size());
  for (const auto& kv : out.values) {
    if (!unique.empty() && unique.back().first == kv.first)
      unique.back() = kv;
    else
      unique.push_back(kv);
  }
  out.values = std::move(unique);
  return out;
}

namespace {
Result<KeyValues> ReadKeyValues(const std::string& path) { return ReadParsed<KeyValues>(path, ParseKeyValues); }
}  // namespace

Result<KeyValues> ReadVmstat(const Root& root) { return ReadKeyValues(root.Proc("vmstat")); }
Result<KeyValues> ReadNodeVmstat(const Root& root, int node) { return ReadKeyValues(root.Node(node, "vmstat")); }
Result<KeyValues> ReadNodeNumastat(const Root& root, int node) { return ReadKeyValues(root.Node(node, "numastat")); }

}  // namespace kvmem::procfs
