// Cycle: budgets, the one-action-per-VM rule and the per-node ledger.
#include "controller/policy/cycle.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {

using model::AsDouble;

namespace {

// The least-squares slope of the node's available memory over observations with
// from <= age < to (ages back from the latest); nullopt with fewer than three of them.
std::optional<double> SlopeOver(const Window& w, int node, model::Duration from, model::Duration to) {
  const model::TimePoint now = w.Latest().time;
  double n = 0, st = 0, sa = 0, stt = 0, sta = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& o = w.at(i);
    if (now - o.time < from || now - o.time >= to) continue;
    for (const auto& nd : o.nodes) {
      if (nd.id != node) continue;
      const double t = model::Seconds(o.time - now), a = AsDouble(nd.available_bytes);
      n += 1, st += t, sa += a, stt += t * t, sta += t * a;
    }
  }
  const double den = n * stt - st * st;
  if (n < 3 || den <= 0) return std::nullopt;
  return (n * sta - st * sa) / den;
}

// A decline that lasts: the node's available memory falls in both halves of `span`, and the
// shallower of the two slopes is the trend. A step (a new VM, a hugepage reservation) falls in
// one half only and is not a trend; noise rarely falls in both.
std::optional<double> SustainedDecline(const Window& w, int node, model::Duration span) {
  if (w.Latest().time - w.at(0).time < span - span / 10) return std::nullopt;  // not a full window yet
  const auto older = SlopeOver(w, node, span / 2, span + span / 10);
  const auto newer = SlopeOver(w, node, model::Duration{0}, span / 2);
  if (!older || !newer || *older >= 0 || *newer >= 0) return std::nullopt;
  return std::max(*older, *newer);
}

}  // namespace

int ActionsPerCycle(const model::Policy& policy, const model::Observation& obs) {
  int running = 0;
  for (const auto& vm : obs.vms) running += vm.running ? 1 : 0;
  const double per_cooldown = model::Seconds(policy.interval) / std::max(1e-3, model::Seconds(policy.balloon.cooldown));
  const int scaled = std::max(4, static_cast<int>(std::ceil(running * per_cooldown)));
  const int cap = policy.limits.max_actions_per_cycle;
  return cap > 0 ? std::min(cap, scaled) : scaled;
}

uint64_t BytesPerMinute(const model::Policy& policy, const model::Observation& obs) {
  uint64_t host = 0;
  for (const auto& n : obs.nodes) host += n.total_bytes;
  const uint64_t scaled = model::ToBytes(AsDouble(host) * policy.limits.max_share_per_minute);
  const uint64_t cap = policy.limits.max_bytes_per_minute;
  return cap > 0 ? std::min(cap, scaled) : scaled;
}

Cycle::Cycle(const Window& window, const ControllerState& state, const model::Policy& policy, model::Plan& plan)
    : window_(window),
      state_(state),
      policy_(policy),
      plan_(plan),
      actions_per_cycle_(ActionsPerCycle(policy, window.Latest())),
      bytes_per_minute_(BytesPerMinute(policy, window.Latest())),
      actions_left_(actions_per_cycle_),
      bytes_left_(model::SatSub(bytes_per_minute_, BytesMovedLastMinute(state, window.Latest().time))) {
  CreditInFlight();
  const model::Duration horizon = policy.interval + policy.balloon.cooldown;
  for (const auto& node : obs().nodes) {
    NodeOutlook o;
    o.horizon = horizon;
    o.projected = node.available_bytes;
    if (policy.balloon.trend_window > model::Duration{0})
      o.slope = SustainedDecline(window, node.id, policy.balloon.trend_window);
    if (o.slope && *o.slope < 0) {
      o.projected = model::ToBytes(AsDouble(node.available_bytes) + *o.slope * model::Seconds(horizon));
    }
    const NodeBand band = BandOf(node, policy.balloon);
    o.early = band.band == model::Band::kSteady && o.projected < band.reclaim_below;
    outlooks_[node.id] = o;
  }
}

const NodeOutlook& Cycle::Outlook(int node) const {
  static const NodeOutlook kNone;
  auto it = outlooks_.find(node);
  return it == outlooks_.end() ? kNone : it->second;
}

void Cycle::AddSkip(std::string subject, std::string rule, std::string reason) {
  if (!skipped_.emplace(subject, rule, reason).second) return;
  plan_.skips.push_back({std::move(subject), std::move(rule), std::move(reason)});
}

bool Cycle::HasActionSlot(const std::string& subject, int needed) {
  if (actions_left_ >= needed) return true;
  const std::string limit = "actions per cycle " + std::to_string(actions_per_cycle_) +
                            (policy_.limits.max_actions_per_cycle > 0 ? " (max_actions_per_cycle)" : " (scaled)");
  AddSkip(subject, "limits",
          actions_left_ > 0
              ? limit + ": " + std::to_string(actions_left_) + " left, " + std::to_string(needed) + " needed"
              : limit + " reached");
  return false;
}

std::string Cycle::BytesLimitText() const {
  return "bytes per minute " + model::FormatBytes(bytes_per_minute_) + " reached (" +
         model::FormatBytes(model::SatSub(bytes_per_minute_, bytes_left_)) + " moved or planned in the last 60 s)";
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
  const double room = AsDouble(node.available_bytes) + Freed(node.id) - Drawn(node.id) - AsDouble(band.release_above);
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
