// Cycle: budgets, the one-action-per-VM rule and the per-node ledger.
#include "controller/policy/cycle.h"

#include <algorithm>
#include <utility>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {

using model::AsDouble;

Cycle::Cycle(const Window& window, const ControllerState& state, const model::Policy& policy,
             model::Plan& plan)
    : window_(window),
      state_(state),
      policy_(policy),
      plan_(plan),
      actions_left_(policy.limits.max_actions_per_cycle),
      bytes_left_(model::SatSub(policy.limits.max_bytes_per_minute,
                                BytesMovedLastMinute(state, window.Latest().time))) {
  CreditInFlight();
}

void Cycle::AddSkip(std::string subject, std::string rule, std::string reason) {
  if (!skipped_.emplace(subject, rule, reason).second) return;
  plan_.skips.push_back({std::move(subject), std::move(rule), std::move(reason)});
}

bool Cycle::HasActionSlot(const std::string& subject, int needed) {
  if (actions_left_ >= needed) return true;
  const std::string limit = "max_actions_per_cycle " + std::to_string(policy_.limits.max_actions_per_cycle);
  AddSkip(subject, "limits",
          actions_left_ > 0
              ? limit + ": " + std::to_string(actions_left_) + " left, " + std::to_string(needed) + " needed"
              : limit + " reached");
  return false;
}

std::string Cycle::BytesLimitText() const {
  return "max_bytes_per_minute " + model::FormatBytes(policy_.limits.max_bytes_per_minute) + " reached (" +
         model::FormatBytes(model::SatSub(policy_.limits.max_bytes_per_minute, bytes_left_)) +
         " moved or planned in the last 60 s)";
}

std::optional<int> Cycle::PlannedCompaction() const {
  for (const auto& a : plan_.actions) {
    if (const auto* c = std::get_if<model::CompactNode>(&a)) return c->node;
  }
  return std::nullopt;
}

model::Duration Cycle::BalloonCooldownLeft(const std::string& uuid) const {
  auto it = state_.vms.find(uuid);
  if (it == state_.vms.end() || !it->second.last_balloon) return model::Duration{0};
  const model::TimePoint until = *it->second.last_balloon + policy_.balloon.cooldown;
  return until > now() ? until - now() : model::Duration{0};
}

double Cycle::Freed(int node) const {
  auto it = freed_.find(node);
  return it == freed_.end() ? 0.0 : it->second;
}

double Cycle::Drawn(int node) const {
  auto it = drawn_.find(node);
  return it == drawn_.end() ? 0.0 : it->second;
}

uint64_t Cycle::Headroom(const model::NodeObservation& node, bool bound_by_free) const {
  const NodeBand band = BandOf(node, policy_.balloon);
  const double room =
      AsDouble(node.available_bytes) + Freed(node.id) - Drawn(node.id) - AsDouble(band.release_above);
  uint64_t headroom = model::ToBytes(room);
  if (bound_by_free) {
    headroom = std::min(headroom, model::ToBytes(AsDouble(node.free_bytes) - Drawn(node.id)));
  }
  return headroom;
}

void Cycle::BookNode(int node, int64_t delta_bytes) {
  if (delta_bytes < 0) freed_[node] += static_cast<double>(-delta_bytes);
  if (delta_bytes > 0) drawn_[node] += static_cast<double>(delta_bytes);
}

void Cycle::Book(const model::VmObservation& vm, int64_t delta_bytes) {
  for (const auto& node : obs().nodes) {
    const double share = NodeShare(vm, node.id, obs());
    if (share > 0) BookNode(node.id, static_cast<int64_t>(static_cast<double>(delta_bytes) * share));
  }
}

// Balloon targets set within the cooldown that the guest has not reached yet, and virtio-mem
// sizes still settling, will free or take memory the node's "available" does not show yet.
void Cycle::CreditInFlight() {
  for (const auto& vm : obs().vms) {
    if (!vm.running) continue;
    auto it = state_.vms.find(vm.uuid);
    if (it != state_.vms.end() && BalloonCooldownLeft(vm.uuid) > model::Duration{0}) {
      const uint64_t target = it->second.balloon_target;
      const uint64_t current = vm.balloon_current_bytes;
      if (target < current) Book(vm, -static_cast<int64_t>(std::min<uint64_t>(current - target, INT64_MAX)));
      if (target > current) Book(vm, static_cast<int64_t>(std::min<uint64_t>(target - current, INT64_MAX)));
    }
    for (const auto& dev : vm.virtio_mem) {
      const uint64_t r = dev.requested_bytes, c = dev.current_bytes;
      if (r < c) BookNode(dev.node, -static_cast<int64_t>(std::min<uint64_t>(c - r, INT64_MAX)));
      if (r > c) BookNode(dev.node, static_cast<int64_t>(std::min<uint64_t>(r - c, INT64_MAX)));
    }
  }
}

void Cycle::Add(model::Action action) {
  const uint64_t bytes = model::BytesMoved(action);
  const int64_t magnitude = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX));
  const int64_t delta = model::Direction(action) < 0 ? -magnitude : magnitude;
  if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
    if (const auto* vm = obs().FindVm(b->vm.uuid)) Book(*vm, delta);
    touched_.insert(b->vm.uuid);
  } else if (const auto* r = std::get_if<model::ResizeVirtioMem>(&action)) {
    BookNode(r->node, delta);
    touched_.insert(r->vm.uuid);
  }
  --actions_left_;
  bytes_left_ = model::SatSub(bytes_left_, bytes);
  plan_.actions.push_back(std::move(action));
}

}  // namespace kvmem::policy
