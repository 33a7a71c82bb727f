// Compaction actuator: writes 1 to /sys/devices/system/node/nodeN/compact (under --path.sysfs)
// and reports the node's fragmentation index for the THP order before and after.
// Apply() never throws; not thread-safe (one caller).
#pragma once

#include "controller/actuate/actuator.h"
#include "host/procfs/root.h"

namespace kvmem::actuate {

class SysfsCompaction final : public Actuator {
 public:
  explicit SysfsCompaction(procfs::Root root) : root_(std::move(root)) {}
  model::Outcome Apply(const model::Action& action) noexcept override;

 private:
  procfs::Root root_;
};

}  // namespace kvmem::actuate
