// Hugepage pool actuator: sets one node's pool of one page size (ResizeHugepagePool).
//
// How it writes, in this order:
//   libvirt  virNodeAllocPages(VIR_NODE_ALLOC_PAGES_SET, startCell = node, cellCount = 1) on
//            the shared read-write connection, when there is one and its driver implements it
//            (qemu:///system does: libvirtd writes, so the controller needs no write access
//            to /sys);
//   sysfs    otherwise (no --libvirt.uri, libvirt unreachable, or VIR_ERR_NO_SUPPORT, which
//            is what the test driver answers): it writes the pool size to
//            <--path.sysfs>/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages.
// Which one wrote is last_method() and the `method` label of
// kvmem_controller_hugepage_pool_writes_total.
//
// Either way it then reads nr_hugepages back into Outcome::pages_obtained: the kernel grows a
// pool only as far as it finds free contiguous memory, and shrinks it only by free pages (pages
// in use become surplus and stay counted until released). Falling short is ok == false with
// an error such as "obtained 40 of 64 pages of 2 MiB on node 0 (short by 24)".
// Apply() never throws; not thread-safe (one caller, the control loop). Collect() may run on
// any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controller/actuate/actuator.h"
#include "common/metrics/sink.h"
#include "host/procfs/root.h"

namespace kvmem::actuate {

class LibvirtConnection;

class HugepagePoolActuator final : public Actuator {
 public:
  // `libvirt` may be null (then always sysfs); when set it must outlive the actuator.
  HugepagePoolActuator(procfs::Root root, LibvirtConnection* libvirt) : root_(std::move(root)), libvirt_(libvirt) {}
  model::Outcome Apply(const model::Action& action) noexcept override;

  // "libvirt" or "sysfs": what wrote the last resize; "" before the first (or when the action
  // was refused before writing). For the Apply() thread.
  std::string_view last_method() const { return last_method_; }

  // kvmem_controller_hugepage_pool_writes_total{method}.
  void Collect(MetricSink& out) const;
  static std::vector<const FamilyDesc*> Families();

 private:
  struct Written {
    std::string_view method;
    std::string error;  // empty when the write itself succeeded
  };
  Written Write(const model::ResizeHugepagePool& a, const std::string& path);

  procfs::Root root_;
  LibvirtConnection* libvirt_;
  std::string_view last_method_;
  std::array<std::atomic<uint64_t>, 2> writes_{};  // libvirt, sysfs
};

// <sysfs>/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages.
std::string PoolFile(const procfs::Root& root, int node, uint64_t page_bytes);

// Compares the pool read back after a resize with the target. A grow (to_pages >= from_pages)
// succeeds when obtained >= to_pages (surplus pages count), a shrink (to_pages <= from_pages)
// when obtained <= to_pages. Returns "" then, else the error: "obtained 40 of 64 pages of
// 2 MiB on node 0 (short by 24)" or "pool of 2 MiB pages on node 0 is 30, asked 16 (14 above:
// pages in use stay until freed)". Pure; throws only std::bad_alloc.
std::string PoolShortfall(const model::ResizeHugepagePool& action, uint64_t obtained);

}  // namespace kvmem::actuate
