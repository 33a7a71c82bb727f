// The kvmem-vm group: NUMA locality and guest memory pressure per VM.
#include "controller/alerts/groups.h"

#include <algorithm>

namespace kvmem::alerts {
namespace {

using model::Duration;
using std::chrono::minutes;
using std::chrono::seconds;

const std::string kStatsOk = " and ignoring(state) kvmem_domain_guest_stats_state{state=\"ok\"} == 1";

// placement.locality_below held past placement.for and the cycles the controller gets to move
// the VM, but never sooner than kMinLocalityFor.
AlertRule LocalityAlert(const model::Policy& p) {
  const auto& pl = p.placement;
  const Duration hold = std::max(kMinLocalityFor, pl.sustain_for + Cycles(p));
  return {"KvmemVmNumaLocalityLow",
          "warning",
          "kvmem_domain_numa_locality_ratio < " + PromNumber(pl.locality_below),
          hold,
          "A VM's memory sits away from the NUMA nodes its vCPUs run on.",
          "Only {{ $value | humanizePercentage }} of the memory of VM {{ $labels.domain }} on {{ $labels.instance }} "
          "sits on the NUMA nodes its vCPUs run on, below placement.locality_below (" +
              model::FormatPercent(pl.locality_below) + ") for " + PromDuration(hold) +
              ": its memory accesses cross the interconnect." +
              ControllerNote(pl.enabled,
                             "The controller pins its vCPUs to its memory or migrates its memory to its vCPUs "
                             "(placement.vcpus, placement.memory), unless its domain XML fixes its placement.",
                             "placement.enabled"),
          {"placement.vcpus", "placement.memory"},
          Subject::kVm};
}

// The guest pressure signals are rated over balloon.pressure.rate_window (at least
// kMinRateWindow), in the recording rules and the alerts alike.
Duration PressureWindow(const model::Policy& p) { return RateWindow(p.balloon.pressure.rate_window); }
std::string GuestSwapInRecord(const model::Policy& p) {
  return "kvmem:domain_guest_swap_in_bytes:rate" + PromDuration(PressureWindow(p));
}
std::string GuestMajorFaultsRecord(const model::Policy& p) {
  return "kvmem:domain_guest_major_faults:rate" + PromDuration(PressureWindow(p));
}

// What the three pressure alerts say the controller does, and the rules they ask it to run.
std::string GuestPressureNote(const model::Policy& p) {
  const bool acts = p.balloon.enabled || p.virtio_mem.enabled;
  return ControllerNote(
      acts, "The controller gives it memory (balloon release, or from idle VMs on its nodes, then virtio-mem).",
      "balloon.enabled and virtio_mem.enabled");
}
std::vector<std::string> GuestPressureRules() { return {"balloon.release", "balloon.rebalance", "virtio_mem.grow"}; }

// balloon.pressure.usable_below_ratio, only on fresh guest stats.
AlertRule GuestMemoryPressureAlert(const model::Policy& p) {
  const auto& pr = p.balloon.pressure;
  return {"KvmemGuestMemoryPressure",
          "warning",
          "kvmem:domain_guest_usable:ratio < " + PromNumber(pr.usable_below_ratio) + kStatsOk,
          Cycles(p),
          "A guest has little memory it can use without swapping.",
          "The guest of VM {{ $labels.domain }} on {{ $labels.instance }} can use only "
          "{{ $value | humanizePercentage }} of its memory without swapping, below "
          "balloon.pressure.usable_below_ratio (" +
              model::FormatPercent(pr.usable_below_ratio) + ")." + GuestPressureNote(p),
          GuestPressureRules(),
          Subject::kVm};
}

// balloon.pressure.swap_in_rate_above, only on fresh guest stats.
AlertRule GuestSwapInHighAlert(const model::Policy& p) {
  const auto& pr = p.balloon.pressure;
  const Duration window = PressureWindow(p);
  const std::string swap_record = GuestSwapInRecord(p);
  return {"KvmemGuestSwapInHigh",
          "warning",
          swap_record + " > " + PromNumber(pr.swap_in_rate_above) + kStatsOk,
          Cycles(p),
          "A guest swaps memory in.",
          "The guest of VM {{ $labels.domain }} on {{ $labels.instance }} swaps in "
          "{{ $value | humanize1024 }}B/s over " +
              PromDuration(window) + ", above balloon.pressure.swap_in_rate_above (" +
              model::FormatBytes(pr.swap_in_rate_above) + "/s)." + GuestPressureNote(p),
          GuestPressureRules(),
          Subject::kVm};
}

// balloon.pressure.major_fault_rate_above, only on fresh guest stats.
AlertRule GuestMajorFaultsHighAlert(const model::Policy& p) {
  const auto& pr = p.balloon.pressure;
  const Duration window = PressureWindow(p);
  const std::string fault_record = GuestMajorFaultsRecord(p);
  return {"KvmemGuestMajorFaultsHigh",
          "warning",
          fault_record + " > " + PromNumber(pr.major_fault_rate_above) + kStatsOk,
          Cycles(p),
          "A guest waits on major page faults.",
          "The guest of VM {{ $labels.domain }} on {{ $labels.instance }} takes {{ $value | printf \"%.0f\" }} major "
          "page faults per second over " +
              PromDuration(window) + ", above balloon.pressure.major_fault_rate_above (" +
              model::FormatNumber(pr.major_fault_rate_above) + "/s)." + GuestPressureNote(p),
          GuestPressureRules(),
          Subject::kVm};
}

// Past stale_after the controller stops shrinking the VM, so people should know.
AlertRule GuestStatsStaleAlert(const model::Policy& p) {
  return {"KvmemGuestStatsStale",
          "warning",
          "time() - kvmem_domain_guest_stats_last_update_timestamp_seconds > " +
              PromNumber(model::Seconds(p.stale_after)) +
              "\nand ignoring(state)\nkvmem_domain_guest_stats_state{state=\"stale\"} == 1",
          minutes(5),
          "A guest has stopped reporting its memory statistics.",
          "The guest of VM {{ $labels.domain }} on {{ $labels.instance }} last reported memory statistics "
          "{{ $value | humanizeDuration }} ago, longer than stale_after (" +
              PromDuration(p.stale_after) + "): the controller will not shrink it until it reports again.",
          {},
          Subject::kVm};
}

}  // namespace

RuleGroup VmGroup(const model::Policy& p) {
  const Duration window = PressureWindow(p);
  RuleGroup g{"kvmem-vm", {}, {}};
  g.records = {
      {"kvmem:domain_guest_usable:ratio", "kvmem_domain_guest_usable_bytes / kvmem_domain_balloon_current_bytes"},
      {GuestSwapInRecord(p), Rate("kvmem_domain_guest_swap_in_bytes_total", window)},
      {GuestMajorFaultsRecord(p), Rate("kvmem_domain_guest_major_faults_total", window)},
  };
  g.alerts = {LocalityAlert(p), GuestMemoryPressureAlert(p), GuestSwapInHighAlert(p), GuestMajorFaultsHighAlert(p),
              GuestStatsStaleAlert(p)};
  return g;
}

}  // namespace kvmem::alerts
