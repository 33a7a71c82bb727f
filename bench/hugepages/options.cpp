// Flag registration and value parsing for kvmem_hugepage_ab.
#include "bench/hugepages/options.h"

#include <charconv>
#include <limits>

#include "bench/hugepages/workload.h"

namespace kvmem::hugepage_bench {
namespace {

template <class T>
std::string ParseInt(std::string_view text, T min, T* out) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < min) {
    return "expected a whole number >= " + std::to_string(min) + ", got \"" + std::string(text) + "\"";
  }
  *out = value;
  return "";
}

}  // namespace

bool ParseByteSize(std::string_view text, uint64_t* out) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value == 0) return false;
  std::string_view unit(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
  int shift = 0;
  if (!unit.empty()) {
    switch (unit[0]) {
      case 'K':
      case 'k': shift = 10; break;
      case 'M':
      case 'm': shift = 20; break;
      case 'G':
      case 'g': shift = 30; break;
      case 'T':
      case 't': shift = 40; break;
      default: return false;
    }
    unit.remove_prefix(1);
    if (unit != "" && unit != "i" && unit != "B" && unit != "iB") return false;
  }
  if (value > (std::numeric_limits<uint64_t>::max() >> shift)) return false;
  *out = value << shift;
  return true;
}

std::string ParseModeList(std::string_view text, std::vector<PageMode>* out) {
  std::vector<PageMode> modes;
  while (true) {
    size_t comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    PageMode mode;
    if (!ParseMode(word, &mode)) return "unknown mode \"" + std::string(word) + "\"; expected 4k, 2m or thp";
    for (PageMode m : modes)
      if (m == mode) return "mode " + std::string(word) + " is listed twice";
    modes.push_back(mode);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  *out = std::move(modes);
  return "";
}

void RegisterFlags(FlagSet& flags, Options* o) {
  flags.Custom(
      "size", "BYTES", "1G",
      [o](std::string_view v) {
        return ParseByteSize(v, &o->size_bytes)
                   ? std::string()
                   : "expected a size such as 1G, 512M or 64MiB, got \"" + std::string(v) + "\"";
      },
      "Buffer per run; a multiple of 2 MiB, far beyond the TLB's reach for a fair test.");
  flags.Custom(
      "rounds", "N", "7", [o](std::string_view v) { return ParseInt(v, 1, &o->rounds); },
      "Measured rounds; each runs every mode once, order alternating (A,B then B,A).");
  flags.Custom(
      "warmup", "N", "1", [o](std::string_view v) { return ParseInt(v, 0, &o->warmup); },
      "Rounds run first and discarded.");
  flags.Custom(
      "modes", "LIST", "4k,2m", [o](std::string_view v) { return ParseModeList(v, &o->modes); },
      "Page modes, the first is the control: 4k (MADV_NOHUGEPAGE), 2m (hugetlb pool), thp (MADV_HUGEPAGE).");
  flags.Custom(
      "cpu-node", "NODE", "0", [o](std::string_view v) { return ParseInt(v, 0, &o->cpu_node); },
      "Run on the CPUs of this NUMA node.");
  flags.Custom(
      "mem-node", "NODE", "the CPU node", [o](std::string_view v) { return ParseInt(v, 0, &o->mem_node); },
      "Bind the buffer to this NUMA node (MPOL_BIND); another node than --cpu-node measures remote memory.");
  flags.Custom(
      "remote-node", "NODE", "nearest other node", [o](std::string_view v) { return ParseInt(v, 0, &o->remote_node); },
      "The node --compare-remote puts the buffer on.");
  flags.Bool("compare-remote", &o->compare_remote,
             "When memory is local, also run every mode with memory on a remote node (needs two NUMA nodes).");
  flags.Custom(
      "stream-passes", "N", "3", [o](std::string_view v) { return ParseInt(v, 1, &o->stream_passes); },
      "Sequential read passes and write passes per run.");
  flags.Custom(
      "accesses", "N", "one per cache line", [o](std::string_view v) { return ParseInt(v, uint64_t{1}, &o->accesses); },
      "Dependent chase accesses per run.");
  flags.Custom(
      "seed", "N", "461548381549", [o](std::string_view v) { return ParseInt(v, uint64_t{0}, &o->seed); },
      "Seed of the chase permutation (Sattolo).");
}

Result<void> Validate(const Options& o) {
  if (o.size_bytes % kHugePageBytes != 0) {
    return Fail(ErrorKind::kConfig,
                "--size must be a multiple of 2 MiB (2097152 bytes), got " + std::to_string(o.size_bytes));
  }
  if (o.size_bytes / kLineBytes > std::numeric_limits<uint32_t>::max()) {
    return Fail(ErrorKind::kConfig, "--size is too large: at most 256 GiB (the chase indexes lines with 32 bits)");
  }
  return {};
}

}  // namespace kvmem::hugepage_bench
