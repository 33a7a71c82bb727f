// The strict YAML mapping walk shared by every configuration reader (the policy, the web
// config, simulator scenarios): unknown, unsupported and duplicate keys are refused with their
// line and column, and scalars and lists are type-checked, so all three readers fail alike.
// Needs yaml-cpp's headers. Thread-safe (no shared state). Throws only std::bad_alloc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "common/yaml_text.h"

namespace kvmem::yaml_map {

// How a reader shows things; the rest of each message is the same in every reader.
struct Style {
  // "the policy", "the web config": names the document when its top is not a mapping.
  std::string document = "the document";
  // "tls_server_config.cert_file" (quoted) or balloon.max_step (bare).
  bool quote_paths = false;
  // Whether messages carry "at line L, column C"; a reader whose errors carry the line apart
  // (file:line: message) turns this off.
  bool inline_position = true;
};

// A refused document: where, and the full message.
struct Problem {
  YAML::Mark mark;
  std::string message;
};

template <class T>
using Checked = tl::expected<T, Problem>;

// The keys a mapping may hold.
struct Keys {
  std::vector<std::string_view> allowed;  // in the order the "allowed:" list shows them
  bool any = false;                       // any key (a user name, a header): allowed is ignored
  // Keys known elsewhere but refused here, each with what to do instead.
  std::vector<std::pair<std::string_view, std::string_view>> unsupported = {};
};

struct Entry {
  std::string key;
  std::string path;  // dotted, from the top of the document
  YAML::Node value;
  YAML::Mark key_mark;
  // An empty value has no position worth showing: point at its key then.
  YAML::Mark value_mark() const;
};

// "line 3, column 18" (1-based), or "an unknown position".
std::string Position(const YAML::Mark& mark);

// The entries of the mapping `node` at `path` ("" for the top), in document order. A missing or
// empty node is an empty mapping. `fallback` is shown when the node has no mark of its own.
Checked<std::vector<Entry>> Walk(const YAML::Node& node, const std::string& path, const Keys& keys, const Style& style,
                                 YAML::Mark fallback = YAML::Mark::null_mark());

// A problem with an entry's value: "<path> at <position>: <detail>".
Problem At(const Entry& e, const std::string& detail, const Style& style);

// "true" or "false" and nothing else (YAML 1.1's yes and on surprise more than they help); the
// error says what was expected and what was found.
tl::expected<bool, std::string> ParseBool(std::string_view text);

// The value's text when it is a single value.
Checked<std::string> Scalar(const Entry& e, const Style& style);
// "true" or "false".
Checked<bool> Bool(const Entry& e, const Style& style);
// A list of single values; an empty value is an empty list.
Checked<std::vector<std::string>> ScalarList(const Entry& e, const Style& style);

// A path as `style` shows it.
std::string ShowPath(const std::string& path, const Style& style);

}  // namespace kvmem::yaml_map
