// libvirt writes over one read-write connection, reopened after it dies.
#include "host/write/libvirt_writer.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "host/virt/handles.h"
#include "host/virt/types.h"
#include "host/write/libvirt_writer_internal.h"

namespace kvmem::hostwrite {

struct LibvirtWriter::Impl {
  std::string uri;
  virt::ConnectPtr conn;

  Result<virConnectPtr> Get() {
    if (conn && virConnectIsAlive(conn.get()) == 1) return conn.get();
    conn.reset();
    virt::InitLibvirt();
    virConnectPtr c = virConnectOpen(uri.c_str());
    if (!c) return tl::unexpected(virt::LastError("virConnectOpen", uri));
    if (virConnectSetKeepAlive(c, 5, 3) < 0) virResetLastError();  // unsupported by test:///; harmless
    conn.reset(c);
    return c;
  }

  Result<virt::DomainPtr> Domain(const DomainRef& vm) {
    auto c = Get();
    if (!c) return tl::unexpected(c.error());
    virDomainPtr d = virDomainLookupByUUIDString(*c, vm.uuid.c_str());
    if (!d) return Failed("virDomainLookupByUUIDString " + vm.name);
    return virt::DomainPtr(d);
  }

  // Copies the error first, then drops a dead connection so the next call reconnects.
  tl::unexpected<Error> Failed(const std::string& call) {
    Error e = virt::LastError(call, uri);
    if (conn && virConnectIsAlive(conn.get()) != 1) conn.reset();
    return tl::unexpected(std::move(e));
  }
};

LibvirtWriter::LibvirtWriter(std::string uri) : uri_(std::move(uri)), impl_(std::make_unique<Impl>()) {
  impl_->uri = uri_;
}

LibvirtWriter::~LibvirtWriter() = default;

Result<void> LibvirtWriter::SetBalloon(const DomainRef& vm, uint64_t kib) {
  auto d = impl_->Domain(vm);
  if (!d) return tl::unexpected(d.error());
  if (virDomainSetMemoryFlags(d->get(), kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
    return impl_->Failed("virDomainSetMemoryFlags " + vm.name);
  }
  return {};
}

Result<void> LibvirtWriter::SetVirtioMemRequested(const DomainRef& vm, const std::string& alias, uint64_t kib) {
  auto d = impl_->Domain(vm);
  if (!d) return tl::unexpected(d.error());
  virt::CStringPtr xml(virDomainGetXMLDesc(d->get(), 0));
  if (!xml) return impl_->Failed("virDomainGetXMLDesc " + vm.name);
  auto device = VirtioMemDeviceXml(xml.get(), alias, kib);
  if (!device) return tl::unexpected(device.error());
  if (virDomainUpdateDeviceFlags(d->get(), device->c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
    return impl_->Failed("virDomainUpdateDeviceFlags " + vm.name + " " + alias);
  }
  return {};
}

LibvirtWriter::PoolWrite LibvirtWriter::SetHugepagePool(int node, uint64_t page_kib, uint64_t pages, Error* error) {
  auto conn = impl_->Get();
  if (!conn) {
    *error = conn.error();
    return PoolWrite::kUnreachable;
  }
  unsigned int kib[1] = {static_cast<unsigned int>(page_kib)};
  unsigned long long count[1] = {pages};
  if (virNodeAllocPages(*conn, 1, kib, count, node, 1, VIR_NODE_ALLOC_PAGES_SET) >= 0) return PoolWrite::kDone;
  if (virt::LastErrorCode() == VIR_ERR_NO_SUPPORT) return PoolWrite::kUnsupported;  // before any other call
  *error = impl_->Failed("virNodeAllocPages node " + std::to_string(node)).value();
  return PoolWrite::kFailed;
}

Result<void> LibvirtWriter::PinToCpus(const DomainRef& vm, const std::vector<int>& cpus, int* pinned, int* vcpus) {
  *pinned = 0;
  *vcpus = 0;
  auto d = impl_->Domain(vm);
  if (!d) return tl::unexpected(d.error());
  int n = virDomainGetVcpusFlags(d->get(), VIR_DOMAIN_AFFECT_LIVE);
  if (n < 0) n = virDomainGetMaxVcpus(d->get());
  if (n < 0) return impl_->Failed("virDomainGetMaxVcpus " + vm.name);
  *vcpus = n;
  std::vector<unsigned char> map(cpus.empty() ? 1 : static_cast<size_t>(cpus.back() / 8 + 1), 0);
  for (int cpu : cpus) map[static_cast<size_t>(cpu / 8)] |= static_cast<unsigned char>(1u << (cpu % 8));
  const int maplen = static_cast<int>(map.size());
  for (int v = 0; v < n; ++v, ++*pinned) {
    const auto vcpu = static_cast<unsigned int>(v);
    if (virDomainPinVcpuFlags(d->get(), vcpu, map.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) == 0) continue;
    const int code = virt::LastErrorCode();
    const std::string call = "virDomainPinVcpuFlags " + vm.name + " vcpu " + std::to_string(v);
    // "unsupported flags" (the test driver): on an active domain the flagless call is live.
    if (code != VIR_ERR_INVALID_ARG || virDomainIsActive(d->get()) != 1) return impl_->Failed(call);
    virResetLastError();
    if (virDomainPinVcpu(d->get(), vcpu, map.data(), maplen) != 0) {
      return impl_->Failed("virDomainPinVcpu " + vm.name + " vcpu " + std::to_string(v));
    }
  }
  if (virDomainPinEmulator(d->get(), map.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) < 0) {
    return impl_->Failed("virDomainPinEmulator " + vm.name);
  }
  return {};
}

Result<void> LibvirtWriter::MarkPinnedTo(const DomainRef& vm, int node) {
  auto d = impl_->Domain(vm);
  if (!d) return tl::unexpected(d.error());
  const std::string mark = "<placement vcpus-node=\"" + std::to_string(node) + "\"/>";
  if (virDomainSetMetadata(d->get(), VIR_DOMAIN_METADATA_ELEMENT, mark.c_str(), virt::kKvmemPlacementPrefix,
                           virt::kKvmemPlacementNs, VIR_DOMAIN_AFFECT_LIVE) < 0) {
    return impl_->Failed("virDomainSetMetadata");
  }
  return {};
}

Result<uint64_t> LibvirtWriter::LiveMemoryBytes(const std::string& uuid) {
  auto d = impl_->Domain({uuid, uuid});
  if (!d) return tl::unexpected(d.error());
  virDomainInfo info{};
  if (virDomainGetInfo(d->get(), &info) < 0) return impl_->Failed("virDomainGetInfo");
  return static_cast<uint64_t>(info.memory) * 1024;
}

Result<void*> RawConnection(LibvirtWriter& writer) {
  auto c = writer.impl_->Get();
  if (!c) return tl::unexpected(c.error());
  return static_cast<void*>(*c);
}

Result<virConnectPtr> ConnectionOf(LibvirtWriter& writer) {
  auto c = RawConnection(writer);
  if (!c) return tl::unexpected(c.error());
  return static_cast<virConnectPtr>(*c);
}

}  // namespace kvmem::hostwrite
