// What each kind of key means: its syntax (quantity.h), its canonical text and its range rule.
// The table rows in schema.cpp only pick a kind and fill in its bounds.
#include <algorithm>

#include "common/yaml_map.h"
#include "controller/config/schema.h"

namespace kvmem::config::schema {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // clang 14 deduces aggregates only with a guide

// The accessors hand out a mutable reference; reading through it never writes.
template <class T>
const T& Get(Field<T> field, const model::Policy& policy) {
  return field(const_cast<model::Policy&>(policy));
}

// Parses with `parse` and stores into `field`.
template <class T, class Parse>
Parsed<bool> Store(Field<T> field, model::Policy& policy, std::string_view text, Parse parse) {
  auto parsed = parse(text);
  if (!parsed) return tl::unexpected(parsed.error());
  field(policy) = static_cast<T>(*parsed);
  return true;
}

// A whole number checked against its range as it is read.
Parsed<int64_t> InRange(std::string_view t, int64_t min, int64_t max, std::string_view unit) {
  auto n = ParseInteger(t);
  if (n && (*n < min || *n > max)) {
    return tl::unexpected("must be from " + std::to_string(min) + " to " + std::to_string(max) + std::string(unit) +
                          ", got \"" + std::string(t) + "\"");
  }
  return n;
}

// ["a", "b"]: a YAML flow list, every item double-quoted.
std::string RenderList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ", ";
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "]";
}

bool NamesOk(const std::vector<std::string>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty() || std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), items[i]) !=
                                items.begin() + static_cast<std::ptrdiff_t>(i)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const Key* Find(std::string_view path) {
  auto it = std::find_if(Keys().begin(), Keys().end(), [&](const Key& k) { return k.path == path; });
  return it == Keys().end() ? nullptr : &*it;
}

std::string_view Parent(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view Name(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::vector<std::string_view> Children(std::string_view section) {
  std::vector<std::string_view> out;
  for (const Key& k : Keys()) {
    if (Parent(k.path) == section) out.push_back(Name(k.path));
  }
  return out;
}

Parsed<bool> Read(const Key& key, std::string_view text, model::Policy& policy) {
  return std::visit(
      Overloaded{
          [&](const Section&) -> Parsed<bool> { return tl::unexpected(std::string("expected a mapping of keys")); },
          [&](const Bool& k) { return Store(k.field, policy, text, yaml_map::ParseBool); },
          [&](const Size& k) { return Store(k.field, policy, text, ParseSize); },
          [&](const NodeSize& k) { return Store(k.field, policy, text, ParseNodeSize); },
          [&](const Duration& k) { return Store(k.field, policy, text, ParseDuration); },
          [&](const Ratio& k) { return Store(k.field, policy, text, ParseRatio); },
          [&](const Rate& k) { return Store(k.field, policy, text, ParseRate); },
          [&](const ByteRate& k) { return Store(k.field, policy, text, ParseByteRate); },
          [&](const Integer& k) {
            return Store(k.field, policy, text, [&](std::string_view t) { return InRange(t, k.min, k.max, k.unit); });
          },
          [&](const Count& k) {
            return Store(k.field, policy, text, [&](std::string_view t) {
              return InRange(t, static_cast<int64_t>(k.min), static_cast<int64_t>(k.max), k.unit);
            });
          },
          [&](const StringList&) -> Parsed<bool> { return tl::unexpected(std::string("expected a list")); },
      },
      key.kind);
}

bool ReadList(const Key& key, std::vector<std::string> items, model::Policy& policy) {
  const auto* list = std::get_if<StringList>(&key.kind);
  if (!list) return false;
  list->field(policy) = std::move(items);
  return true;
}

std::string Render(const Key& key, const model::Policy& p) {
  return std::visit(Overloaded{
                        [](const Section&) { return std::string(); },
                        [&](const Bool& k) { return std::string(Get(k.field, p) ? "true" : "false"); },
                        [&](const Size& k) { return RenderSize(Get(k.field, p)); },
                        [&](const NodeSize& k) { return RenderNodeSize(Get(k.field, p)); },
                        [&](const Duration& k) { return RenderDuration(Get(k.field, p)); },
                        [&](const Ratio& k) { return RenderNumber(Get(k.field, p)); },
                        [&](const Rate& k) { return RenderNumber(Get(k.field, p)) + "/s"; },
                        [&](const ByteRate& k) { return RenderByteRate(Get(k.field, p)); },
                        [&](const Integer& k) { return std::to_string(Get(k.field, p)); },
                        [&](const Count& k) { return std::to_string(Get(k.field, p)); },
                        [&](const StringList& k) { return RenderList(Get(k.field, p)); },
                    },
                    key.kind);
}

std::string Broken(const Key& key, const model::Policy& p) {
  auto rule = [](bool ok, std::string text) { return ok ? std::string() : text; };
  return std::visit(
      Overloaded{
          [](const Section&) { return std::string(); },
          [](const Bool&) { return std::string(); },
          [&](const Size& k) {
            return rule(Get(k.field, p) >= k.min, k.min == 1 ? "above 0" : "at least " + RenderSize(k.min));
          },
          [&](const NodeSize& k) {
            const model::NodeSize& v = Get(k.field, p);
            if (k.min_bytes == 0) return std::string();
            if (v.percent) return rule(*v.percent > 0, "above 0%");
            return rule(v.bytes >= k.min_bytes, "at least " + RenderSize(k.min_bytes));
          },
          [&](const Duration& k) { return rule(!k.positive || Get(k.field, p) > model::Duration{0}, "above 0s"); },
          [&](const Ratio& k) {
            const double v = Get(k.field, p);
            return k.whole_allowed ? rule(v > 0 && v <= 1, "above 0 and at most 1")
                                   : rule(v >= 0 && v < 1, "at least 0 and below 1");
          },
          [&](const Rate& k) { return rule(Get(k.field, p) >= 0, "at least 0"); },
          [&](const ByteRate& k) { return rule(Get(k.field, p) >= k.min, "at least " + RenderByteRate(k.min)); },
          [](const Integer&) { return std::string(); },  // checked as it is read
          [](const Count&) { return std::string(); },    // checked as it is read
          [&](const StringList& k) { return rule(NamesOk(Get(k.field, p)), "a list of distinct, non-empty names"); },
      },
      key.kind);
}

}  // namespace kvmem::config::schema
