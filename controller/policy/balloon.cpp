// balloon.reclaim and balloon.release (balloon.rebalance is rebalance.cpp).
#include "controller/policy/balloon.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/balloon_candidates.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {

bool NeediestFirst(const BalloonCandidate& a, const BalloonCandidate& b) {
  if (a.vm->priority != b.vm->priority) return a.vm->priority > b.vm->priority;  // gets first
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.pressure.swap_in_rate != b.pressure.swap_in_rate) return a.pressure.swap_in_rate > b.pressure.swap_in_rate;
  return a.vm->uuid < b.vm->uuid;
}

uint64_t GrowRoom(const Cycle& c, const model::VmObservation& vm) {
  uint64_t room = UINT64_MAX;
  for (const auto& n : c.obs().nodes) {
    const double share = NodeShare(vm, n.id, c.obs());
    if (share > 0) room = std::min(room, model::ToBytes(model::AsDouble(c.Headroom(n, false)) / share));
  }
  return room;
}

namespace {

using model::AsDouble;
using model::FormatBytes;
using model::kMiB;

constexpr const char* kReclaim = "balloon.reclaim";
constexpr const char* kRelease = "balloon.release";

// The available memory reclaim plans against: what the trend says the node will have one
// reaction time from now, when that is lower than what it has (NodeOutlook).
uint64_t PlanningAvailable(const Cycle& c, const model::NodeObservation& n) {
  return std::min(n.available_bytes, c.Outlook(n.id).projected);
}

// Nodes in `band` (reclaim includes the nodes the trend takes below reclaim_below within one
// reaction time), in the order their need is most urgent.
std::vector<const model::NodeObservation*> NodesIn(const Cycle& c, model::Band band) {
  std::vector<const model::NodeObservation*> out;
  for (const auto& n : c.obs().nodes) {
    if (!n.has_memory || n.total_bytes == 0) continue;
    const bool early = band == model::Band::kReclaim && c.Outlook(n.id).early;
    if (early || BandOf(n, c.policy().balloon).band == band) out.push_back(&n);
  }
  auto ratio = [&](const model::NodeObservation* n) {
    return AsDouble(band == model::Band::kReclaim ? PlanningAvailable(c, *n) : n->available_bytes) /
           AsDouble(n->total_bytes);
  };
  std::stable_sort(out.begin(), out.end(), [&](auto* a, auto* b) {
    return band == model::Band::kReclaim ? ratio(a) < ratio(b) : ratio(a) > ratio(b);
  });
  return out;
}

// Why this VM cannot give memory now, or empty.
std::string ReclaimBlocker(Cycle& c, const BalloonCandidate& k, uint64_t floor) {
  const auto& vm = *k.vm;
  if (auto blind = BlindReason(vm, c.now(), c.policy().stale_after)) return *blind;
  if (k.pressure.under) return "under pressure: " + k.pressure.why;
  const auto cool = c.BalloonCooldownLeft(vm.uuid);
  if (cool > model::Duration{0}) return "cooldown " + model::FormatSeconds(cool) + " left";
  if (model::SatSub(vm.balloon_current_bytes, floor) < c.policy().balloon.min_step) {
    return "floor reached: current " + FormatBytes(vm.balloon_current_bytes) + ", floor " + FormatBytes(floor);
  }
  return {};
}

// What each VM can give on this node over time (above its floor; 0 when it cannot give at all):
// priority makes a VM give only what the lower-priority ones never can, even if they are in
// cooldown now or giving already.
std::vector<double> RoomOverTime(const Cycle& c, const std::vector<BalloonCandidate>& cands) {
  std::vector<double> room(cands.size(), 0.0);
  for (size_t i = 0; i < cands.size(); ++i) {
    const auto& vm = *cands[i].vm;
    if (BlindReason(vm, c.now(), c.policy().stale_after) || cands[i].pressure.under) continue;
    room[i] = AsDouble(model::SatSub(vm.balloon_current_bytes, Floor(vm, c.policy().balloon))) * cands[i].share;
  }
  return room;
}

void ReclaimNode(Cycle& c, const model::NodeObservation& node) {
  const auto& policy = c.policy().balloon;
  const NodeBand band = BandOf(node, policy);
  std::vector<BalloonCandidate> cands;
  for (const auto& vm : c.obs().vms) {
    const double share = NodeShare(vm, node.id, c.obs());
    if (!vm.running || share <= 0 || c.Touched(vm.uuid)) continue;
    const double usable = AsDouble(vm.guest_usable_bytes.value_or(0)) * share;
    cands.push_back({&vm, share, usable, PressureAt(c.window(), c.window().LatestIndex(), vm.uuid, policy.pressure)});
  }
  // The lowest priority gives first; among equals, the VM with the most usable memory here.
  std::stable_sort(cands.begin(), cands.end(), [](const BalloonCandidate& a, const BalloonCandidate& b) {
    if (a.vm->priority != b.vm->priority) return a.vm->priority < b.vm->priority;
    return a.rank != b.rank ? a.rank > b.rank : a.vm->uuid < b.vm->uuid;
  });

  const NodeOutlook& outlook = c.Outlook(node.id);
  const uint64_t available = PlanningAvailable(c, node);
  const std::string head =
      "node " + std::to_string(node.id) + " available " + FormatBytes(node.available_bytes) +
      (outlook.early ? ", falling " + FormatBytes(model::ToBytes(-*outlook.slope * 60)) +
                           "/min: " + FormatBytes(available) + " in " + model::FormatSeconds(outlook.horizon)
                     : std::string()) +
      " < reclaim_below " + DescribeThreshold(policy.reclaim_below, band.reclaim_below);
  std::vector<double> later = RoomOverTime(c, cands);
  for (size_t i = 0; i < cands.size(); ++i) {
    const BalloonCandidate& k = cands[i];
    const auto& vm = *k.vm;
    const double need = AsDouble(band.middle) - AsDouble(available) - c.Freed(node.id);
    if (need <= 0) return;
    double lower = 0;
    for (size_t j = 0; j < i; ++j) lower += cands[j].vm->priority < vm.priority ? later[j] : 0.0;
    if (lower >= need) {
      c.AddSkip(VmSubject(vm), kReclaim,
                "priority " + std::to_string(vm.priority) + ": VMs of lower priority can still give " +
                    FormatBytes(model::ToBytes(lower)) + " here");
      continue;
    }
    const uint64_t floor = Floor(vm, policy);
    if (auto blocker = ReclaimBlocker(c, k, floor); !blocker.empty()) {
      c.AddSkip(VmSubject(vm), kReclaim, blocker);
      continue;
    }
    if (!c.HasActionSlot(VmSubject(vm))) return;
    const uint64_t want = model::AlignUp(model::ToBytesCeil(need / k.share), kMiB);
    const uint64_t room = model::SatSub(vm.balloon_current_bytes, floor);
    const uint64_t d = model::AlignDown(std::min({want, policy.max_step, room, c.BytesLeft()}), kMiB);
    if (d < policy.min_step) {
      if (c.BytesLeft() < policy.min_step) c.AddSkip(VmSubject(vm), "limits", c.BytesLimitText());
      return;  // otherwise what is still needed is below min_step: not worth a change
    }
    model::SetBalloon a{
        RefOf(vm), vm.balloon_current_bytes, vm.balloon_current_bytes - d, {}, vm.VirtioMemPluggedBytes()};
    a.reason = {kReclaim,
                "balloon.reclaim_below",
                AsDouble(band.reclaim_below),
                {{"available_bytes", AsDouble(node.available_bytes)},
                 {"projected_available_bytes", AsDouble(available)},
                 {"target_bytes", AsDouble(band.middle)},
                 {"guest_usable_bytes", AsDouble(vm.guest_usable_bytes.value_or(0))},
                 {"floor_bytes", AsDouble(floor)},
                 {"node_share", k.share}},
                head + "; vm " + vm.name + " usable " + FormatBytes(vm.guest_usable_bytes.value_or(0)) + ", floor " +
                    FormatBytes(floor) + ", step " + FormatBytes(d)};
    later[i] = std::max(0.0, later[i] - AsDouble(d) * k.share);
    c.Add(std::move(a));
  }
  const double short_by = AsDouble(band.middle) - AsDouble(available) - c.Freed(node.id);
  if (short_by >= AsDouble(policy.min_step)) {
    c.AddSkip(NodeSubject(node.id), kReclaim,
              FormatBytes(short_by) + " short of the band middle " + FormatBytes(band.middle) +
                  " after this cycle; no other VM can give now");
  }
}

void ReleaseNode(Cycle& c, const model::NodeObservation& node) {
  const auto& policy = c.policy().balloon;
  const NodeBand band = BandOf(node, policy);
  std::vector<BalloonCandidate> cands;
  for (const auto& vm : c.obs().vms) {
    const double share = NodeShare(vm, node.id, c.obs());
    if (!vm.running || share <= 0 || c.Touched(vm.uuid)) continue;
    Pressure p = PressureAt(c.window(), c.window().LatestIndex(), vm.uuid, policy.pressure);
    if (!p.under) continue;
    if (model::SatAdd(vm.balloon_current_bytes, policy.min_step) > vm.balloon_maximum_bytes) {
      c.AddSkip(VmSubject(vm), kRelease,
                "under pressure (" + p.why + ") but at balloon maximum " + FormatBytes(vm.balloon_maximum_bytes));
      continue;
    }
    cands.push_back({&vm, share, p.usable_ratio, p});
  }
  std::stable_sort(cands.begin(), cands.end(), NeediestFirst);
  for (const BalloonCandidate& k : cands) {
    const auto& vm = *k.vm;
    const auto cool = c.BalloonCooldownLeft(vm.uuid);
    if (cool > model::Duration{0}) {
      c.AddSkip(VmSubject(vm), kRelease, "cooldown " + model::FormatSeconds(cool) + " left");
      continue;
    }
    if (!c.HasActionSlot(VmSubject(vm))) return;
    const uint64_t to_max = model::SatSub(vm.balloon_maximum_bytes, vm.balloon_current_bytes);
    const uint64_t room = GrowRoom(c, vm);
    const uint64_t g = model::AlignDown(std::min({policy.max_step, to_max, room, c.BytesLeft()}), kMiB);
    if (g < policy.min_step) {
      if (c.BytesLeft() < policy.min_step) {
        c.AddSkip(VmSubject(vm), "limits", c.BytesLimitText());
        return;
      }
      c.AddSkip(VmSubject(vm), kRelease,
                "under pressure (" + k.pressure.why + ") but its nodes have no headroom above release_above");
      continue;
    }
    model::SetBalloon a{
        RefOf(vm), vm.balloon_current_bytes, vm.balloon_current_bytes + g, {}, vm.VirtioMemPluggedBytes()};
    a.reason = {kRelease,
                "balloon.release_above",
                AsDouble(band.release_above),
                {{"available_bytes", AsDouble(node.available_bytes)},
                 {"guest_usable_ratio", k.pressure.usable_ratio},
                 {"swap_in_bytes_per_second", k.pressure.swap_in_rate},
                 {"major_faults_per_second", k.pressure.major_fault_rate}},
                "node " + std::to_string(node.id) + " available " + FormatBytes(node.available_bytes) +
                    " > release_above " + DescribeThreshold(policy.release_above, band.release_above) + "; vm " +
                    vm.name + " " + k.pressure.why + ", maximum " + FormatBytes(vm.balloon_maximum_bytes) + ", step " +
                    FormatBytes(g)};
    c.Add(std::move(a));
  }
}

}  // namespace

void PlanReclaim(Cycle& c) {
  if (!c.policy().balloon.enabled) return;
  for (const auto* node : NodesIn(c, model::Band::kReclaim)) ReclaimNode(c, *node);
}

void PlanRelease(Cycle& c) {
  if (!c.policy().balloon.enabled) return;
  for (const auto* node : NodesIn(c, model::Band::kRelease)) ReleaseNode(c, *node);
  // A VM under pressure that no node can help is the operator's business: say so.
  for (const auto& vm : c.obs().vms) {
    if (!vm.running || c.Touched(vm.uuid)) continue;
    bool on_release_node = false;
    for (const auto& n : c.obs().nodes) {
      on_release_node = on_release_node || (NodeShare(vm, n.id, c.obs()) > 0 && n.total_bytes > 0 &&
                                            BandOf(n, c.policy().balloon).band == model::Band::kRelease);
    }
    if (on_release_node) continue;
    const Pressure p = PressureAt(c.window(), c.window().LatestIndex(), vm.uuid, c.policy().balloon.pressure);
    if (p.under) {
      c.AddSkip(VmSubject(vm), kRelease,
                "under pressure (" + p.why + ") but no node it sits on is above release_above");
    }
  }
}

}  // namespace kvmem::policy
