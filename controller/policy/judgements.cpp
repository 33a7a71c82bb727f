// Bands, floors, staleness and pressure: the judgements shared by every rule.
#include "controller/policy/judgements.h"

#include <algorithm>

#include "controller/model/units.h"

namespace kvmem::policy {

using model::AsDouble;
using model::FormatBytes;
using model::FormatPercent;

NodeBand BandOf(const model::NodeObservation& node, const model::BalloonPolicy& policy) {
  NodeBand b;
  b.reclaim_below = policy.reclaim_below.Resolve(node.total_bytes);
  b.release_above = policy.release_above.Resolve(node.total_bytes);
  b.middle = b.reclaim_below + model::SatSub(b.release_above, b.reclaim_below) / 2;
  if (node.available_bytes < b.reclaim_below) {
    b.band = model::Band::kReclaim;
  } else if (node.available_bytes > b.release_above && b.release_above > b.reclaim_below) {
    b.band = model::Band::kRelease;
  }
  return b;
}

std::string DescribeThreshold(const model::NodeSize& size, uint64_t resolved) {
  std::string s = FormatBytes(resolved);
  if (size.percent) s += " (" + FormatPercent(*size.percent / 100.0) + ")";
  return s;
}

uint64_t Floor(const model::VmObservation& vm, const model::BalloonPolicy& policy) {
  uint64_t floor = std::max(policy.min_guest, vm.min_guarantee_bytes.value_or(0));
  if (vm.guest_available_bytes && vm.guest_usable_bytes) {
    const uint64_t used = model::SatSub(*vm.guest_available_bytes, *vm.guest_usable_bytes);
    const double keep_free = std::clamp(policy.min_free_ratio, 0.0, 0.99);
    floor = std::max(floor, model::ToBytesCeil(AsDouble(used) / (1.0 - keep_free)));
  }
  return floor;
}

std::optional<std::string> BlindReason(const model::VmObservation& vm, model::TimePoint now,
                                       model::Duration stale_after) {
  if (!vm.guest_available_bytes || !vm.guest_usable_bytes) return "stats missing";
  const auto age = model::StatsAge(vm, now);
  if (!age) return "stats age unknown";
  if (*age > stale_after) {
    return "stats " + model::FormatSeconds(*age) + " old (stale_after " + model::FormatSeconds(stale_after) + ")";
  }
  return std::nullopt;
}

Pressure PressureAt(const Window& window, size_t i, const std::string& uuid,
                    const model::BalloonPressurePolicy& policy) {
  Pressure p;
  const model::VmObservation* vm = window.FindVm(i, uuid);
  if (vm == nullptr) return p;
  if (vm->guest_usable_bytes && vm->balloon_current_bytes > 0) {
    p.usable_ratio = AsDouble(*vm->guest_usable_bytes) / AsDouble(vm->balloon_current_bytes);
  }
  auto counter = [&](auto field) {
    return [&window, &uuid, field](size_t j) -> std::optional<double> {
      const model::VmObservation* v = window.FindVm(j, uuid);
      if (v == nullptr || !(v->*field)) return std::nullopt;
      return AsDouble(*(v->*field));
    };
  };
  p.swap_in_rate = window.Rate(i, policy.rate_window, counter(&model::VmObservation::swap_in_bytes_total)).value_or(0);
  p.major_fault_rate =
      window.Rate(i, policy.rate_window, counter(&model::VmObservation::major_faults_total)).value_or(0);
  if (p.usable_ratio < policy.usable_below_ratio) {
    p.why =
        "usable " + FormatPercent(p.usable_ratio) + " < usable_below_ratio " + FormatPercent(policy.usable_below_ratio);
    p.threshold = "balloon.pressure.usable_below_ratio";
    p.threshold_value = policy.usable_below_ratio;
  } else if (p.swap_in_rate > policy.swap_in_rate_above) {
    p.why = "swap-in " + FormatBytes(p.swap_in_rate) + "/s > swap_in_rate_above " +
            FormatBytes(policy.swap_in_rate_above) + "/s";
    p.threshold = "balloon.pressure.swap_in_rate_above";
    p.threshold_value = policy.swap_in_rate_above;
  } else if (p.major_fault_rate > policy.major_fault_rate_above) {
    p.why = "major faults " + model::FormatNumber(p.major_fault_rate) + "/s > major_fault_rate_above " +
            model::FormatNumber(policy.major_fault_rate_above) + "/s";
    p.threshold = "balloon.pressure.major_fault_rate_above";
    p.threshold_value = policy.major_fault_rate_above;
  }
  p.under = !p.why.empty();
  return p;
}

std::string VmSubject(const model::VmObservation& vm) { return "vm " + vm.name; }
std::string NodeSubject(int node) { return "node " + std::to_string(node); }
std::string DeviceSubject(const model::VmObservation& vm, const model::VirtioMemDevice& dev) {
  return "vm " + vm.name + " virtio-mem " + dev.alias;
}
model::VmRef RefOf(const model::VmObservation& vm) { return {vm.uuid, vm.name}; }

}  // namespace kvmem::policy
