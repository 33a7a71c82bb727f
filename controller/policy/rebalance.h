// balloon.rebalance: memory moved between VMs on nodes in the dead band, where neither reclaim
// nor release acts. The donor and recipient drafting lives in rebalance.cpp.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

// Every VM under pressure that release could not grow because its nodes have no headroom above
// release_above (neediest first, as release), below its balloon maximum, and on no node in
// reclaim (reclaim comes first): shrink donors and grow it by the sum, in the same plan, shrinks
// first, so that no node's total changes (a node's own headroom above release_above, if any,
// covers its part first). Donors are running VMs on the same nodes, not under pressure, with
// fresh stats, out of cooldown, the most usable memory (weighted by their share there) first.
// A donor keeps its floor and max(min_free_ratio, usable_below_ratio) of its balloon usable; the
// recipient grows to that same usable share (max_step when its pressure is swap-in or major
// faults), by at most max_step and to its maximum. Needs two action slots and twice its bytes.
void PlanRebalance(Cycle& cycle);

}  // namespace kvmem::policy
