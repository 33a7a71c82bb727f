// virtio-mem sizing: grow a VM that sits at its balloon maximum and stays under pressure;
// shrink one whose guest leaves much memory unused for long. One change per device at a time.
// Thread-safe (pure; state lives in the Cycle passed in). Throws only std::bad_alloc.
#pragma once

#include "controller/policy/cycle.h"

namespace kvmem::policy {

// A running VM at its balloon maximum (within one block), under pressure for `sustain`
// consecutive observations since its last resize: requested += step (block-aligned, at least
// one block), bounded by the device size and by the headroom of the device's host node (its
// free memory, and what it has above release_above).
void PlanVirtioMemGrow(Cycle& cycle);

// A running VM with fresh stats whose guest unused / available ratio stayed above
// shrink_unused_above_ratio for shrink_after since its last resize: requested -= step
// (block-aligned), never below 0 nor the VM's floor.
void PlanVirtioMemShrink(Cycle& cycle);

}  // namespace kvmem::policy
