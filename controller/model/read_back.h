// What the actuators read back after a write, or check just before one: the observe layer
// implements it (observe::HostReadBack), the daemon injects it into the actuators, so the act layer only
// writes. Every read is fresh, never from a cache. Implementations may throw only
// std::bad_alloc; not thread-safe (the control loop is the one caller).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "controller/model/action.h"

namespace kvmem::model {

using NodeBytes = std::map<int, uint64_t>;  // node id -> bytes

class ReadBack {
 public:
  virtual ~ReadBack() = default;
  // The node's fragmentation index for the THP order, from buddyinfo; nullopt when unreadable.
  virtual std::optional<double> FragmentationIndex(int node) = 0;
  // nr_hugepages of one node's pool of `page_bytes` pages. Errors name the file.
  virtual Result<uint64_t> PoolPages(int node, uint64_t page_bytes) = 0;
  // Resident bytes per node of process `pid` (numa_maps). Errors name the file.
  virtual Result<NodeBytes> ResidentBytesPerNode(int pid) = 0;
  // The running QEMU process of the VM, when it can be found.
  virtual std::optional<int> QemuPid(const std::string& uuid) = 0;
  // The -uuid on process `pid`'s command line ("" when it has none) and the file it came
  // from. Errors name the file.
  struct CommandLineUuid {
    std::string uuid;
    std::string file;
  };
  virtual Result<CommandLineUuid> QemuUuid(int pid) = 0;
  // memory.current of the cgroup directory `dir` (v2). Errors name the file; kNotFound when the
  // cgroup is gone.
  virtual Result<uint64_t> CgroupMemoryBytes(const std::string& dir) = 0;
  // KSM's run, pages_to_scan and sleep_millisecs as /sys/kernel/mm/ksm shows them now. Errors
  // name the file.
  virtual Result<KsmSettings> KsmKnobs() = 0;
};

}  // namespace kvmem::model
