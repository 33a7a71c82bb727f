// The measured work: a dependent pointer chase over a random single-cycle permutation of the
// buffer's cache lines (latency, TLB-bound), and sequential read and write passes (bandwidth).
// Pure computation over memory the caller owns. Thread-compatible. Throws std::bad_alloc only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvmem::hugepage_bench {

inline constexpr size_t kLineBytes = 64;  // one chase pointer per cache line
inline constexpr size_t kBasePageBytes = 4096;

// The measured loops run uninstrumented under AddressSanitizer (KVMEM_SANITIZE builds): its
// shadow-memory checks would add loads and page faults of their own to what is measured.
#define KVMEM_BENCH_UNINSTRUMENTED __attribute__((no_sanitize("address")))

// Writes one byte in every 4 KiB of `buf`: each page's first touch, so each page faults once.
void FaultIn(std::byte* buf, size_t bytes);

// A random cyclic permutation of [0, n) by Sattolo's algorithm: following next[i] from any i
// visits all n elements before returning. Deterministic for a given (n, seed).
std::vector<uint32_t> SattoloCycle(uint32_t n, uint64_t seed);

// Writes into line i of `buf` a pointer to line next[i]. `buf` holds next.size() lines.
void LayChase(std::byte* buf, const std::vector<uint32_t>& next);

// Follows `steps` pointers starting at line 0; returns where it stopped (keep it, so the
// compiler cannot drop the loop).
const std::byte* Chase(const std::byte* buf, uint64_t steps);

// A sequential read of every 64-bit word; returns a checksum to keep the loads alive.
uint64_t StreamRead(const uint64_t* words, size_t count);

// A sequential write of every 64-bit word (values depend on `salt`, so this is not a memset).
void StreamWrite(uint64_t* words, size_t count, uint64_t salt);

}  // namespace kvmem::hugepage_bench
