// Byte and ratio arithmetic that never wraps, and the human formats every log line uses.
// Thread-safe (pure functions). Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <string>

#include "controller/model/time.h"

namespace kvmem::model {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;
inline constexpr uint64_t kTiB = 1024 * kGiB;

// a - b, or 0 when b > a: sizes are unsigned and a wrap would mean "shrink by 16 EiB".
constexpr uint64_t SatSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
constexpr uint64_t SatAdd(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }
constexpr uint64_t SatMul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }
// Alignment to `align` bytes; an alignment of 0 leaves the value alone.
constexpr uint64_t AlignDown(uint64_t v, uint64_t align) { return align == 0 ? v : v - v % align; }
constexpr uint64_t AlignUp(uint64_t v, uint64_t align) {
  return align == 0 || v % align == 0 ? v : SatAdd(AlignDown(v, align), align);
}

// Converts a computed byte amount back to an integer: negative and NaN give 0,
// values past 2^64 give UINT64_MAX.
uint64_t ToBytes(double v);
// The same, rounding up (a need of 0.3 bytes is still a need).
uint64_t ToBytesCeil(double v);
inline double AsDouble(uint64_t v) { return static_cast<double>(v); }

// "512 MiB", "3.1 GiB", "0 B": the largest IEC unit below the value, at most 2 decimals.
std::string FormatBytes(uint64_t bytes);
std::string FormatBytes(double bytes);
// "42 s", "0.5 s": seconds, the controller's single unit for time in messages.
std::string FormatSeconds(Duration d);
// The shortest exact form in h, m, s or ms ("2m", "90s", "500ms"): the syntax of both the
// policy file and PromQL durations.
std::string DurationText(Duration d);
// "10%", "12.5%" for a ratio of 0.1 or 0.125.
std::string FormatPercent(double ratio);
// Shortest decimal with at most 3 decimals: "0.5", "100", "0.125".
std::string FormatNumber(double v);
// "t=3600.000s": time points are relative to an arbitrary epoch, so only seconds are shown.
std::string FormatTime(TimePoint t);

}  // namespace kvmem::model
