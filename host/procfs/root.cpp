// The start-up check of --path.procfs and --path.sysfs, shared by both daemons.
#include "host/procfs/root.h"

#include "host/procfs/read.h"

namespace kvmem::procfs {

Result<std::vector<std::string>> CheckRootFlags(const Root& root) {
  std::vector<std::string> warnings;
  // One file every procfs and one directory every sysfs has, whatever the kernel's options:
  // without them the flag points at something else, and every metric read there would be
  // silently absent (a missing file means "the kernel lacks the feature").
  const struct {
    const char* flag;
    const std::string& path;
    const char* marker;
    const char* kind;
  } checks[] = {{"path.procfs", root.proc, "meminfo", "procfs"}, {"path.sysfs", root.sys, "devices/system", "sysfs"}};
  for (const auto& c : checks) {
    if (!ListDir(c.path)) {
      return Fail(ErrorKind::kConfig, "--" + std::string(c.flag) + "=" + c.path + " is not a readable directory");
    }
    if (!PathExists(c.path + "/" + c.marker)) {
      warnings.push_back("--" + std::string(c.flag) + "=" + c.path + " does not look like " + c.kind + ": it has no " +
                         c.marker + "; everything read from it will be missing");
    }
  }
  return warnings;
}

}  // namespace kvmem::procfs
