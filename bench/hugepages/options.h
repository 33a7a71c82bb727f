// Command-line options of kvmem_hugepage_ab and the parsing of their values.
// Not thread-safe (fills one Options from argv in main). Throws std::bad_alloc only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/hugepages/mapping.h"
#include "common/flags.h"
#include "common/result.h"

namespace kvmem::hugepage_bench {

struct Options {
  uint64_t size_bytes = uint64_t{1} << 30;
  int rounds = 7;                                                // measured rounds; each runs every mode once
  int warmup = 1;                                                // rounds run first and discarded
  std::vector<PageMode> modes = {PageMode::k4k, PageMode::k2m};  // the first is the control
  int cpu_node = 0;
  int mem_node = -1;           // -1: the CPU node (local)
  int remote_node = -1;        // -1: the nearest other node with memory
  bool compare_remote = true;  // also run with memory on a remote node, where there is one
  int stream_passes = 3;
  uint64_t accesses = 0;         // chase steps per run; 0: one whole cycle (one per line)
  uint64_t seed = 0x6b766d656d;  // "kvmem": the permutation is the same on every run and host
};

// "1G", "64M", "512MiB", "2097152": binary multiples (K, M, G, T; optional "i" and "B").
// Returns false on anything else, zero, or overflow.
bool ParseByteSize(std::string_view text, uint64_t* out);

// "4k,2m,thp": at least one mode, no repeats. Returns an error message or "".
std::string ParseModeList(std::string_view text, std::vector<PageMode>* out);

// Registers every option on `flags` (values are checked as they are parsed).
void RegisterFlags(FlagSet& flags, Options* options);

// Checks what single flags cannot: the size against 2 MiB pages and the chase's 32-bit index.
// kConfig error naming the flag.
Result<void> Validate(const Options& options);

}  // namespace kvmem::hugepage_bench
