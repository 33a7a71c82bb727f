// libvirt writes: balloon and virtio-mem.
#include "controller/actuate/libvirt.h"

#include <chrono>

namespace kvmem::actuate {
namespace {

hostwrite::DomainRef RefOf(const model::VmRef& vm) { return {vm.uuid, vm.name}; }

}  // namespace

std::string LibvirtActuator::Refusal(const model::Action& action) const noexcept {
  try {
    if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
      // The controller's sizes include plugged virtio-mem memory (as balloon.current does), but
      // virDomainSetMemoryFlags sets the balloon over base RAM only.
      if (b->to_bytes > b->plugged_bytes) return {};
      return "target " + std::to_string(b->to_bytes) + " B is not above the " + std::to_string(b->plugged_bytes) +
             " B of plugged virtio-mem memory";
    }
    if (std::holds_alternative<model::ResizeVirtioMem>(action)) return {};
    return "the libvirt actuator does not " + model::Summary(action);
  } catch (...) {
    return "out of memory";
  }
}

model::Outcome LibvirtActuator::Apply(const model::Action& action) noexcept {
  const auto start = std::chrono::steady_clock::now();
  model::Outcome out;
  try {
    out.error = Refusal(action);
    Result<void> done;
    if (!out.error.empty()) {
      done = Fail(ErrorKind::kConfig, out.error);
    } else if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
      // No read-back: the balloon reaches its target 0.1-0.5 s later, and the next observation
      // shows what the guest really gave.
      done = writer_.SetBalloon(RefOf(b->vm), (b->to_bytes - b->plugged_bytes) / 1024);
    } else if (const auto* v = std::get_if<model::ResizeVirtioMem>(&action)) {
      done = writer_.SetVirtioMemRequested(RefOf(v->vm), v->alias, v->to_requested_bytes / 1024);
    }
    if (!done) {
      out.ok = false;
      out.error = done.error().ToString();
    }
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace kvmem::actuate
