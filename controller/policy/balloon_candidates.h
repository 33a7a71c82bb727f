// What balloon.release and balloon.rebalance share: the VM under pressure they rank, the order
// they serve such VMs in, and how far a VM's nodes let it grow without help from other VMs.
// Thread-safe (pure). Throws only std::bad_alloc.
#pragma once

#include <cstdint>

#include "controller/model/observation.h"
#include "controller/policy/cycle.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {

struct BalloonCandidate {
  const model::VmObservation* vm;
  double share;
  double rank;  // reclaim: usable bytes on this node; release: usable ratio
  Pressure pressure;
};

// Release and rebalance order: the highest priority first, then the lowest usable ratio, then
// the highest swap-in rate.
bool NeediestFirst(const BalloonCandidate& a, const BalloonCandidate& b);

// The most each node the VM sits on can give it, divided by the VM's share there.
uint64_t GrowRoom(const Cycle& c, const model::VmObservation& vm);

}  // namespace kvmem::policy
