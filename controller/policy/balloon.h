// Balloon rules: reclaim from VMs on nodes short of memory, release to VMs under pressure on
// nodes with plenty (rebalance, between VMs on nodes in the dead band, is rebalance.h).
// NUMA-aware: a VM counts against the nodes its memory sits on.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

// Every node whose available memory is below reclaim_below, most starved first: shrink the VMs
// with the most guest-usable memory on that node until the node would reach the middle of the
// band. Never a VM with stale or missing stats, under pressure, in cooldown, or at its floor;
// at most max_step per VM.
void PlanReclaim(Cycle& cycle);

// Every node above release_above: grow VMs under pressure (lowest usable ratio first, then
// highest swap-in rate) up to their balloon maximum, taking at most (available -
// release_above) from each node they sit on, so a release never pushes a node into reclaim.
void PlanRelease(Cycle& cycle);

}  // namespace kvmem::policy
