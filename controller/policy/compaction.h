// Compaction scheduling: compact a node whose free memory is too fragmented for huge pages,
// but only while the host is quiet, one node at a time, with a per-node cooldown that doubles
// after every run that did not lower the fragmentation index.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

// Triggers per node: the fragmentation index stayed above compact_above for `for`; or the
// host's THP fault-fallback rate over `for` exceeds thp_fallback_rate_above and no huge page is
// free on the node. Gates: PSI some avg10 known and below quiet_below; no compaction running;
// the node's (backed-off) cooldown over. Of the nodes left, the most fragmented one wins.
void PlanCompaction(Cycle& cycle);

// Why the node may not be compacted now ("cooldown 40 s left", "not quiet: ...", "compaction
// of node 1 still running"), or "" when it may. The hugepage pool manager uses the same gates
// before compacting a node it is about to reserve on.
std::string CompactionGate(const Cycle& cycle, const model::NodeObservation& node);

}  // namespace kvmem::policy
