// Decide: bands, then the rules in priority order over one shared Cycle.
#include "controller/policy/decide.h"

#include "controller/model/units.h"
#include "controller/policy/balloon.h"
#include "controller/policy/compaction.h"
#include "controller/policy/cycle.h"
#include "controller/policy/hugepages.h"
#include "controller/policy/judgements.h"
#include "controller/policy/ksm.h"
#include "controller/policy/ladder.h"
#include "controller/policy/offload.h"
#include "controller/policy/placement.h"
#include "controller/policy/rebalance.h"
#include "controller/policy/virtio_mem.h"

namespace kvmem::policy {
namespace {

void RecordBands(Cycle& c, model::Plan& plan) {
  const auto& balloon = c.policy().balloon;
  for (const auto& node : c.obs().nodes) {
    if (!node.has_memory || node.total_bytes == 0) continue;
    const NodeBand b = BandOf(node, balloon);
    const bool early = c.Outlook(node.id).early && balloon.enabled;
    plan.bands[node.id] = early ? model::Band::kReclaim : b.band;
    if (b.band == model::Band::kSteady && balloon.enabled && !early) {
      c.AddSkip(NodeSubject(node.id), "balloon.reclaim",
                "dead band: available " + model::FormatBytes(node.available_bytes) + " within [" +
                    DescribeThreshold(balloon.reclaim_below, b.reclaim_below) + ", " +
                    DescribeThreshold(balloon.release_above, b.release_above) + "]");
    }
  }
}

}  // namespace

model::Plan Decide(const Window& window, const ControllerState& state, const model::Policy& policy) {
  model::Plan plan;
  if (window.empty()) {
    plan.skips.push_back({"host", "limits", "no observation yet"});
    return plan;
  }
  Cycle cycle(window, state, policy, plan);
  plan.actions_per_cycle = ActionsPerCycle(policy, window.Latest());
  plan.bytes_per_minute = BytesPerMinute(policy, window.Latest());
  RecordBands(cycle, plan);
  RecordStages(cycle, plan);
  PlanKsm(cycle);  // the ladder's cheapest lever first
  PlanReclaim(cycle);
  PlanRelease(cycle);
  PlanRebalance(cycle);
  PlanVirtioMemGrow(cycle);
  PlanVirtioMemShrink(cycle);
  PlanOffload(cycle);
  PlanHugepages(cycle);
  PlanCompaction(cycle);
  PlanPlacement(cycle);
  StampStages(plan, window.Latest());
  return plan;
}

}  // namespace kvmem::policy
