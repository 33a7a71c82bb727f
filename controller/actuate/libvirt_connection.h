// The read-write libvirt connection the actuators share (balloon and virtio-mem, hugepage
// pools, vCPU pinning): opened on first use, with keepalive (5 s interval, 3 missed = dead,
// so a vanished daemon fails the call in flight within about 20 s instead of holding the loop),
// and reopened on the next call after it died.
// Internal to controller/actuate: it names libvirt types. Not thread-safe: the control loop
// is the one caller. Nothing throws except std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/result.h"
#include "controller/model/action.h"
#include "host/virt/handles.h"

namespace kvmem::actuate {

class LibvirtConnection {
 public:
  explicit LibvirtConnection(std::string uri) : uri_(std::move(uri)) {}

  const std::string& uri() const { return uri_; }
  // The live connection, opened (or reopened) now if needed. Errors: kLibvirt naming
  // virConnectOpen and the URI.
  Result<virConnectPtr> Get();
  // The VM by UUID over this connection. Errors name the call and the VM.
  Result<virt::DomainPtr> Domain(const model::VmRef& vm);
  // Call right after a libvirt call failed and its error was copied: a dead connection is
  // dropped so the next call reconnects.
  void DropIfDead();

 private:
  std::string uri_;
  virt::ConnectPtr conn_;
};

}  // namespace kvmem::actuate
