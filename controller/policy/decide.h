// Decide: the controller's whole decision for one cycle, composed from the rules in priority
// order. Pure: no I/O and no clock (time is the latest observation's), and level-based: the
// same window, state and policy always give the same plan.
// Thread-safe (reads its arguments only). Throws only std::bad_alloc.
#pragma once

#include "controller/model/action.h"
#include "controller/model/policy.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::policy {

// Rules run in this order and share one budget (max_actions_per_cycle, max_bytes_per_minute,
// one action per VM), so under limits the earlier ones win:
//   1. balloon.reclaim      protect the host: nodes short of memory, most starved first
//   2. balloon.release      relieve guests under pressure on nodes with plenty
//   3. balloon.rebalance    relieve guests under pressure on nodes in the dead band, from
//                           idle neighbours on the same nodes (net zero per node)
//   4. virtio_mem.grow      relieve guests already at their balloon maximum
//   5. virtio_mem.shrink    return memory guests have left unused for long
//   6. compaction           keep huge pages allocatable, only on a quiet host
// Plan::bands holds every node's band and Plan::stages its reclaim ladder stage
// (policy/ladder.h); every ladder lever's reason names its stage. A node in the dead band gets
// a "dead band" skip.
// An empty window gives an empty plan with one skip.
model::Plan Decide(const Window& window, const ControllerState& state, const model::Policy& policy);

}  // namespace kvmem::policy
