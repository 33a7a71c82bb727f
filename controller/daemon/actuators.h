// The actuator stack the control loop applies through, built from the flags:
//   Backoff(Deadline(Router{libvirt, compaction, hugepages, placement, ksm, offload}))          with --apply
//   Backoff(Deadline(DryRun(Router{libvirt, compaction, hugepages, placement, ksm, offload})))  without
// Every actuator reads back through one observe::HostReadBack and writes libvirt through one
// shared read-write connection. Not thread-safe: the control loop is the one caller.
#pragma once

#include <memory>

#include "controller/actuate/actuator.h"
#include "controller/actuate/compaction.h"
#include "controller/actuate/deadline.h"
#include "controller/actuate/hugepages.h"
#include "controller/actuate/ksm.h"
#include "controller/actuate/libvirt.h"
#include "controller/actuate/offload.h"
#include "controller/actuate/placement.h"
#include "controller/daemon/flags.h"
#include "controller/observe/read_back.h"

namespace kvmem::daemon {

class ActuatorStack {
 public:
  ActuatorStack(const Config& cfg, const procfs::Root& root);
  actuate::Actuator& top() { return backoff_; }
  // An action is still running past --actuate.timeout (see Deadline).
  bool stuck() const { return deadline_.stuck(); }

 private:
  observe::HostReadBack read_back_;
  std::unique_ptr<hostwrite::LibvirtWriter> libvirt_;  // null without --libvirt.uri
  std::unique_ptr<actuate::LibvirtActuator> libvirt_actuator_;
  actuate::SysfsCompaction compaction_;
  actuate::HugepagePoolActuator hugepages_;  // virNodeAllocPages, else sysfs
  actuate::PlacementActuator placement_;     // libvirt pinning, libnuma migration
  actuate::OffloadActuator offload_;         // cgroup v2 memory.reclaim
  actuate::KsmActuator ksm_;                 // /sys/kernel/mm/ksm
  actuate::Router router_;
  actuate::DryRun dry_run_;
  actuate::Deadline deadline_;  // a hung call cannot hold the loop
  actuate::Backoff backoff_;
};

}  // namespace kvmem::daemon
