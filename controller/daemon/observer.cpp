// Host and libvirt observation for the control loop.
#include "controller/daemon/observer.h"

#include "controller/observe/observe.h"

namespace kvmem::daemon {

Observer::Observer(const Config& cfg, procfs::Root root)
    : root_(std::move(root)),
      libvirt_timeout_(cfg.libvirt_timeout),
      default_hugepage_bytes_(observe::DefaultHugepageBytes(root_)),
      cgroups_(root_),
      ksmd_(root_) {
  if (cfg.libvirt_uri.empty()) return;
  virt::SourceOptions so;
  so.uri = cfg.libvirt_uri;
  so.root = root_;
  so.include_inactive = true;  // shut-off autostart VMs: hugepage demand the pools reserve ahead
  source_ = std::make_unique<virt::LibvirtSource>(so);
}

Result<model::Observation> Observer::Observe(model::TimePoint now, loop::Controller& controller) {
  auto obs = observe::ObserveHost(root_, now, &ksmd_);
  if (!obs || !source_) return obs;
  auto snapshot = source_->Get(libvirt_timeout_);
  controller.NoteLibvirt(snapshot.up, snapshot.connection_errors);
  obs->vms = observe::VmsFromSnapshot(snapshot, now, std::chrono::system_clock::now(), controller.policy().stale_after,
                                      default_hugepage_bytes_);
  cgroups_.Fill(obs->vms);
  return obs;
}

}  // namespace kvmem::daemon
