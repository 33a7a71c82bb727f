// NUMA placement: a running VM whose locality ratio (the share of its resident memory on nodes
// that run its vCPUs) has stayed below placement.locality_below for placement.for gets one of
//   placement.vcpus   pin its vCPUs to the node holding most of its memory: copies nothing;
//   placement.memory  migrate its memory to the node running most of its vCPUs: copies the
//                     bytes resident elsewhere, so it needs that much free memory there.
// The cheaper action that reaches locality_below wins: pinning when the memory's node holds
// at least locality_below of it, else migration when possible, else pinning when it still
// improves the ratio. Hugetlb-backed VMs never migrate (migrate_pages leaves hugetlb pages).
// Gates: the domain XML does not fix placement (a pin the controller set itself, remembered
// in its state, does not count; after a restart it does, and the VM is left alone), the VM's
// cooldown is over, the previous move
// has been paid for at max_bytes_per_second, and only one VM moves per cycle.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

void PlanPlacement(Cycle& cycle);

}  // namespace kvmem::policy
