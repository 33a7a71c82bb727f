// KSM actuator: writes a SetKsm's pages_to_scan, then sleep_millisecs, then run under
// <sysfs>/kernel/mm/ksm (so ksmd never runs at a new rate with the old pause), and reads the
// three back through the injected ReadBack. It never writes merge_across_nodes, nor run=2.
// Refuses (in dry-run too) when /sys/kernel/mm/ksm is missing or its run file is not
// writable. Apply() never throws; not thread-safe (one caller).
#pragma once

#include "controller/actuate/actuator.h"
#include "controller/model/read_back.h"
#include "host/procfs/root.h"

namespace kvmem::actuate {

class KsmActuator final : public Actuator {
 public:
  // `read_back` may be null (nothing read back); when set it must outlive the actuator.
  KsmActuator(const procfs::Root& root, model::ReadBack* read_back)
      : dir_(root.Sys("kernel/mm/ksm")), read_back_(read_back) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  std::string dir_;
  model::ReadBack* read_back_;
};

}  // namespace kvmem::actuate
