// Small text helpers for YAML configuration errors, shared by the policy loader and the web
// config parser. Header-only; needs yaml-cpp's headers. Thread-safe. Throws only std::bad_alloc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace kvmem::yaml_text {

// "a, b, c": the allowed keys of an "unknown key" error.
inline std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// What a node is, for "expected a mapping, got a list" errors.
inline std::string KindOf(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  return "a single value";
}

}  // namespace kvmem::yaml_text
