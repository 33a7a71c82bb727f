// Plant: the simulated host that controllers act on. It owns the memory ledger (which node
// holds which VM's bytes), the guests' demand and OOM state, delayed actuation and the guest
// statistics with their own period and outages, and turns its state into the same
// model::Observation the daemon builds from /proc and libvirt.
//
// Memory model (docs/simulator.md):
//   node free = node total - host usage - the bytes of every VM resident on the node;
//   a VM's bytes = its balloon + its plugged virtio-mem, split over nodes by its residency
//   (virtio-mem on the device's node) in whole bytes, so nothing is lost to rounding;
//   guest memory = balloon + plugged virtio-mem; usable = memory - demand; OOM = demand > memory
//   (the guest survives with its demand capped at its memory).
// A balloon target or virtio-mem size takes effect `delay` after it is submitted; until then
// the memory stays where it was. Free memory may go negative: the host is then overcommitted.
// KSM and compressed memory (bench/sim/density.cpp, when the scenario has `ksm` / `offload`)
// save host memory without moving it: node free = ... + the bytes they save on the node.
// KSM knobs and memory.reclaim take effect when submitted (sysfs and cgroup writes are synchronous).
// Not thread-safe. Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/sim/scenario.h"
#include "controller/model/action.h"
#include "controller/model/observation.h"

namespace kvmem::sim {

struct NodeState {
  int id = 0;
  uint64_t total = 0;
  uint64_t host = 0;   // host usage now
  int64_t free = 0;    // ledger: total - host - resident VM bytes + saved
  uint64_t saved = 0;  // bytes KSM and compressed memory save on this node now
};

struct GuestStats {
  uint64_t available = 0;  // guest MemTotal
  uint64_t usable = 0;
  uint64_t unused = 0;
  Duration time{0};
};

struct VmState {
  const VmSpec* spec = nullptr;
  std::string uuid;
  uint64_t balloon = 0;
  uint64_t vmem_requested = 0;
  uint64_t vmem_plugged = 0;
  std::vector<uint64_t> resident;           // bytes per node, by node index
  double demand = 0;                        // what the workload wants now (the trace)
  bool oom = false;                         // demand > memory right now
  uint64_t oom_events = 0;                  // times demand rose above memory
  std::optional<GuestStats> stats;          // as last reported (may be stale or, in an outage, gone)
  std::optional<uint64_t> pending_balloon;  // submitted, not yet in effect
  Duration pending_balloon_due{0};
  std::optional<uint64_t> pending_vmem;
  Duration pending_vmem_due{0};
  Duration next_stats{0};
  // Density (bench/sim/density.cpp): pages of this VM merged by KSM, bytes (uncompressed) of
  // its cold and warm memory in zswap, and its cgroup's cumulative refaults and memory stall.
  double merged_pages = 0;
  double offloaded_cold = 0;
  double offloaded_warm = 0;
  double refault_pages = 0;
  double psi_some_seconds = 0;

  uint64_t Memory() const { return balloon + vmem_plugged; }
  double Offloaded() const { return offloaded_cold + offloaded_warm; }
};

// KSM's host-wide state: the knobs, and what ksmd has done so far.
struct KsmState {
  model::KsmSettings knobs;
  double pages_scanned = 0;  // cumulative
  double cpu_seconds = 0;    // ksmd's, cumulative
  double full_scans = 0;     // passes over all mergeable pages (fractional while one is under way)
  double rmap_items = 0;     // pages ksmd tracks (64 bytes each: general_profit subtracts them)
};

class Plant {
 public:
  explicit Plant(const Scenario& scenario);

  // Moves the world to `now` (non-decreasing): host usage and demand follow their traces,
  // actuations that are due take effect, guest statistics that are due are refreshed.
  void Advance(Duration now);
  // What a controller sees at `now`: node available and free (never below 0), balloon sizes as
  // in effect, guest statistics as last reported, residency from the ledger.
  model::Observation Observe() const;
  // Schedules the action's effect at `due`. A newer target for the same VM (or device) replaces
  // a pending one. Compaction has no effect here. Returns false for an unknown VM.
  bool Submit(const model::Action& action, Duration due);

  Duration now() const { return now_; }
  const std::vector<NodeState>& nodes() const { return nodes_; }
  const std::vector<VmState>& vms() const { return vms_; }
  const Scenario& scenario() const { return scenario_; }
  // Bytes of all VMs on node index n.
  uint64_t Resident(size_t n) const;
  const KsmState& ksm() const { return ksm_; }
  // Bytes a VM's memory is saved now: by KSM (its merged pages, less the one copy its image's
  // VMs keep between them) and by compressed offload (offloaded less its compressed size).
  double KsmSavedBytes(const VmState& vm) const;
  double OffloadSavedBytes(const VmState& vm) const;

 private:
  void Place(VmState& vm);  // recomputes vm.resident from its memory and moves the difference
  void UpdateDemand(VmState& vm);
  void RefreshStats(VmState& vm);
  // Density (density.cpp): advance KSM and offload by dt, then move node free by the saving.
  void AdvanceDensity(Duration dt);
  void AdvanceKsm(double seconds);
  void AdvanceOffload(double seconds);
  void UpdateSaved();
  bool SubmitDensity(const model::Action& action);
  void ObserveDensity(model::Observation& obs) const;
  double MergeablePages() const;
  size_t ImagePeers(const VmState& vm) const;  // mergeable VMs of vm's image, itself included

  const Scenario& scenario_;
  Duration now_{0};
  std::vector<NodeState> nodes_;
  std::vector<VmState> vms_;
  KsmState ksm_;
};

}  // namespace kvmem::sim
