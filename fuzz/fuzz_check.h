// Shared by the fuzz targets: the input as text, one selector byte for targets that cover several
// small parsers, and invariant checks that stop the run like a crash (libFuzzer then saves the
// input as crash-*). Header-only, no state; thread-safe. Throws nothing.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace kvmem::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// The first byte picks one of `count` parsers; the rest is that parser's file.
struct Selected {
  unsigned which = 0;
  std::string_view text;
};
inline Selected Select(const uint8_t* data, size_t size, unsigned count) {
  if (size == 0) return {0, {}};
  return {data[0] % count, AsText(data + 1, size - 1)};
}

[[noreturn]] inline void InvariantFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace kvmem::fuzz

// A promise the parser makes (documented in its header); broken, the input is a finding.
#define KVMEM_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::kvmem::fuzz::InvariantFailed(#cond, __FILE__, __LINE__))
