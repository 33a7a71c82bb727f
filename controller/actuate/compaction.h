// Compaction actuator: writes 1 to <sysfs>/devices/system/node/nodeN/compact (the write
// returns when the kernel has finished) and reports the node's fragmentation index for the
// THP order before and after, read through the injected ReadBack.
// Apply() never throws; not thread-safe (one caller).
#pragma once

#include "controller/actuate/actuator.h"
#include "controller/model/read_back.h"
#include "host/procfs/root.h"

namespace kvmem::actuate {

class SysfsCompaction final : public Actuator {
 public:
  // `read_back` may be null (no indexes reported); when set it must outlive the actuator.
  SysfsCompaction(procfs::Root root, model::ReadBack* read_back) : root_(std::move(root)), read_back_(read_back) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  procfs::Root root_;
  model::ReadBack* read_back_;
};

}  // namespace kvmem::actuate
