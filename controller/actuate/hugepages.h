// Hugepage pool actuator: sets one node's pool of one page size (ResizeHugepagePool).
//
// How it writes, in this order:
//   libvirt  virNodeAllocPages(SET) for the node on the shared read-write connection, when
//            there is one and its driver implements it (qemu:///system does: libvirtd writes,
//            so the controller needs no write access to /sys);
//   sysfs    otherwise (no --libvirt.uri, libvirt unreachable, or a driver without it, such
//            as the test driver): <sysfs>/devices/system/node/node<N>/hugepages/
//            hugepages-<kB>kB/nr_hugepages.
// Which one wrote is Outcome::method, which the loop counts.
//
// Either way it then reads the pool back through the injected ReadBack into
// Outcome::pages_obtained: the kernel grows a pool only as far as it finds free contiguous
// memory, and shrinks it only by free pages. Falling short is ok == false with an error such
// as "obtained 40 of 64 pages of 2 MiB on node 0 (short by 24)".
// Apply() never throws; not thread-safe (one caller, the control loop).
#pragma once

#include <string>
#include <string_view>

#include "controller/actuate/actuator.h"
#include "controller/model/read_back.h"
#include "host/procfs/root.h"
#include "host/write/libvirt_writer.h"

namespace kvmem::actuate {

class HugepagePoolActuator final : public Actuator {
 public:
  // `libvirt` may be null (then always sysfs); both pointers must outlive the actuator.
  HugepagePoolActuator(procfs::Root root, hostwrite::LibvirtWriter* libvirt, model::ReadBack* read_back)
      : root_(std::move(root)), libvirt_(libvirt), read_back_(read_back) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  struct Written {
    std::string_view method;
    std::string error;  // empty when the write itself succeeded
  };
  Written Write(const model::ResizeHugepagePool& a);

  procfs::Root root_;
  hostwrite::LibvirtWriter* libvirt_;
  model::ReadBack* read_back_;
};

// Compares the pool read back after a resize with the target. A grow (to_pages >= from_pages)
// succeeds when obtained >= to_pages (surplus pages count), a shrink (to_pages <= from_pages)
// when obtained <= to_pages. Returns "" then, else the error: "obtained 40 of 64 pages of
// 2 MiB on node 0 (short by 24)" or "pool of 2 MiB pages on node 0 is 30, asked 16 (14 above:
// pages in use stay until freed)". Pure; throws only std::bad_alloc.
std::string PoolShortfall(const model::ResizeHugepagePool& action, uint64_t obtained);

}  // namespace kvmem::actuate
