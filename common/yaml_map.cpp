// The strict mapping walk and the scalar checks, with the messages every reader shares.
#include "common/yaml_map.h"

#include <algorithm>
#include <optional>

namespace kvmem::yaml_map {
namespace {

using yaml_text::Join;
using yaml_text::KindOf;

// " at line 3, column 5", or nothing when the reader's errors carry the line apart.
std::string At(const YAML::Mark& mark, const Style& style) {
  return style.inline_position ? " at " + Position(mark) : std::string();
}

std::string Child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// Why `key` may not appear, or nothing when it may.
std::optional<Problem> Refuse(const std::string& key, const std::string& path, const YAML::Mark& mark, const Keys& keys,
                              const Style& style) {
  if (keys.any || std::find(keys.allowed.begin(), keys.allowed.end(), key) != keys.allowed.end()) {
    return std::nullopt;
  }
  const std::string shown = ShowPath(path, style) + At(mark, style);
  for (const auto& [name, advice] : keys.unsupported) {
    if (name == key) return Problem{mark, shown + " is not supported by kvmem; " + std::string(advice)};
  }
  return Problem{mark, "unknown key " + shown + "; allowed: " + Join(keys.allowed)};
}

}  // namespace

YAML::Mark Entry::value_mark() const { return value.IsNull() || value.Mark().is_null() ? key_mark : value.Mark(); }

std::string Position(const YAML::Mark& mark) {
  if (mark.is_null()) return "an unknown position";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

std::string ShowPath(const std::string& path, const Style& style) {
  return style.quote_paths ? "\"" + path + "\"" : path;
}

Checked<std::vector<Entry>> Walk(const YAML::Node& node, const std::string& path, const Keys& keys, const Style& style,
                                 YAML::Mark fallback) {
  std::vector<Entry> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    const YAML::Mark mark = node.Mark().is_null() ? fallback : node.Mark();
    return tl::unexpected(Problem{mark, (path.empty() ? style.document : ShowPath(path, style)) + At(mark, style) +
                                            ": expected a mapping of keys, got " + KindOf(node)});
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Mark mark = it->first.Mark();
    if (!it->first.IsScalar()) {
      return tl::unexpected(Problem{mark, "expected a key name" + At(mark, style) + ", got " + KindOf(it->first)});
    }
    const std::string key = it->first.Scalar();
    const std::string full = Child(path, key);
    if (auto refused = Refuse(key, full, mark, keys, style)) return tl::unexpected(*refused);
    auto first = std::find_if(out.begin(), out.end(), [&](const Entry& e) { return e.key == key; });
    if (first != out.end()) {
      return tl::unexpected(Problem{mark, "duplicate key " + ShowPath(full, style) + At(mark, style) + "; first at " +
                                              Position(first->key_mark)});
    }
    out.push_back({key, full, it->second, mark});
  }
  return out;
}

Problem At(const Entry& e, const std::string& detail, const Style& style) {
  const YAML::Mark mark = e.value_mark();
  return Problem{mark, ShowPath(e.path, style) + At(mark, style) + ": " + detail};
}

Checked<std::string> Scalar(const Entry& e, const Style& style) {
  if (!e.value.IsScalar()) return tl::unexpected(At(e, "expected a single value, got " + KindOf(e.value), style));
  return e.value.Scalar();
}

tl::expected<bool, std::string> ParseBool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return tl::unexpected("expected true or false, got \"" + std::string(text) + "\"");
}

Checked<bool> Bool(const Entry& e, const Style& style) {
  auto s = Scalar(e, style);
  if (!s) return tl::unexpected(s.error());
  auto b = ParseBool(*s);
  if (!b) return tl::unexpected(At(e, b.error(), style));
  return *b;
}

Checked<std::vector<std::string>> ScalarList(const Entry& e, const Style& style) {
  std::vector<std::string> out;
  if (e.value.IsNull()) return out;
  if (!e.value.IsSequence()) return tl::unexpected(At(e, "expected a list, got " + KindOf(e.value), style));
  for (const auto& item : e.value) {
    if (!item.IsScalar()) {
      return tl::unexpected(Problem{item.Mark(), ShowPath(e.path, style) + At(item.Mark(), style) +
                                                     ": expected a list of single values, got " + KindOf(item) +
                                                     " in it"});
    }
    out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace kvmem::yaml_map
