// KSM and the host's CPUs as the controller sees them: /sys/kernel/mm/ksm through the exporter's
// own reads, ksmd's CPU time through procfs::KsmdCpu, the page size, and the online CPUs.
// Thread-compatible (KsmdCpu itself is thread-safe); never throws except std::bad_alloc.
#pragma once

#include <optional>

#include "controller/model/observation.h"
#include "host/procfs/ksmd.h"
#include "host/procfs/root.h"

namespace kvmem::observe {

// Unset without /sys/kernel/mm/ksm (or when run, pages_to_scan or sleep_millisecs cannot be
// read). Counters a kernel lacks stay 0 (general_profit unset); ksmd_cpu_seconds_total is
// unset when `ksmd` is null or finds no ksmd thread.
std::optional<model::KsmObservation> ObserveKsm(const procfs::Root& root, procfs::KsmdCpu* ksmd);

// /sys/devices/system/cpu/online as a count; 0 when missing or malformed.
int OnlineCpus(const procfs::Root& root);

}  // namespace kvmem::observe
