// Quantities as written in configuration (parsing; controller/model/units.h formats them for
// logs). The policy file's scalar syntax: sizes ("512MiB"), sizes or node percentages ("10%"),
// durations ("500ms", "10s", "2m", "1h"), ratios ("0.15" or "15%") and rates ("100/s",
// "1MiB/s"); and the canonical text each renders back to. Parsers return the value or the
// expectation to show the user ("expected a duration (...)"); the caller adds key and position.
// Thread-safe (pure functions). Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "controller/model/policy.h"

namespace kvmem::config {

template <class T>
using Parsed = tl::expected<T, std::string>;

// Bytes as a whole number, or a number (decimals allowed) with B, KiB, MiB, GiB or TiB.
// SI units (KB, MB, GB) are refused: they are ambiguous for memory.
Parsed<uint64_t> ParseSize(std::string_view text);
// A size, or a percentage of the node's total memory above 0 and below 100.
Parsed<model::NodeSize> ParseNodeSize(std::string_view text);
// A whole number with ms, s, m or h. A bare number is refused: "2" could be anything.
Parsed<model::Duration> ParseDuration(std::string_view text);
// A plain number ("0.15") or a percentage ("15%").
Parsed<double> ParseRatio(std::string_view text);
// Events per second: "100" or "100/s".
Parsed<double> ParseRate(std::string_view text);
// Bytes per second: a size, optionally followed by "/s".
Parsed<double> ParseByteRate(std::string_view text);
// A whole number.
Parsed<int64_t> ParseInteger(std::string_view text);

// Canonical forms: the largest unit that is exact ("512MiB", "5m", "1536MiB").
std::string RenderSize(uint64_t bytes);
std::string RenderNodeSize(const model::NodeSize& size);
std::string RenderDuration(model::Duration d);
// Shortest text that parses back to the same double.
std::string RenderNumber(double v);
std::string RenderByteRate(double bytes_per_second);

}  // namespace kvmem::config
