// The controller's observation of the host: /proc and /sys every cycle, plus the VMs from a
// persistent read-only libvirt connection (bounded by --libvirt.timeout; last good values
// with their age when libvirt is slow). Not thread-safe: the control loop is the one caller.
#pragma once

#include <memory>

#include "common/result.h"
#include "controller/daemon/flags.h"
#include "controller/loop/controller.h"
#include "controller/observe/cgroups.h"
#include "host/procfs/ksmd.h"
#include "host/procfs/root.h"
#include "host/virt/source.h"

namespace kvmem::daemon {

class Observer {
 public:
  Observer(const Config& cfg, procfs::Root root);
  // Reports libvirt's health to `controller` and uses its policy's stale_after.
  Result<model::Observation> Observe(model::TimePoint now, loop::Controller& controller);

 private:
  procfs::Root root_;
  std::chrono::milliseconds libvirt_timeout_;
  std::unique_ptr<virt::LibvirtSource> source_;  // null without --libvirt.uri
  uint64_t default_hugepage_bytes_;              // fixed at boot
  observe::CgroupObserver cgroups_;
  procfs::KsmdCpu ksmd_;  // ksmd's PID, found once and again when it changes
};

}  // namespace kvmem::daemon
