// Parsing and rendering of sizes, durations, ratios and rates as configuration files write them.
#include "controller/config/quantity.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace kvmem::config {
namespace {

constexpr std::string_view kSizeExpect =
    "expected a size in bytes or with an IEC unit (B, KiB, MiB, GiB, TiB), e.g. \"512MiB\"";
constexpr std::string_view kNodeSizeExpect =
    "expected a size in bytes or with an IEC unit (B, KiB, MiB, GiB, TiB), or a percentage of the "
    "node's total memory, e.g. \"4GiB\" or \"10%\"";
constexpr std::string_view kDurationExpect =
    "expected a duration: a whole number with ms, s, m or h, e.g. \"500ms\", \"10s\", \"2m\"";
constexpr std::string_view kRatioExpect = "expected a number or a percentage, e.g. \"0.15\" or \"15%\"";
constexpr std::string_view kRateExpect = "expected a rate per second, e.g. \"100\" or \"100/s\"";
constexpr std::string_view kByteRateExpect = "expected bytes per second, e.g. \"1MiB/s\"";
constexpr std::string_view kIntegerExpect = "expected a whole number";

constexpr std::array<std::pair<std::string_view, uint64_t>, 5> kSizeUnits = {
    {{"TiB", model::kTiB}, {"GiB", model::kGiB}, {"MiB", model::kMiB}, {"KiB", model::kKiB}, {"B", 1}}};

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "512MiB" into "512" and "MiB" (the unit may be separated by spaces).
std::pair<std::string_view, std::string_view> SplitNumber(std::string_view s) {
  size_t i = 0;
  while (i < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.' || s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  return {s.substr(0, i), Trim(s.substr(i))};
}

std::optional<double> ToDouble(std::string_view s) {
  double v = 0;
  if (s.empty() || s.front() == '+') return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<uint64_t> ToU64(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Bytes per unit: 1 without a unit, 0 for an unknown one.
uint64_t UnitMultiplier(std::string_view unit) {
  if (unit.empty()) return 1;
  for (const auto& [name, m] : kSizeUnits) {
    if (unit == name) return m;
  }
  return 0;
}

std::string UnknownUnit(std::string_view unit, std::string_view original) {
  return "unknown unit " + Quote(unit) + " in " + Quote(original) + "; use B, KiB, MiB, GiB or TiB (powers of 1024)";
}

// `text` is what holds the number; `original` is what the user wrote, for messages.
Parsed<uint64_t> SizeWith(std::string_view text, std::string_view expect, std::string_view original) {
  const std::string_view t = Trim(text);
  auto fail = [&] { return tl::unexpected(std::string(expect) + ", got " + Quote(original)); };
  auto [num, unit] = SplitNumber(t);
  if (num.empty()) return fail();
  const uint64_t mult = UnitMultiplier(unit);
  if (mult == 0) return tl::unexpected(UnknownUnit(unit, original));
  if (auto whole = ToU64(num)) {
    if (*whole > std::numeric_limits<uint64_t>::max() / mult)
      return tl::unexpected("size " + Quote(original) + " is too large");
    return *whole * mult;
  }
  const auto v = ToDouble(num);
  if (!v || *v < 0) return fail();
  const double bytes = *v * static_cast<double>(mult);
  if (bytes >= 18446744073709551615.0) return tl::unexpected("size " + Quote(original) + " is too large");
  return static_cast<uint64_t>(std::llround(bytes));
}

// The text without a trailing `suffix` such as "/s" (unchanged when it has none).
std::string_view StripSuffix(std::string_view s, std::string_view suffix) {
  s = Trim(s);
  if (s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
    return Trim(s.substr(0, s.size() - suffix.size()));
  }
  return s;
}

}  // namespace

Parsed<uint64_t> ParseSize(std::string_view text) { return SizeWith(text, kSizeExpect, text); }

Parsed<model::NodeSize> ParseNodeSize(std::string_view text) {
  const std::string_view t = Trim(text);
  if (!t.empty() && t.back() == '%') {
    const auto v = ToDouble(Trim(t.substr(0, t.size() - 1)));
    if (!v) return tl::unexpected(std::string(kNodeSizeExpect) + ", got " + Quote(text));
    if (*v <= 0 || *v >= 100) return tl::unexpected("percentage must be above 0% and below 100%, got " + Quote(text));
    return model::NodeSize::Percent(*v);
  }
  auto bytes = SizeWith(text, kNodeSizeExpect, text);
  if (!bytes) return tl::unexpected(bytes.error());
  return model::NodeSize::Bytes(*bytes);
}

Parsed<model::Duration> ParseDuration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, int64_t>, 4> kUnits = {
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};
  auto [num, unit] = SplitNumber(Trim(text));
  const auto n = ToU64(num);
  for (const auto& [name, ms] : kUnits) {
    if (unit != name || !n) continue;
    if (*n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / ms)) break;
    return model::Duration{static_cast<int64_t>(*n) * ms};
  }
  return tl::unexpected(std::string(kDurationExpect) + ", got " + Quote(text));
}

Parsed<double> ParseRatio(std::string_view text) {
  std::string_view t = Trim(text);
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t = Trim(t.substr(0, t.size() - 1));
  const auto v = ToDouble(t);
  if (!v) return tl::unexpected(std::string(kRatioExpect) + ", got " + Quote(text));
  return percent ? *v / 100.0 : *v;
}

Parsed<double> ParseRate(std::string_view text) {
  const auto v = ToDouble(StripSuffix(text, "/s"));
  if (!v) return tl::unexpected(std::string(kRateExpect) + ", got " + Quote(text));
  return *v;
}

Parsed<double> ParseByteRate(std::string_view text) {
  // Not SizeWith: a rate may have a fraction of a byte ("1234.5/s") and must keep it.
  auto [num, unit] = SplitNumber(StripSuffix(text, "/s"));
  const uint64_t mult = UnitMultiplier(unit);
  if (!num.empty() && mult == 0) return tl::unexpected(UnknownUnit(unit, text));
  const auto v = ToDouble(num);
  if (!v || *v < 0 || mult == 0) return tl::unexpected(std::string(kByteRateExpect) + ", got " + Quote(text));
  return *v * static_cast<double>(mult);
}

Parsed<int64_t> ParseInteger(std::string_view text) {
  const std::string_view t = Trim(text);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return tl::unexpected(std::string(kIntegerExpect) + ", got " + Quote(text));
  }
  return v;
}

std::string RenderSize(uint64_t bytes) {
  for (const auto& [name, m] : kSizeUnits) {
    if (bytes != 0 && m > 1 && bytes % m == 0) return std::to_string(bytes / m) + std::string(name);
  }
  return std::to_string(bytes);
}

std::string RenderNodeSize(const model::NodeSize& size) {
  return size.percent ? RenderNumber(*size.percent) + "%" : RenderSize(size.bytes);
}

std::string RenderDuration(model::Duration d) { return model::DurationText(d); }

std::string RenderNumber(double v) {
  std::array<char, 64> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::to_string(v);
}

std::string RenderByteRate(double bytes_per_second) {
  const double rounded = std::round(bytes_per_second);
  if (rounded == bytes_per_second && rounded >= 0 && rounded < 1.8e19) {
    return RenderSize(static_cast<uint64_t>(rounded)) + "/s";
  }
  return RenderNumber(bytes_per_second) + "/s";
}

}  // namespace kvmem::config
