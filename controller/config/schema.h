// The policy schema: one row per key of the policy file, with its place in model::Policy, its
// kind (which fixes its syntax and canonical text), its range, and its documentation. The YAML
// reader, the validator, --print-policy, deploy/policy.yaml and docs/policy.md's key reference
// are all generated from it, so a new key is one row here plus its field in model/policy.h.
// Thread-safe (immutable tables). Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "controller/config/quantity.h"
#include "controller/model/policy.h"

namespace kvmem::config::schema {

// Where a key's value lives in a policy. Reading goes through the same accessor (see Get).
template <class T>
using Field = T& (*)(model::Policy&);

// A mapping of keys (balloon, balloon.pressure).
struct Section {};
struct Bool {
  Field<bool> field;
};
// Bytes; "at least <min>", or "above 0" when min is 1.
struct Size {
  Field<uint64_t> field;
  uint64_t min = 0;
};
// A size or a percentage of the node's memory. With min_bytes set, a size must reach it and a
// percentage must be above 0.
struct NodeSize {
  Field<model::NodeSize> field;
  uint64_t min_bytes = 0;
};
struct Duration {
  Field<model::Duration> field;
  bool positive = false;  // "above 0s"
};
// At least 0 and below 1; or, for a share that may be whole, above 0 and at most 1.
struct Ratio {
  Field<double> field;
  bool whole_allowed = false;
};
// Events per second, at least 0.
struct Rate {
  Field<double> field;
};
// Bytes per second, at least `min`.
struct ByteRate {
  Field<double> field;
  double min = 0;
};
// A whole number from min to max, checked as it is read; `unit` follows the range in messages.
struct Integer {
  Field<int> field;
  int64_t min = 0, max = 0;
  std::string_view unit;
};

// A whole number from min to max held in a uint64_t (page counts, the kernel's milliseconds).
struct Count {
  Field<uint64_t> field;
  uint64_t min = 0, max = 0;
  std::string_view unit;
};
// A YAML list of names (VM names or UUIDs); each must be non-empty and appear once.
struct StringList {
  Field<std::vector<std::string>> field;
};

using Kind = std::variant<Section, Bool, Size, NodeSize, Duration, Ratio, Rate, ByteRate, Integer, Count, StringList>;

struct Key {
  std::string_view path;  // "balloon.pressure.rate_window"
  Kind kind;
  std::string_view comment;  // deploy/policy.yaml's end-of-line comment
  std::string_view doc;      // docs/policy.md's "meaning" column
};

// `later` must relate to `earlier` as `holds` says, e.g. stale_after at least interval. Checked
// right after `later`'s own range; the message blames the key the file set.
struct Relation {
  std::string_view earlier, later;
  bool (*holds)(const model::Policy&);
  std::string_view later_rule, earlier_rule;  // "at least" / "at most"
};

// Every key, in the order --print-policy writes them (a section before its keys).
const std::vector<Key>& Keys();
const std::vector<Relation>& Relations();
const Key* Find(std::string_view path);

// "balloon.pressure" for "balloon.pressure.rate_window"; "" at the top.
std::string_view Parent(std::string_view path);
// "rate_window" for "balloon.pressure.rate_window".
std::string_view Name(std::string_view path);
// The names a section may hold, in table order.
std::vector<std::string_view> Children(std::string_view section);

// Parses `text` as `key`'s kind into `policy`; the error is what to show after the key.
Parsed<bool> Read(const Key& key, std::string_view text, model::Policy& policy);
// Stores a list into a StringList key; false for any other kind.
bool ReadList(const Key& key, std::vector<std::string> items, model::Policy& policy);
// The canonical text of `key`'s value ("" for a section).
std::string Render(const Key& key, const model::Policy& policy);
// The rule `key`'s value breaks ("at least 1MiB"), or "" when it is in range.
std::string Broken(const Key& key, const model::Policy& policy);

}  // namespace kvmem::config::schema
