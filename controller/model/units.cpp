// Formatting and saturating conversions for bytes, ratios and durations.
#include "controller/model/units.h"

#include <array>
#include <cmath>
#include <cstdio>

namespace kvmem::model {
namespace {

// printf with `decimals`, then trailing zeros (and a bare dot) removed.
std::string Trimmed(double v, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", decimals, v);
  std::string s(buf.data());
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace

uint64_t ToBytes(double v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(v);
}

uint64_t ToBytesCeil(double v) { return ToBytes(std::ceil(v)); }

std::string FormatBytes(uint64_t bytes) { return FormatBytes(AsDouble(bytes)); }

std::string FormatBytes(double bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  const bool negative = bytes < 0;
  double v = std::fabs(bytes);
  size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < kUnits.size()) {
    v /= 1024.0;
    ++unit;
  }
  return (negative ? "-" : "") + Trimmed(v, unit == 0 ? 0 : 2) + " " + kUnits[unit];
}

std::string FormatSeconds(Duration d) { return Trimmed(Seconds(d), 1) + " s"; }

std::string FormatPercent(double ratio) { return Trimmed(ratio * 100.0, 2) + "%"; }

std::string FormatNumber(double v) { return Trimmed(v, 3); }

std::string FormatTime(TimePoint t) {
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "t=%.3fs", Seconds(t.time_since_epoch()));
  return buf.data();
}

std::string DurationText(Duration d) {
  const int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace kvmem::model
