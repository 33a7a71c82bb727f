// Parses /proc/swaps and zram mm_stat.
#include "host/procfs/swap.h"

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<std::vector<SwapDevice>> ParseSwaps(std::string_view text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file; expected a header line");
  std::vector<SwapDevice> out;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int n) {
    if (error || Trim(line).empty()) return;
    auto f = SplitFields(line);
    if (n == 1) {
      if (f.empty() || f[0] != "Filename") {
        error = Error{ErrorKind::kParse, "expected the header \"Filename Type Size Used Priority\"", file, n};
      }
      return;
    }
    if (f.size() != 5) {
      error = Error{ErrorKind::kParse, "expected 5 fields, got " + std::to_string(f.size()), file, n};
      return;
    }
    auto size = ParseU64(f[2]), used = ParseU64(f[3]);
    auto prio = ParseI64(f[4]);
    if (!size || !used || !prio || *size > (UINT64_MAX >> 10) || *used > (UINT64_MAX >> 10)) {
      error =
          Error{ErrorKind::kParse, "size, used and priority must be numbers in \"" + std::string(line) + "\"", file, n};
      return;
    }
    out.push_back({std::string(f[0]), std::string(f[1]), *size * 1024, *used * 1024, *prio});
  });
  if (error) return tl::unexpected(*error);
  return out;
}

Result<std::vector<SwapDevice>> ReadSwaps(const Root& root) {
  std::string path = root.Proc("swaps");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseSwaps(*text, path);
}

Result<ZramMmStat> ParseZramMmStat(std::string_view text, const std::string& file) {
  auto f = SplitFields(Trim(text));
  if (f.size() < 7) {
    return ParseError(file, 1, "expected at least 7 fields, got " + std::to_string(f.size()));
  }
  std::vector<uint64_t> v;
  for (size_t i = 0; i < f.size(); ++i) {
    auto x = ParseU64(f[i]);
    if (!x)
      return ParseError(file, 1, "field " + std::to_string(i + 1) + " is not a number: \"" + std::string(f[i]) + "\"");
    v.push_back(*x);
  }
  ZramMmStat m{v[0], v[1], v[2], v[3], v[4], v[5], v[6], std::nullopt, std::nullopt};
  if (v.size() > 7) m.huge_pages = v[7];
  if (v.size() > 8) m.huge_pages_since = v[8];
  return m;
}

Result<std::vector<ZramDevice>> ReadZramDevices(const Root& root) {
  auto names = ListDir(root.Sys("block"));
  if (!names) {
    if (names.error().kind == ErrorKind::kNotFound) return std::vector<ZramDevice>{};
    return tl::unexpected(names.error());
  }
  std::vector<ZramDevice> out;
  for (const auto& name : *names) {
    if (name.compare(0, 4, "zram") != 0) continue;
    std::string base = root.Sys("block/" + name + "/");
    auto text = ReadSmallFile(base + "mm_stat");
    if (!text) {
      if (text.error().kind == ErrorKind::kNotFound) continue;
      return tl::unexpected(text.error());
    }
    auto mm = ParseZramMmStat(*text, base + "mm_stat");
    if (!mm) return tl::unexpected(mm.error());
    ZramDevice dev{name, 0, *mm};
    if (auto size = ReadU64File(base + "disksize"))
      dev.disksize_bytes = *size;
    else if (size.error().kind != ErrorKind::kNotFound)
      return tl::unexpected(size.error());
    out.push_back(std::move(dev));
  }
  return out;
}

}  // namespace kvmem::procfs
