// The read-write libvirt connection the actuators share, and the few calls they make on it:
// balloon size, virtio-mem <requested>, hugepage pools, vCPU and emulator pinning, the
// controller's placement mark. Opened on first use with keepalive (5 s interval, 3 missed =
// dead, so a vanished daemon fails the call in flight within about 20 s), reopened on the next
// call after it died. Names no libvirt type: only kvmem::virt and this file's .cpp do.
// Not thread-safe: the control loop is the one caller. Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmem::hostwrite {

struct DomainRef {
  std::string uuid;
  std::string name;  // for messages
};

class LibvirtWriter {
 public:
  explicit LibvirtWriter(std::string uri);
  ~LibvirtWriter();
  LibvirtWriter(const LibvirtWriter&) = delete;
  LibvirtWriter& operator=(const LibvirtWriter&) = delete;

  const std::string& uri() const { return uri_; }

  // virDomainSetMemoryFlags(LIVE): the balloon target over base RAM.
  Result<void> SetBalloon(const DomainRef& vm, uint64_t kib);
  // virDomainUpdateDeviceFlags(LIVE) with the live device XML whose <requested> is `kib`.
  Result<void> SetVirtioMemRequested(const DomainRef& vm, const std::string& alias, uint64_t kib);
  // virNodeAllocPages(SET) for one node and page size. kUnsupported: the driver lacks it (the
  // test driver); kUnreachable: no connection. Callers then write sysfs instead. *error is
  // set unless kDone or kUnsupported.
  enum class PoolWrite { kDone, kUnsupported, kUnreachable, kFailed };
  PoolWrite SetHugepagePool(int node, uint64_t page_kib, uint64_t pages, Error* error);
  // Pins every live vCPU, then the emulator threads, to `cpus` (LIVE; drivers that refuse the
  // flag on an active domain get the flagless live-only call). *pinned counts the vCPUs
  // pinned and *vcpus how many there are, for messages when it stops part way.
  Result<void> PinToCpus(const DomainRef& vm, const std::vector<int>& cpus, int* pinned, int* vcpus);
  // Marks the pins as the controller's in the live metadata (observe::PlacementFixed).
  Result<void> MarkPinnedTo(const DomainRef& vm, int node);
  // The domain's live memory (virDomainGetInfo). The test driver's state lives only as long
  // as one connection: this is how tests see a change made over this one.
  Result<uint64_t> LiveMemoryBytes(const std::string& uuid);

 private:
  friend Result<void*> RawConnection(LibvirtWriter& writer);
  struct Impl;
  std::string uri_;
  std::unique_ptr<Impl> impl_;
};

// libvirt_writer_internal.h's ConnectionOf, untyped.
Result<void*> RawConnection(LibvirtWriter& writer);

// `domain_xml`'s virtio-mem <memory> element whose alias is `alias` (or, for the
// "virtio-mem<N>" names kvmem gives alias-less devices, the N-th one), with <requested> set
// to `requested_kib` KiB. Pure; errors name the alias.
Result<std::string> VirtioMemDeviceXml(const std::string& domain_xml, const std::string& alias, uint64_t requested_kib);

}  // namespace kvmem::hostwrite
