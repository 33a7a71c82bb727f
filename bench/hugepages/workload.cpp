// Sattolo's permutation, the chase, and the streaming passes.
#include "bench/hugepages/workload.h"

#include <cstring>
#include <random>
#include <utility>

namespace kvmem::hugepage_bench {

std::vector<uint32_t> SattoloCycle(uint32_t n, uint64_t seed) {
  std::vector<uint32_t> next(n);
  for (uint32_t i = 0; i < n; ++i) next[i] = i;
  std::mt19937_64 rng(seed);
  // Sattolo: swap each position with a strictly earlier one. As a map i -> next[i] the result
  // is one cycle through all n elements.
  for (uint32_t i = n; i > 1; --i) {
    std::uniform_int_distribution<uint32_t> pick(0, i - 2);
    std::swap(next[i - 1], next[pick(rng)]);
  }
  return next;
}

KVMEM_BENCH_UNINSTRUMENTED void FaultIn(std::byte* buf, size_t bytes) {
  volatile std::byte* p = buf;  // volatile: every store happens, in order
  for (size_t off = 0; off < bytes; off += kBasePageBytes) p[off] = std::byte{1};
}

KVMEM_BENCH_UNINSTRUMENTED void LayChase(std::byte* buf, const std::vector<uint32_t>& next) {
  for (size_t i = 0; i < next.size(); ++i) {
    const std::byte* target = buf + size_t{next[i]} * kLineBytes;
    std::memcpy(buf + i * kLineBytes, &target, sizeof target);
  }
}

KVMEM_BENCH_UNINSTRUMENTED const std::byte* Chase(const std::byte* buf, uint64_t steps) {
  const std::byte* p = buf;
  for (uint64_t s = 0; s < steps; ++s) {
    // Each load's address is the previous load's value: no overlap, no prefetch.
    p = *reinterpret_cast<const std::byte* const*>(p);
  }
  return p;
}

KVMEM_BENCH_UNINSTRUMENTED uint64_t StreamRead(const uint64_t* words, size_t count) {
  uint64_t a = 0, b = 0, c = 0, d = 0;  // four sums: independent loads the CPU can overlap
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a += words[i];
    b += words[i + 1];
    c += words[i + 2];
    d += words[i + 3];
  }
  for (; i < count; ++i) a += words[i];
  return a ^ b ^ c ^ d;
}

KVMEM_BENCH_UNINSTRUMENTED void StreamWrite(uint64_t* words, size_t count, uint64_t salt) {
  for (size_t i = 0; i < count; ++i) words[i] = i ^ salt;
}

}  // namespace kvmem::hugepage_bench
