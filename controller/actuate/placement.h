// Placement actuator: brings a VM's vCPUs and memory onto one NUMA node.
//   PinVcpus       virDomainPinVcpuFlags(VIR_DOMAIN_AFFECT_LIVE) for every live vCPU, then
//                  virDomainPinEmulator (live), to the CPUs of to_node, on the shared read-write
//                  libvirt connection. Drivers that refuse the LIVE flag on an active domain
//                  (the test driver accepts only 0) get virDomainPinVcpu, the live-only call.
//                  No memory moves. locality_after: the share of the QEMU process's resident
//                  memory on to_node (read back through ReadBack), when it can be found.
//   MigrateMemory  numa_migrate_pages(pid, every other node, {to_node}) (migrate_pages(2)),
//                  with resident bytes per node read back (ReadBack) before and after:
//                  bytes_migrated is the decrease on the other nodes, locality_after the share
//                  on to_node. A positive return (pages the kernel could not move: in use,
//                  locked, pinned by a device) is a failed outcome that still carries both.
//                  migrate_pages needs CAP_SYS_NICE to move another user's process (QEMU runs
//                  as libvirt-qemu: run the controller as root). It does not move hugetlb pages;
//                  the decision code never picks hugetlb-backed VMs.
// Node CPUs come from libnuma (numa_node_to_cpus on the live host) unless the options give
// another map; the ReadBack reads /proc/PID files, which must be the live /proc for page
// migration to be measured.
// Apply() never throws; not thread-safe (one caller, the control loop).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/actuate/actuator.h"
#include "controller/model/read_back.h"
#include "host/write/libvirt_writer.h"
#include "host/write/numa.h"

namespace kvmem::actuate {

// node -> its CPU ids, ascending; an empty list for a memory-only node.
using NodeCpusFn = std::function<Result<std::vector<int>>(int node)>;

struct PlacementOptions {
  model::ReadBack* read_back = nullptr;               // numa_maps, QEMU pids; must outlive the actuator
  hostwrite::LibvirtWriter* libvirt = nullptr;        // PinVcpus needs it; must outlive the actuator
  NodeCpusFn node_cpus = hostwrite::LibnumaNodeCpus;  // the test driver's host is not this host
  // MigrateMemory refuses a pid whose /proc/PID/cmdline does not carry "-uuid <the VM's uuid>":
  // the pid was observed a cycle ago and may have been reused.
  bool verify_qemu_uuid = true;
};

class PlacementActuator final : public Actuator {
 public:
  explicit PlacementActuator(PlacementOptions options) : opt_(std::move(options)) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  model::Outcome Pin(const model::PinVcpus& a);
  model::Outcome Migrate(const model::MigrateMemory& a);

  PlacementOptions opt_;
};

// The share of `bytes` on `node`; nullopt when nothing is resident. Pure.
std::optional<double> ShareOn(const model::NodeBytes& bytes, int node);
// Sum over nodes other than `to_node` of the decrease from `before` to `after` (a node that
// grew counts 0). Pure.
uint64_t BytesMovedOff(const model::NodeBytes& before, const model::NodeBytes& after, int to_node);

}  // namespace kvmem::actuate
