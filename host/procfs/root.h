// Where /proc and /sys live: the real host, or a fixture tree (--path.procfs, --path.sysfs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmem::procfs {

struct Root {
  std::string proc = "/proc";
  std::string sys = "/sys";

  std::string Proc(const std::string& rel) const { return proc + "/" + rel; }
  std::string Sys(const std::string& rel) const { return sys + "/" + rel; }
  std::string Node(int node, const std::string& rel) const {
    return sys + "/devices/system/node/node" + std::to_string(node) + "/" + rel;
  }
  // nodeN/hugepages/hugepages-<kB>kB/<file>: one pool of one page size.
  std::string NodeHugepages(int node, uint64_t page_bytes, const std::string& file) const {
    return Node(node, "hugepages/hugepages-" + std::to_string(page_bytes / 1024) + "kB/" + file);
  }
};

// --path.procfs and --path.sysfs at start-up: an error (kConfig) when one is not a readable
// directory, a warning naming what is missing when it does not look like procfs or sysfs.
Result<std::vector<std::string>> CheckRootFlags(const Root& root);

}  // namespace kvmem::procfs
