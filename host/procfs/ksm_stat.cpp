// Parser for /proc/PID/ksm_stat.
#include "host/procfs/ksm_stat.h"

#include "host/procfs/fields.h"

namespace kvmem::procfs {

Result<KsmStat> ParseKsmStat(std::string_view text, const std::string& file) {
  KsmStat out;
  std::optional<Error> error;
  bool any = false;
  ForEachLine(text, [&](std::string_view line, int number) {
    if (error || Trim(line).empty()) return;
    auto f = SplitFields(line);
    if (f.size() != 2) {
      error = Error{ErrorKind::kParse, "expected \"name value\", got \"" + std::string(line) + "\"", file, number};
      return;
    }
    any = true;
    std::string_view key = f[0];
    if (!key.empty() && key.back() == ':') key.remove_suffix(1);
    auto bad = [&](const char* what) {
      error = Error{ErrorKind::kParse, std::string(key) + " is not " + what + ": \"" + std::string(f[1]) + "\"", file,
                    number};
    };
    auto u64 = [&](std::optional<uint64_t>& into) {
      if (!(into = ParseU64(f[1]))) bad("a number");
    };
    auto flag = [&](std::optional<bool>& into) {
      if (f[1] == "yes")
        into = true;
      else if (f[1] == "no")
        into = false;
      else
        bad("yes or no");
    };
    if (key == "ksm_rmap_items")
      u64(out.rmap_items);
    else if (key == "ksm_zero_pages")
      u64(out.zero_pages);
    else if (key == "ksm_merging_pages")
      u64(out.merging_pages);
    else if (key == "ksm_process_profit") {
      if (!(out.profit_bytes = ParseI64(f[1]))) bad("a number");
    } else if (key == "ksm_merge_any")
      flag(out.merge_any);
    else if (key == "ksm_mergeable")
      flag(out.mergeable);
  });
  if (error) return tl::unexpected(*error);
  if (!any) return ParseError(file, 1, "empty file");
  return out;
}

}  // namespace kvmem::procfs
