// Compressed offload actuator: writes the step's byte count to <cgroup>/memory.reclaim (cgroup
// v2, Linux 5.19+), so the kernel pushes that much of the VM's memory out to zswap or zram
// swap. EAGAIN (the kernel reclaimed less than asked) is a partial success, not a failure.
// Outcome::bytes_reclaimed is memory.current before minus after, read through the injected
// ReadBack. Unlike the other actuators, Refusal() looks at the cgroup (one access(2) per file):
// a VM that stopped, a v1 hierarchy or a read-only memory.reclaim must be refused in dry runs too.
// Apply() and Refusal() never throw; not thread-safe (one caller).
#pragma once

#include "controller/actuate/actuator.h"
#include "controller/model/read_back.h"

namespace kvmem::actuate {

class OffloadActuator final : public Actuator {
 public:
  // `read_back` may be null (no bytes_reclaimed reported); when set it must outlive the actuator.
  explicit OffloadActuator(model::ReadBack* read_back) : read_back_(read_back) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  model::ReadBack* read_back_;
};

}  // namespace kvmem::actuate
