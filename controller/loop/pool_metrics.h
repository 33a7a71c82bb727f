// Metrics of the hugepage pool manager and of placement moves, kept apart from the loop's
// generic action metrics:
//   kvmem_controller_hugepage_pool_target_pages / _shortfall_pages / _demand_pages {node,size}
//   kvmem_controller_hugepage_pool_obtained_pages {node,size}: read back after the last resize
//   kvmem_controller_hugepage_reservation_failures_total {node,size,cause}
//   kvmem_controller_hugepage_compactions_total {node}: compactions run before a reservation
//   kvmem_controller_hugepage_pool_writes_total {method}: resizes written, libvirt or sysfs
//   kvmem_controller_placement_moves_total {kind}, _migrated_bytes_total
//   kvmem_controller_placement_locality_ratio {domain,uuid,when}: before and after the VM's last move
// Thread-safe: Update/Record from the loop, Collect from the HTTP thread. Throws only
// std::bad_alloc.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/metrics/sink.h"
#include "controller/model/action.h"
#include "controller/policy/state.h"

namespace kvmem::loop {

class PoolPlacementMetrics {
 public:
  // After Decide: the pool targets; after the cycle's actions: the shortfall counters.
  void Update(const model::Plan& plan, const policy::ControllerState& state);
  // After each applied, recorded or failed action.
  void Record(const model::Action& action, const model::Outcome& outcome);

  static std::vector<const FamilyDesc*> Families();
  void Collect(MetricSink& out) const;

 private:
  using PoolKey = std::pair<int, uint64_t>;
  mutable std::mutex mutex_;
  std::vector<model::PoolTarget> pools_;
  std::map<PoolKey, uint64_t> obtained_;
  std::map<std::tuple<int, uint64_t, std::string>, uint64_t> shortfalls_;
  std::map<int, uint64_t> compactions_;
  std::map<std::string, uint64_t> writes_;  // by Outcome::method
  std::map<std::string, uint64_t> moves_;   // by kind: vcpus, memory
  uint64_t migrated_bytes_ = 0;
  std::map<std::pair<std::string, std::string>, std::pair<double, std::optional<double>>> locality_;
};

}  // namespace kvmem::loop
