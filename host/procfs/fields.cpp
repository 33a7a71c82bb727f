// Tokenising and std::from_chars number parsing.
#include "host/procfs/fields.h"

#include <charconv>

namespace kvmem::procfs {

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<uint64_t> ParseU64(std::string_view s, int base) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseI64(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<uint64_t> ParseSingleU64(std::string_view text, const std::string& file, int base) {
  std::string_view t = Trim(text);
  if (t.empty()) return ParseError(file, 1, "empty file; expected one number");
  auto v = ParseU64(t, base);
  if (!v) return ParseError(file, 1, "expected an unsigned number, got \"" + std::string(t) + "\"");
  return *v;
}

Result<int64_t> ParseSingleI64(std::string_view text, const std::string& file) {
  std::string_view t = Trim(text);
  if (t.empty()) return ParseError(file, 1, "empty file; expected one number");
  auto v = ParseI64(t);
  if (!v) return ParseError(file, 1, "expected a number, got \"" + std::string(t) + "\"");
  return *v;
}

Result<std::vector<int>> ParseIdList(std::string_view text, const std::string& file) {
  std::vector<int> ids;
  std::string_view t = Trim(text);
  while (!t.empty()) {
    size_t comma = t.find(',');
    std::string_view part = Trim(t.substr(0, comma));
    t = comma == std::string_view::npos ? std::string_view() : t.substr(comma + 1);
    size_t dash = part.find('-');
    auto lo = ParseU64(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : ParseU64(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi > 1'000'000) {
      return ParseError(file, 1, "bad id range \"" + std::string(part) + "\"; expected e.g. 0-3,8");
    }
    // More ids than 0..1000000 holds can only be repeats: refuse them rather than grow without end.
    if (ids.size() + (*hi - *lo + 1) > 1'000'001) {
      return ParseError(file, 1, "more than 1000001 ids; the ranges repeat");
    }
    for (uint64_t i = *lo; i <= *hi; ++i) ids.push_back(static_cast<int>(i));
  }
  return ids;
}

Result<Choice> ParseChoice(std::string_view text, const std::string& file) {
  Choice c;
  for (std::string_view f : SplitFields(Trim(text))) {
    if (f.size() >= 2 && f.front() == '[' && f.back() == ']') {
      f = f.substr(1, f.size() - 2);
      c.selected = std::string(f);
    }
    c.options.emplace_back(f);
  }
  if (c.selected.empty()) {
    return ParseError(file, 1, "no [selected] option in \"" + std::string(Trim(text)) + "\"");
  }
  return c;
}

}  // namespace kvmem::procfs
