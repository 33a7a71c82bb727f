// The KSM rule of the baselines (MOM's ksm policy, ksmtuned), written from their published
// constants and rules (docs/simulator.md "The controllers"); no code of theirs is copied.
#include <algorithm>

#include "bench/sim/controller.h"
#include "controller/model/units.h"

namespace kvmem::sim {

std::optional<model::KsmSettings> KsmRule(const KsmRuleParams& p, const model::Observation& obs, double free,
                                          uint64_t npages) {
  if (!obs.ksm) return std::nullopt;
  double total = 0, committed = 0;
  for (const auto& n : obs.nodes) total += model::AsDouble(n.total_bytes);
  for (const auto& vm : obs.vms) committed += vm.running ? model::AsDouble(vm.balloon_current_bytes) : 0;
  const double threshold = p.threshold * total;
  model::KsmSettings to{obs.ksm->run, obs.ksm->pages_to_scan, obs.ksm->sleep_millisecs};
  if (committed + threshold < total && free > threshold) {
    to.run = 0;
  } else {
    to.run = 1;
    // Both compute in KiB with integer division: baseline x 16 GiB / MemTotal.
    const auto total_kib = static_cast<uint64_t>(total / 1024);
    to.sleep_millisecs = total_kib > 0 ? p.sleep_baseline_ms * (16ULL << 20) / total_kib : p.sleep_baseline_ms;
    to.sleep_millisecs = std::max(to.sleep_millisecs, p.sleep_min_ms);
    const int64_t delta = free < threshold ? p.boost : p.decay;
    const int64_t next = static_cast<int64_t>(npages) + delta;
    to.pages_to_scan = static_cast<uint64_t>(
        std::clamp<int64_t>(next, static_cast<int64_t>(p.npages_min), static_cast<int64_t>(p.npages_max)));
  }
  return to;
}

std::optional<model::Action> KsmAction(const model::Observation& obs, const model::KsmSettings& to,
                                       const std::string& rule) {
  if (!obs.ksm) return std::nullopt;
  const model::KsmSettings from{obs.ksm->run, obs.ksm->pages_to_scan, obs.ksm->sleep_millisecs};
  if (to == from) return std::nullopt;  // the write would change nothing: not counted as one
  model::SetKsm a{from, to, {}};
  a.reason.rule = rule;
  a.reason.text = rule;
  return a;
}

}  // namespace kvmem::sim
