// Per-VM cgroup metrics, part of the libvirt collector: each VM's memory cgroup as its QEMU
// process shows it (virt::Placement::cgroup): memory PSI, anon and file bytes, swap and zswap
// bytes and refaults. A VM whose QEMU sits in the root cgroup or in one it shares with another
// VM's QEMU gets none of these series (the cgroup is not the VM's), with one log line per VM
// and reason. Not thread-safe (the collector's one scrape at a time); throws only std::bad_alloc.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/metrics/sink.h"
#include "host/virt/types.h"

namespace kvmem::collectors {

std::vector<const FamilyDesc*> DomainCgroupFamilies();

// `logged` remembers "uuid\nreason" already logged.
void AddDomainCgroups(MetricSink& out, const std::vector<virt::DomainSample>& domains, std::set<std::string>& logged);

}  // namespace kvmem::collectors
