// DryRun, Router and Backoff.
#include "controller/actuate/actuator.h"

#include <algorithm>

namespace kvmem::actuate {

std::string SubjectOf(const model::Action& action) {
  return std::visit(
      [](const auto& a) -> std::string {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, model::CompactNode>)
          return "node " + std::to_string(a.node);
        else if constexpr (std::is_same_v<T, model::ResizeHugepagePool>) {
          return "node " + std::to_string(a.node) + " hugepages-" + std::to_string(a.page_bytes / 1024) + "kB";
        } else if constexpr (std::is_same_v<T, model::PinVcpus> || std::is_same_v<T, model::MigrateMemory>) {
          return "vm " + a.vm.uuid + " placement";
        } else if constexpr (std::is_same_v<T, model::SetKsm>) {
          return "ksm";
        } else if constexpr (std::is_same_v<T, model::ReclaimVmMemory>) {
          return "vm " + a.vm.uuid + " offload";
        } else
          return "vm " + a.vm.uuid;
      },
      action);
}

model::Outcome DryRun::Apply(const model::Action& action) noexcept {
  model::Outcome o;
  o.error = inner_->Refusal(action);
  o.ok = o.error.empty();
  o.dry_run = o.ok;
  return o;
}

Actuator* Router::Target(const model::Action& action) const noexcept {
  return std::visit(
      [this](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, model::CompactNode>)
          return compaction_;
        else if constexpr (std::is_same_v<T, model::ResizeHugepagePool>)
          return hugepages_;
        else if constexpr (std::is_same_v<T, model::PinVcpus> || std::is_same_v<T, model::MigrateMemory>)
          return placement_;
        else if constexpr (std::is_same_v<T, model::SetKsm>)
          return ksm_;
        else if constexpr (std::is_same_v<T, model::ReclaimVmMemory>)
          return offload_;
        else
          return libvirt_;
      },
      action);
}

std::string Router::Refusal(const model::Action& action) const noexcept {
  try {
    const Actuator* target = Target(action);
    return target ? target->Refusal(action) : "no actuator for " + std::string(model::ActuatorOf(action));
  } catch (...) {
    return "out of memory";
  }
}

model::Outcome Router::Apply(const model::Action& action) noexcept {
  if (Actuator* target = Target(action)) return target->Apply(action);
  model::Outcome o;
  o.ok = false;
  o.error = Refusal(action);
  return o;
}

Backoff::Backoff(Actuator* inner, std::chrono::milliseconds base, std::chrono::milliseconds max, Clock clock)
    : inner_(inner), base_(base), max_(max), clock_(std::move(clock)) {}

model::Outcome Backoff::Apply(const model::Action& action) noexcept {
  std::string subject;
  try {
    subject = SubjectOf(action);
  } catch (...) {
    model::Outcome o;
    o.ok = false;
    o.error = "out of memory";
    return o;
  }
  auto now = clock_();
  auto it = subjects_.find(subject);
  if (it != subjects_.end() && it->second.failures > 0 && now < it->second.retry_at) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.retry_at - now).count() + 1;
    model::Outcome o;
    o.ok = false;
    o.error = "backing off after " + std::to_string(it->second.failures) + " failures; next try in " +
              std::to_string(left) + " s";
    return o;
  }
  model::Outcome outcome = inner_->Apply(action);
  if (outcome.ok) {
    if (it != subjects_.end()) subjects_.erase(it);
    return outcome;
  }
  Entry& e = subjects_[subject];
  e.failures = std::min(e.failures + 1, 30);
  auto delay = base_ * (1LL << std::min(e.failures - 1, 20));
  e.retry_at = now + std::min<std::chrono::milliseconds>(delay, max_);
  return outcome;
}

}  // namespace kvmem::actuate
