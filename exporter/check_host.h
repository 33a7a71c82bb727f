// kvmem_exporter --check-host: the host configuration checks once, as a report on stdout.
#pragma once

#include "exporter/flags.h"

namespace kvmem::exporter {

// Samples the host (NUMA hint faults twice, one second apart) and, unless the libvirt collector
// is off or --libvirt.uri is empty, asks libvirt once for the VMs. Returns the exit code:
// 0 when no critical check fails, checks::kExitCritical otherwise.
int CheckHost(const Config& cfg);

}  // namespace kvmem::exporter
