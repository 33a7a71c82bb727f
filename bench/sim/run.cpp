// The run loop, actuation delays and the safe-allocation check.
#include "bench/sim/run.h"

#include <algorithm>
#include <cmath>

#include "controller/model/units.h"

namespace kvmem::sim {

Duration ActuationDelay(const Scenario& sc, uint64_t n) {
  const double span = static_cast<double>((sc.delay_max - sc.delay_min).count());
  const Duration d = sc.delay_min + Duration{static_cast<int64_t>(Uniform(SeedFor(sc.seed, "delay"), n) * span)};
  const int64_t ticks = std::max<int64_t>(1, (d.count() + sc.tick.count() - 1) / sc.tick.count());
  return sc.tick * ticks;
}

Metrics Run(const Scenario& sc, Controller& controller, const RunOptions& options) {
  Plant plant(sc);
  Recorder recorder(sc);
  uint64_t submitted = 0;
  // Half a period in: a disturbance on a whole second then waits period / 2 for its first
  // look, what it waits on average when controller and disturbance are out of phase.
  Duration next_cycle = controller.Period() / 2, next_csv{0};
  if (options.csv != nullptr) {
    *options.csv << "t";
    for (const auto& n : plant.nodes()) *options.csv << ",node" << n.id << "_free_gib";
    for (const auto& vm : plant.vms())
      *options.csv << "," << vm.spec->name << "_mem_gib," << vm.spec->name << "_demand_gib";
    if (sc.ksm || sc.offload) *options.csv << ",ksm_saved_gib,offload_saved_gib,ksmd_cpu_seconds";
    *options.csv << "\n";
  }
  for (Duration t{0}; t < sc.duration; t += sc.tick) {
    plant.Advance(t);
    if (t >= next_cycle) {
      for (const auto& action : controller.Cycle(plant.Observe())) {
        plant.Submit(action, t + ActuationDelay(sc, submitted++));
        recorder.Action(t, action);
        if (options.actions != nullptr) {
          *options.actions << model::FormatSeconds(t) << " " << model::ToString(action) << "\n";
        }
      }
      next_cycle += controller.Period();
    }
    recorder.Sample(plant, sc.tick);
    if (options.csv != nullptr && t >= next_csv) {
      constexpr double kG = static_cast<double>(model::kGiB);
      *options.csv << model::Seconds(t);
      for (const auto& n : plant.nodes()) *options.csv << "," << static_cast<double>(n.free) / kG;
      for (const auto& vm : plant.vms())
        *options.csv << "," << model::AsDouble(vm.Memory()) / kG << "," << vm.demand / kG;
      if (sc.ksm || sc.offload) {
        double ksm = 0, offload = 0;
        for (const auto& vm : plant.vms()) {
          ksm += plant.KsmSavedBytes(vm);
          offload += plant.OffloadSavedBytes(vm);
        }
        *options.csv << "," << ksm / kG << "," << offload / kG << "," << plant.ksm().cpu_seconds;
      }
      *options.csv << "\n";
      next_csv += options.csv_every;
    }
  }
  return recorder.Finish(controller.Name());
}

bool SafeAllocationExists(const Scenario& sc) {
  const size_t nodes = sc.nodes.size();
  for (Duration t{0}; t < sc.duration; t += std::chrono::seconds{1}) {
    std::vector<double> need(nodes, 0.0);
    for (size_t i = 0; i < nodes; ++i)
      need[i] = sc.nodes[i].host.At(t) + sc.band_low * model::AsDouble(sc.nodes[i].total);
    for (const auto& vm : sc.vms) {
      const uint64_t vmem = vm.virtio_mem ? vm.virtio_mem->size : 0;
      const double demand = vm.demand.At(t);
      if (demand > model::AsDouble(vm.max + vmem)) return false;
      const double want = std::max(demand, model::AsDouble(vm.min));
      double sum = 0;
      for (const auto& [node, w] : vm.residency) sum += w;
      for (size_t i = 0; i < nodes; ++i) {
        const auto it = vm.residency.find(static_cast<int>(i));
        const double share =
            sum <= 0 ? 1.0 / static_cast<double>(nodes) : (it == vm.residency.end() ? 0 : it->second / sum);
        need[i] += want * share;
      }
    }
    for (size_t i = 0; i < nodes; ++i) {
      if (need[i] > model::AsDouble(sc.nodes[i].total)) return false;
    }
  }
  return true;
}

}  // namespace kvmem::sim
