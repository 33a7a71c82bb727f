// Tokenising and number parsing shared by every parser. Pure, thread-safe, never throws
// except std::bad_alloc. Every accessor checks bounds; nothing indexes blindly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kvmem::procfs {

std::string_view Trim(std::string_view s);

// Splits on runs of spaces and tabs.
std::vector<std::string_view> SplitFields(std::string_view line);

// Calls fn(line, line_number) for each line (without the newline), 1-based.
template <class Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  int number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    fn(line, ++number);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::optional<uint64_t> ParseU64(std::string_view s, int base = 10);
std::optional<int64_t> ParseI64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// A file holding one unsigned number ("1024\n"). Empty or non-numeric: kParse naming `file`.
Result<uint64_t> ParseSingleU64(std::string_view text, const std::string& file, int base = 10);
Result<int64_t> ParseSingleI64(std::string_view text, const std::string& file);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; an empty list is valid (a node without CPUs).
Result<std::vector<int>> ParseIdList(std::string_view text, const std::string& file);

// A kernel choice file such as "always [madvise] never". `selected` is the bracketed one.
struct Choice {
  std::vector<std::string> options;
  std::string selected;
};
Result<Choice> ParseChoice(std::string_view text, const std::string& file);

inline tl::unexpected<Error> ParseError(const std::string& file, int line, std::string message) {
  return Fail(ErrorKind::kParse, std::move(message), file, line);
}

}  // namespace kvmem::procfs
