// One read-write libvirt connection, reopened after it dies.
#include "controller/actuate/libvirt_connection.h"

namespace kvmem::actuate {

Result<virConnectPtr> LibvirtConnection::Get() {
  if (conn_ && virConnectIsAlive(conn_.get()) == 1) return conn_.get();
  conn_.reset();
  virt::InitLibvirt();
  virConnectPtr c = virConnectOpen(uri_.c_str());
  if (!c) return tl::unexpected(virt::LastError("virConnectOpen", uri_));
  if (virConnectSetKeepAlive(c, 5, 3) < 0) virResetLastError();  // unsupported by test:///; harmless
  conn_.reset(c);
  return c;
}

Result<virt::DomainPtr> LibvirtConnection::Domain(const model::VmRef& vm) {
  auto c = Get();
  if (!c) return tl::unexpected(c.error());
  virDomainPtr d = virDomainLookupByUUIDString(*c, vm.uuid.c_str());
  if (!d) return tl::unexpected(virt::LastError("virDomainLookupByUUIDString " + vm.name, uri_));
  return virt::DomainPtr(d);
}

void LibvirtConnection::DropIfDead() {
  if (conn_ && virConnectIsAlive(conn_.get()) != 1) conn_.reset();
}

}  // namespace kvmem::actuate
