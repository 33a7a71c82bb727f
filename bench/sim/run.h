// Run: one scenario, one controller, start to end on simulated time. Each tick the plant
// advances, the controller decides when its period is due, its actions are submitted with an
// actuation delay drawn from the scenario's range, and the recorder samples the plant.
// Deterministic: the same scenario, controller and policy always give the same metrics.
// Not thread-safe (one run at a time per controller). Throws only std::bad_alloc.
#pragma once

#include <ostream>

#include "bench/sim/controller.h"
#include "bench/sim/metrics.h"
#include "bench/sim/scenario.h"

namespace kvmem::sim {

struct RunOptions {
  std::ostream* csv = nullptr;  // when set: one line per csv_every of simulated time
  Duration csv_every{1000};
  std::ostream* actions = nullptr;  // when set: one line per action
};

Metrics Run(const Scenario& scenario, Controller& controller, const RunOptions& options = {});

// The actuation delay of the n-th action of a run: uniform in [delay_min, delay_max], rounded
// up to whole ticks (at least one), from the scenario seed.
Duration ActuationDelay(const Scenario& scenario, uint64_t n);

// True when, at every second, some static allocation keeps every guest at or above its demand
// (and minimum) and every node at or above band low, given the VMs' residency. Rate limits and
// delays are ignored: it says whether zero OOMs were possible at all.
bool SafeAllocationExists(const Scenario& scenario);

}  // namespace kvmem::sim
