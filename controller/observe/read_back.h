// HostReadBack: model::ReadBack over this host's /proc and /sys, for the actuators' checks
// and read-backs (fragmentation after compaction, pool size after a resize, where a QEMU
// process's memory sits before and after a move, KSM's knobs after a change). Reads are fresh, never cached.
// Not thread-safe (the control loop is the one caller). Throws only std::bad_alloc.
#pragma once

#include "controller/model/read_back.h"
#include "host/procfs/root.h"
#include "host/virt/placement.h"

namespace kvmem::observe {

class HostReadBack final : public model::ReadBack {
 public:
  explicit HostReadBack(procfs::Root root) : root_(root), reader_(std::move(root)) {}

  std::optional<double> FragmentationIndex(int node) override;
  Result<uint64_t> PoolPages(int node, uint64_t page_bytes) override;
  Result<model::NodeBytes> ResidentBytesPerNode(int pid) override;
  std::optional<int> QemuPid(const std::string& uuid) override;
  Result<CommandLineUuid> QemuUuid(int pid) override;
  Result<uint64_t> CgroupMemoryBytes(const std::string& dir) override;
  Result<model::KsmSettings> KsmKnobs() override;

 private:
  procfs::Root root_;
  virt::PlacementReader reader_;  // finds a VM's QEMU process
};

}  // namespace kvmem::observe
