// Observe: turns /proc, /sys and a libvirt snapshot into one model::Observation, using the
// exporter's own parsers and libvirt source (no HTTP in between).
// ObserveHost does file I/O; VmsFromSnapshot is pure. Thread-compatible; never throws except
// std::bad_alloc.
#pragma once

#include <chrono>
#include <vector>

#include "common/result.h"
#include "controller/model/observation.h"
#include "controller/observe/hugepage_demand.h"
#include "host/procfs/ksmd.h"
#include "host/procfs/root.h"
#include "host/virt/types.h"

namespace kvmem::observe {

// Nodes (hugepage-aware available, free, fragmentation for the THP order, hugepage pools of
// every size, whether the node has CPUs), PSI, the THP fault-fallback counter and the
// host-wide reserved hugepages per size. Fails when the node list or any node's meminfo or
// hugepage pools cannot be read: the controller then skips the cycle rather than deciding on
// partial host data. A node whose cpulist is missing or malformed counts as having CPUs.
// Also KSM (observe/ksm.h; ksmd's CPU through `ksmd`, none when null) and the online CPUs.
Result<model::Observation> ObserveHost(const procfs::Root& root, model::TimePoint now, procfs::KsmdCpu* ksmd = nullptr);

// /proc/meminfo Hugepagesize in bytes; kFallbackHugepageBytes when it cannot be read.
uint64_t DefaultHugepageBytes(const procfs::Root& root);

// VMs from a libvirt snapshot. Domains are marked not running (never acted on) when the
// snapshot is not fresh (`up` false) or the domain's own sample is older than `max_age`.
// Guest stats times (wall clock) are converted to `now` on the steady clock. Defined but
// shut-off domains (in snapshots taken with include_inactive) are `stopped`, with their
// autostart flag and hugepage demand; `default_hugepage_bytes` sizes <hugepages> without a
// <page> (pass DefaultHugepageBytes(root)).
std::vector<model::VmObservation> VmsFromSnapshot(const virt::Snapshot& snapshot, model::TimePoint now,
                                                  std::chrono::system_clock::time_point wall_now,
                                                  std::chrono::milliseconds max_age,
                                                  uint64_t default_hugepage_bytes = kFallbackHugepageBytes);

// The domain XML fixes placement: a <vcpupin>, an <emulatorpin>, a <vcpu cpuset>, or a
// strict <numatune> <memory> or <memnode> with a nodeset. Pins carrying kvmem_controller's own
// live metadata mark (kvmem_pinned_node) do not count: it set them, and may move them again.
bool PlacementFixed(const virt::DomainXml& xml);

}  // namespace kvmem::observe
