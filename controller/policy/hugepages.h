// The hugepage pool manager: per node and page size, keep enough free pages for the
// hugepage-backed VMs that are about to start, and give back what nobody needs.
//
//   demand    pages of VMs that are shut off and set to autostart, pinned to the node by
//             their <numatune> (unpinned demand cannot be reserved on a node: it is a skip);
//   headroom  hugepages.headroom, on pools a hugepage-backed VM uses and on the default size;
//   usable    free pages minus the host-wide pages reserved by mappings (the kernel does not
//             say on which node those are, so every node counts them).
//
// hugepages.grow: usable < demand + headroom. Raise the pool by the shortfall, at most
// max_step per cycle and never so far that the node's memory outside all pools drops below
// min_normal_memory. When the node is fragmented for the page's order (index above
// compaction.compact_above, pages below 1 GiB) and the compaction gates allow it, compact
// the node first, in the same cycle. After a resize that fell short, wait retry_after.
// hugepages.reclaim (only with hugepages.reclaim: true): usable > demand + headroom for
// reclaim_after. Release the excess, at most max_step; pages in use are never released.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

void PlanHugepages(Cycle& cycle);

}  // namespace kvmem::policy
