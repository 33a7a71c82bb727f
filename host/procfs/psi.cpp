// Parses PSI lines.
#include "host/procfs/psi.h"

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<Psi> ParsePsi(std::string_view text, const std::string& file) {
  if (Trim(text).empty()) return ParseError(file, 1, "empty file");
  Psi psi;
  std::optional<Error> error;
  ForEachLine(text, [&](std::string_view line, int n) {
    if (error || Trim(line).empty()) return;
    auto f = SplitFields(line);
    auto fail = [&](std::string msg) { error = Error{ErrorKind::kParse, std::move(msg), file, n}; };
    if (f.empty() || (f[0] != "some" && f[0] != "full")) {
      fail("expected a line starting with some or full, got \"" + std::string(line) + "\"");
      return;
    }
    PsiLine p;
    bool seen[4] = {false, false, false, false};
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) {
        fail("expected key=value, got \"" + std::string(f[i]) + "\"");
        return;
      }
      std::string_view key = f[i].substr(0, eq), value = f[i].substr(eq + 1);
      if (key == "total") {
        auto v = ParseU64(value);
        if (!v) return fail("total is not a number: \"" + std::string(value) + "\"");
        p.total_us = *v;
        seen[3] = true;
        continue;
      }
      double* target = key == "avg10" ? &p.avg10 : key == "avg60" ? &p.avg60 : key == "avg300" ? &p.avg300 : nullptr;
      if (!target) continue;  // unknown keys are ignored
      // "2.14" percent parsed as "2.14e-2", so the ratio is the double nearest 0.0214.
      auto v =
          value.find_first_of("eE") == std::string_view::npos ? ParseDouble(std::string(value) + "e-2") : std::nullopt;
      if (!v) return fail(std::string(key) + " is not a number: \"" + std::string(value) + "\"");
      *target = *v;
      seen[key == "avg10" ? 0 : key == "avg60" ? 1 : 2] = true;
    }
    for (int i = 0; i < 4; ++i) {
      if (!seen[i]) {
        static const char* kNames[] = {"avg10", "avg60", "avg300", "total"};
        return fail(std::string("missing ") + kNames[i] + "= in \"" + std::string(line) + "\"");
      }
    }
    (f[0] == "some" ? psi.some : psi.full) = p;
  });
  if (error) return tl::unexpected(*error);
  return psi;
}

Result<Psi> ReadMemoryPressure(const Root& root) {
  std::string path = root.Proc("pressure/memory");
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParsePsi(*text, path);
}

}  // namespace kvmem::procfs
