// Wiring of the actuator stack.
#include "controller/daemon/actuators.h"

namespace kvmem::daemon {
namespace {

std::unique_ptr<hostwrite::LibvirtWriter> WriterFor(const std::string& uri) {
  if (uri.empty()) return nullptr;
  return std::make_unique<hostwrite::LibvirtWriter>(uri);
}

}  // namespace

ActuatorStack::ActuatorStack(const Config& cfg, const procfs::Root& root)
    : read_back_(root),
      libvirt_(WriterFor(cfg.libvirt_uri)),
      libvirt_actuator_(libvirt_ ? std::make_unique<actuate::LibvirtActuator>(*libvirt_) : nullptr),
      compaction_(root, &read_back_),
      hugepages_(root, libvirt_.get(), &read_back_),
      placement_({.read_back = &read_back_, .libvirt = libvirt_.get()}),
      offload_(&read_back_),
      ksm_(root, &read_back_),
      router_(libvirt_actuator_.get(), &compaction_, &hugepages_, &placement_, &ksm_, &offload_),
      dry_run_(&router_),
      deadline_(cfg.apply ? static_cast<actuate::Actuator*>(&router_) : &dry_run_, cfg.actuate_timeout),
      backoff_(&deadline_, cfg.backoff_initial, cfg.backoff_max, [] { return std::chrono::steady_clock::now(); }) {}

}  // namespace kvmem::daemon
