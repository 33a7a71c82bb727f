// The libvirt actuator: balloon targets (virDomainSetMemoryFlags, live) and virtio-mem
// requested sizes (virDomainUpdateDeviceFlags with the live device XML, <requested> changed),
// through the read-write connection it shares with the other libvirt-calling actuators.
// Apply() never throws; not thread-safe (one caller, the control loop).
#pragma once

#include "controller/actuate/actuator.h"
#include "host/write/libvirt_writer.h"

namespace kvmem::actuate {

class LibvirtActuator final : public Actuator {
 public:
  // `writer` must outlive the actuator.
  explicit LibvirtActuator(hostwrite::LibvirtWriter& writer) : writer_(writer) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  hostwrite::LibvirtWriter& writer_;
};

}  // namespace kvmem::actuate
