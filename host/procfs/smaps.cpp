// /proc/PID/smaps_rollup parsing.
#include "host/procfs/smaps.h"

#include "host/procfs/fields.h"

namespace kvmem::procfs {

Result<SmapsRollup> ParseSmapsRollup(std::string_view text, const std::string& file) {
  SmapsRollup out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int number) {
    if (error) return;
    auto f = SplitFields(line);
    if (f.size() < 2 || f[0].empty() || f[0].back() != ':') return;  // the header and odd lines
    std::optional<uint64_t>* slot = nullptr;
    if (f[0] == "Rss:") slot = &out.rss_bytes;
    if (f[0] == "Anonymous:") slot = &out.anon_bytes;
    if (f[0] == "AnonHugePages:") slot = &out.anon_huge_bytes;
    if (!slot) return;
    auto kb = ParseU64(f[1]);
    if (f.size() != 3 || f[2] != "kB" || !kb || *kb > (UINT64_MAX >> 10)) {
      error = ParseError(file, number, "expected \"" + std::string(f[0]) + " N kB\"").value();
      return;
    }
    *slot = *kb << 10;
  });
  if (error) return tl::unexpected(*error);
  if (!out.rss_bytes) return ParseError(file, 1, "no Rss line");
  return out;
}

}  // namespace kvmem::procfs
