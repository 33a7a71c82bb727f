// The libvirt actuator: balloon targets (virDomainSetMemoryFlags, live) and virtio-mem
// requested sizes (virDomainUpdateDeviceFlags with the live device XML, <requested> changed).
// Uses one read-write connection (LibvirtConnection: opened on first use, keepalive, reopened
// after a failure), its own or one shared with the other libvirt-calling actuators.
// Apply() never throws; not thread-safe (one caller, the control loop).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "controller/actuate/actuator.h"

namespace kvmem::actuate {

class LibvirtConnection;

class LibvirtActuator final : public Actuator {
 public:
  explicit LibvirtActuator(std::string uri);
  // Shares `connection`, which must outlive the actuator.
  explicit LibvirtActuator(LibvirtConnection& connection);
  ~LibvirtActuator() override;
  model::Outcome Apply(const model::Action& action) noexcept override;
  // The domain's live memory (virDomainGetInfo) over this actuator's connection. For the
  // test driver, whose state lives only as long as one connection, this is how tests see a change.
  Result<uint64_t> LiveMemoryBytes(const std::string& uuid);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Returns `domain_xml`'s virtio-mem <memory> element whose alias is `alias` (or, for the
// "virtio-mem<N>" names kvmem gives alias-less devices, the N-th one), with <requested> set
// to `requested_kib` KiB. Pure; errors name the alias.
Result<std::string> VirtioMemDeviceXml(const std::string& domain_xml, const std::string& alias,
                                       uint64_t requested_kib);

}  // namespace kvmem::actuate
