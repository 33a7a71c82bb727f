// The reclaim ladder: per node, which levers a shortage calls for, cheapest first
// (model::Stage). KSM costs only ksmd's CPU, the balloon takes what idle VMs do not use,
// compressed offload costs the VMs refaults, and disk swap costs them far more.
// Thread-safe (pure). Throws only std::bad_alloc.
#pragma once

#include <cstdint>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/policy/cycle.h"

namespace kvmem::policy {

// What the balloon could still take from the VMs on `node`: per running VM with fresh stats,
// (balloon current - floor) times the VM's share of the node, summed.
uint64_t BalloonRoom(const Cycle& c, const model::NodeObservation& node);

// The node's stage:
//   calm     available >= ksm.merge_below (or KSM control off and not in the reclaim band)
//   ksm      available < ksm.merge_below, not in the reclaim band (nor heading there early)
//   balloon  in the reclaim band (or heading there) and the balloon can still take min_step
//   offload  as balloon, but the balloon has nothing left and swap is compressed
//   swap     as offload, onto disk swap, only with offload.allow_disk_swap
// A node whose shortage has no deeper lever stays at the deepest one it has.
model::Stage NodeStage(const Cycle& c, const model::NodeObservation& node);

// Fills plan.stages for every node with memory.
void RecordStages(Cycle& c, model::Plan& plan);

// Sets Reason::stage on each ladder lever (balloon, ksm, offload) in the plan that has none:
// the deepest stage among the nodes the VM's memory sits on (every node for KSM).
void StampStages(model::Plan& plan, const model::Observation& obs);

}  // namespace kvmem::policy
