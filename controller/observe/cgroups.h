// Observe each VM's memory cgroup (from its QEMU process) and the host's swap, for the
// compressed-offload rule. Does file I/O under a procfs Root. Not thread-safe (CgroupObserver
// remembers what it has logged); never throws except std::bad_alloc.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/model/observation.h"
#include "host/procfs/cgroup.h"
#include "host/procfs/root.h"

namespace kvmem::observe {

// The model's view of one cgroup. Pure.
model::VmCgroup ToVmCgroup(const procfs::CgroupLocation& where, const procfs::CgroupMemory& memory);

// Why a located cgroup is not the VM's own, or "" when it is: the hierarchy's root, or a
// cgroup that another VM's QEMU is in too (libvirtd with cgroup_controllers=[] leaves QEMU in
// libvirtd's cgroup). Pure.
std::string NotOwnCgroup(const procfs::CgroupLocation& where, int vms_in_it);

class CgroupObserver {
 public:
  explicit CgroupObserver(procfs::Root root) : root_(std::move(root)) {}

  // Sets vm.cgroup for every VM with a qemu_pid whose cgroup is its own and readable; leaves
  // it unset otherwise (the process or cgroup vanished, a root or shared cgroup). The reason a
  // VM has no cgroup of its own is logged once per VM and reason.
  void Fill(std::vector<model::VmObservation>& vms);

 private:
  void NoteOnce(const model::VmObservation& vm, const std::string& why, const std::string& dir);
  procfs::Root root_;
  std::set<std::string> logged_;  // uuid + reason
};

// Host swap: /proc/meminfo SwapTotal/SwapFree, /proc/swaps (zram devices) and zswap's switch.
// Nullopt when /proc/meminfo cannot be read.
std::optional<model::SwapObservation> ObserveSwap(const procfs::Root& root);

}  // namespace kvmem::observe
