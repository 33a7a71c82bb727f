// The reclaim ladder's stages.
#include "controller/policy/ladder.h"

#include <algorithm>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

bool IsLadderLever(const model::Action& a) {
  return std::holds_alternative<model::SetBalloon>(a) || std::holds_alternative<model::SetKsm>(a) ||
         std::holds_alternative<model::ReclaimVmMemory>(a);
}

const model::VmRef* VmOf(const model::Action& a) {
  if (const auto* b = std::get_if<model::SetBalloon>(&a)) return &b->vm;
  if (const auto* r = std::get_if<model::ReclaimVmMemory>(&a)) return &r->vm;
  return nullptr;
}

}  // namespace

uint64_t BalloonRoom(const Cycle& c, const model::NodeObservation& node) {
  double room = 0;
  for (const auto& vm : c.obs().vms) {
    if (!vm.running || BlindReason(vm, c.now(), c.policy().stale_after)) continue;
    const double share = model::NodeShare(vm, node.id, c.obs());
    room += model::AsDouble(model::SatSub(vm.balloon_current_bytes, Floor(vm, c.policy().balloon))) * share;
  }
  return model::ToBytes(room);
}

model::Stage NodeStage(const Cycle& c, const model::NodeObservation& node) {
  const model::Policy& p = c.policy();
  const bool reclaim = BandOf(node, p.balloon).band == model::Band::kReclaim || c.Outlook(node.id).early;
  if (!reclaim) {
    const bool wanted = p.ksm.enabled && node.available_bytes < p.ksm.merge_below.Resolve(node.total_bytes);
    return wanted ? model::Stage::kKsm : model::Stage::kCalm;
  }
  if (p.balloon.enabled && BalloonRoom(c, node) >= p.balloon.min_step) return model::Stage::kBalloon;
  const auto& swap = c.obs().swap;
  if (!p.offload.enabled || !swap || swap->total_bytes == 0) return model::Stage::kBalloon;
  if (swap->Compressed()) return model::Stage::kOffload;
  return p.offload.allow_disk_swap ? model::Stage::kSwap : model::Stage::kBalloon;
}

void RecordStages(Cycle& c, model::Plan& plan) {
  for (const auto& node : c.obs().nodes) {
    if (!node.has_memory || node.total_bytes == 0) continue;
    plan.stages[node.id] = NodeStage(c, node);
  }
}

void StampStages(model::Plan& plan, const model::Observation& obs) {
  auto deepest = [&](const model::VmObservation* vm) {
    model::Stage s = model::Stage::kCalm;
    for (const auto& [node, stage] : plan.stages) {
      if (vm == nullptr || model::NodeShare(*vm, node, obs) > 0) s = std::max(s, stage);
    }
    return s;
  };
  for (auto& a : plan.actions) {
    if (!IsLadderLever(a)) continue;
    model::Reason& r = std::visit([](auto& x) -> model::Reason& { return x.reason; }, a);
    if (r.stage) continue;
    const model::VmRef* ref = VmOf(a);
    r.stage = deepest(ref ? obs.FindVm(ref->uuid) : nullptr);
  }
}

}  // namespace kvmem::policy
