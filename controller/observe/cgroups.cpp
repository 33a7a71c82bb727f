// VM cgroups and host swap, observed.
#include "controller/observe/cgroups.h"

#include <unistd.h>

#include <map>

#include "common/log.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/swap.h"

namespace kvmem::observe {

model::VmCgroup ToVmCgroup(const procfs::CgroupLocation& where, const procfs::CgroupMemory& m) {
  model::VmCgroup cg;
  cg.path = where.dir;
  cg.version = where.version;
  cg.current_bytes = m.current_bytes;
  cg.anon_bytes = m.anon_bytes;
  cg.file_bytes = m.file_bytes;
  cg.swap_bytes = m.swap_bytes;
  cg.zswap_bytes = m.zswap_bytes;
  cg.zswapped_bytes = m.zswapped_bytes;
  if (m.pressure && m.pressure->some) cg.psi_some_seconds_total = static_cast<double>(m.pressure->some->total_us) / 1e6;
  if (m.pressure && m.pressure->full) cg.psi_full_seconds_total = static_cast<double>(m.pressure->full->total_us) / 1e6;
  cg.refault_pages_total = m.RefaultPages();
  cg.page_bytes = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return cg;
}

std::string NotOwnCgroup(const procfs::CgroupLocation& where, int vms_in_it) {
  if (where.is_root) return "the QEMU process is in the root cgroup";
  if (vms_in_it > 1) {
    return "the cgroup is shared by " + std::to_string(vms_in_it) +
           " VMs' QEMU processes (libvirt's cgroup_controllers=[]?)";
  }
  return {};
}

void CgroupObserver::NoteOnce(const model::VmObservation& vm, const std::string& why, const std::string& dir) {
  if (!logged_.insert(vm.uuid + '\n' + why).second) return;
  log::Info("no cgroup of the VM's own: no per-VM cgroup metrics, no compressed offload",
            {{"vm", vm.name}, {"uuid", vm.uuid}, {"reason", why}, {"cgroup", dir}});
}

void CgroupObserver::Fill(std::vector<model::VmObservation>& vms) {
  std::map<size_t, procfs::CgroupLocation> located;
  std::map<std::string, int> users;  // dir -> VMs whose QEMU is in it
  for (size_t i = 0; i < vms.size(); ++i) {
    vms[i].cgroup.reset();
    if (!vms[i].qemu_pid) continue;
    auto where = procfs::LocateMemoryCgroup(root_, *vms[i].qemu_pid);
    if (!where) continue;  // the process exited: the VM stopped
    ++users[where->dir];
    located.emplace(i, std::move(*where));
  }
  for (auto& [i, where] : located) {
    auto& vm = vms[i];
    if (std::string why = NotOwnCgroup(where, users[where.dir]); !why.empty()) {
      NoteOnce(vm, why, where.dir);
      continue;
    }
    auto memory = procfs::ReadCgroupMemory(where);
    if (!memory) {
      if (memory.error().kind != ErrorKind::kNotFound) NoteOnce(vm, memory.error().ToString(), where.dir);
      continue;  // gone between locating and reading: the VM stopped
    }
    vm.cgroup = ToVmCgroup(where, *memory);
  }
}

std::optional<model::SwapObservation> ObserveSwap(const procfs::Root& root) {
  auto mi = procfs::ReadMeminfo(root);
  if (!mi) return std::nullopt;
  model::SwapObservation swap;
  swap.total_bytes = mi->Get("SwapTotal").value_or(0);
  swap.free_bytes = mi->Get("SwapFree").value_or(0);
  swap.zswap_enabled = procfs::ZswapEnabled(root);
  if (auto devices = procfs::ReadSwaps(root); devices && !devices->empty()) {
    swap.zram_only = true;
    for (const auto& d : *devices) swap.zram_only = swap.zram_only && procfs::IsZramSwap(d.filename);
  }
  return swap;
}

}  // namespace kvmem::observe
