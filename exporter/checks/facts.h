// Gathering HostFacts for the host checks: the host's part from /proc and /sys under a Root,
// the VMs' part from a libvirt snapshot. DomainBoard hands the libvirt collector's latest VMs to
// the host_check collector in the same scrape, so libvirt is asked once.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "exporter/checks/host_check.h"
#include "host/procfs/root.h"
#include "host/virt/types.h"

namespace kvmem::checks {

// Everything but the VMs and the hint-fault rate. Reads through ReadSmallFile, so inside a
// scrape's ReadScope the files other collectors read are not read again. Never throws beyond
// std::bad_alloc.
HostFacts GatherHostFacts(const procfs::Root& root);

// Cumulative numa_hint_faults from /proc/vmstat, for a rate between two samples.
std::optional<int64_t> ReadHintFaults(const procfs::Root& root);

std::vector<VmFacts> VmFactsOf(const virt::Snapshot& snap);

// Thread-safe.
class DomainBoard {
 public:
  void Publish(const virt::Snapshot& snap);
  std::optional<std::vector<VmFacts>> Vms() const;

 private:
  mutable std::mutex mu_;
  std::optional<std::vector<VmFacts>> vms_;
};

}  // namespace kvmem::checks
