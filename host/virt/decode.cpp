// Memory stats and typed-parameter decoding.
#include "host/virt/decode.h"

#include <cstring>
#include <limits>

namespace kvmem::virt {
namespace {

std::optional<uint64_t> KiB(unsigned long long v) {
  if (v > std::numeric_limits<uint64_t>::max() / 1024) return std::nullopt;
  return static_cast<uint64_t>(v) * 1024;
}

// Stores one libvirt memory-stat tag (the same numbering serves both APIs).
void Store(MemoryStats& s, int tag, unsigned long long v) {
  switch (tag) {
    case VIR_DOMAIN_MEMORY_STAT_SWAP_IN: s.swap_in_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT: s.swap_out_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT: s.major_faults = v; break;
    case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT: s.minor_faults = v; break;
    case VIR_DOMAIN_MEMORY_STAT_UNUSED: s.unused_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_AVAILABLE: s.available_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON: s.actual_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_RSS: s.rss_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_USABLE: s.usable_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
      if (v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
        s.last_update = static_cast<int64_t>(v);
      }
      break;
    case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES: s.disk_caches_bytes = KiB(v); break;
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC: s.hugetlb_pgalloc = v; break;
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL: s.hugetlb_pgfail = v; break;
    default: break;
  }
}

// A typed parameter's value when it is a non-negative integer.
std::optional<unsigned long long> Unsigned(const virTypedParameter& p) {
  switch (p.type) {
    case VIR_TYPED_PARAM_INT:
      return p.value.i < 0 ? std::nullopt
                           : std::optional<unsigned long long>(static_cast<unsigned long long>(p.value.i));
    case VIR_TYPED_PARAM_UINT: return p.value.ui;
    case VIR_TYPED_PARAM_LLONG:
      return p.value.l < 0 ? std::nullopt
                           : std::optional<unsigned long long>(static_cast<unsigned long long>(p.value.l));
    case VIR_TYPED_PARAM_ULLONG: return p.value.ul;
    default: return std::nullopt;
  }
}

struct BalloonField {
  const char* name;  // after "balloon."
  int tag;           // memory-stat tag, or -1 / -2 for current / maximum
};
constexpr BalloonField kBalloonFields[] = {
    {"current", -1},
    {"maximum", -2},
    {"swap_in", VIR_DOMAIN_MEMORY_STAT_SWAP_IN},
    {"swap_out", VIR_DOMAIN_MEMORY_STAT_SWAP_OUT},
    {"major_fault", VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT},
    {"minor_fault", VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT},
    {"unused", VIR_DOMAIN_MEMORY_STAT_UNUSED},
    {"available", VIR_DOMAIN_MEMORY_STAT_AVAILABLE},
    {"rss", VIR_DOMAIN_MEMORY_STAT_RSS},
    {"usable", VIR_DOMAIN_MEMORY_STAT_USABLE},
    {"last-update", VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE},
    {"disk_caches", VIR_DOMAIN_MEMORY_STAT_DISK_CACHES},
    {"hugetlb_pgalloc", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC},
    {"hugetlb_pgfail", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL},
};

}  // namespace

MemoryStats DecodeMemoryStats(std::span<const virDomainMemoryStatStruct> stats) {
  MemoryStats out;
  for (const auto& s : stats) Store(out, s.tag, s.val);
  return out;
}

BalloonRecord DecodeBalloonParams(std::span<const virTypedParameter> params) {
  BalloonRecord out;
  constexpr std::string_view kPrefix = "balloon.";
  for (const auto& p : params) {
    std::string_view field(p.field, ::strnlen(p.field, VIR_TYPED_PARAM_FIELD_LENGTH));
    if (field.substr(0, kPrefix.size()) != kPrefix) continue;
    out.present = true;
    field.remove_prefix(kPrefix.size());
    auto v = Unsigned(p);
    if (!v) continue;
    for (const auto& f : kBalloonFields) {
      if (field != f.name) continue;
      if (f.tag == -1)
        out.current_bytes = KiB(*v);
      else if (f.tag == -2)
        out.maximum_bytes = KiB(*v);
      else
        Store(out.stats, f.tag, *v);
    }
  }
  // The bulk API reports the balloon size only as balloon.current.
  if (out.current_bytes && !out.stats.actual_bytes) out.stats.actual_bytes = out.current_bytes;
  return out;
}

}  // namespace kvmem::virt
