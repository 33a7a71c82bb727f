// Observe: turns /proc, /sys and a libvirt snapshot into one model::Observation, using the
// exporter's own parsers and libvirt source (no HTTP in between).
// ObserveHost does file I/O; VmsFromSnapshot is pure. Thread-compatible; never throws except
// std::bad_alloc.
#pragma once

#include <chrono>
#include <vector>

#include "common/result.h"
#include "controller/model/observation.h"
#include "exporter/procfs/root.h"
#include "exporter/virt/types.h"

namespace kvmem::observe {

// Nodes (hugepage-aware available, free, fragmentation for the THP order), PSI and the THP
// fault-fallback counter. Fails when the node list or any node's meminfo cannot be read:
// the controller then skips the cycle rather than deciding on partial host data.
Result<model::Observation> ObserveHost(const procfs::Root& root, model::TimePoint now);

// VMs from a libvirt snapshot. Domains are marked not running (never acted on) when the
// snapshot is not fresh (`up` false) or the domain's own sample is older than `max_age`.
// Guest stats times (wall clock) are converted to `now` on the steady clock.
std::vector<model::VmObservation> VmsFromSnapshot(const virt::Snapshot& snapshot,
                                                  model::TimePoint now,
                                                  std::chrono::system_clock::time_point wall_now,
                                                  std::chrono::milliseconds max_age);

}  // namespace kvmem::observe
