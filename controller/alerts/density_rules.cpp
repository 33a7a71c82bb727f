// The kvmem-density group: the levers that save memory on a calm host (KSM, compressed
// offload) and what they cost: ksmd CPU that no longer buys memory, VMs pulling offloaded
// memory back, VMs stalled by offload. Refaults count 4 KiB pages (x86-64).
#include "controller/alerts/groups.h"

#include <algorithm>

namespace kvmem::alerts {
namespace {

using model::Duration;
using std::chrono::minutes;

// The KSM rules look back ksm.window, but never less than 5m: ksmd's CPU counter moves in clock
// ticks, and a minute of a slow scan holds too few of them to divide by.
Duration KsmWindow(const model::Policy& p) { return std::max<Duration>(p.ksm.window, minutes(5)); }
std::string KsmPayRecord(const model::Policy& p) {
  return "kvmem:ksm_saved_bytes_per_cpu_second:delta" + PromDuration(KsmWindow(p));
}

// Not paying for six ksm.windows (at least 15m): the controller judges a setting after one
// window and halves the scan rate each window it does not pay, stopping at the floor (four
// halvings from the default maximum, then a stop), so past that someone else drives ksmd, or
// ksm.enabled is false.
AlertRule KsmUnprofitableAlert(const model::Policy& p) {
  const Duration window = KsmWindow(p);
  return {"KvmemKsmUnprofitable",
          "warning",
          KsmPayRecord(p) + " < on(instance, job) kvmem:ksm_break_even_bytes_per_cpu_second\nand on(instance, job)\n" +
              Rate("kvmem_ksmd_cpu_seconds_total", window) + " > 0.01",
          std::max<Duration>(p.ksm.window * 6, minutes(15)),
          "ksmd spends CPU on merging that no longer saves memory.",
          "KSM on {{ $labels.instance }} saved {{ $value | humanize1024 }}B per second of ksmd CPU over " +
              PromDuration(window) + ", less than the break-even (the host's memory per CPU over ksm.payback, " +
              PromDuration(p.ksm.payback) + "), while ksmd used more than 1 % of a CPU." +
              ControllerNote(p.ksm.enabled, "The controller slows KSM down and stops it (ksm.slow, ksm.stop).",
                             "ksm.enabled"),
          {},  // people only: by then the controller has already slowed or stopped what it drives
          Subject::kHost};
}

// Offload's guards back off for offload.backoff; a VM still over a guard after two of them is
// not being helped by the controller backing off (someone else offloads, or the host swaps).
Duration OffloadHold(const model::Policy& p) { return std::max<Duration>(p.offload.backoff * 2, minutes(10)); }
const std::string kVmKey = "on(instance, job, domain, uuid)";
const std::string kRefaultRecord = "kvmem:domain_cgroup_refault_bytes_per_minute:ratio5m";

AlertRule RefaultStormAlert(const model::Policy& p) {
  const Duration hold = OffloadHold(p);
  return {"KvmemVmRefaultStorm",
          "warning",
          kRefaultRecord + " > " + PromNumber(p.offload.max_refault_ratio),
          hold,
          "A VM pulls its offloaded memory back faster than the refault guard allows.",
          "VM {{ $labels.domain }} on {{ $labels.instance }} brings back {{ $value | humanizePercentage }} of its "
          "resident memory per minute from swap, zswap or zram (5m rate), above offload.max_refault_ratio (" +
              model::FormatPercent(p.offload.max_refault_ratio) + ") for " + PromDuration(hold) +
              ": the memory taken from it is not cold, and every refault stalls it." +
              ControllerNote(p.offload.enabled,
                             "The controller has stopped offloading it (offload.backoff); check for another "
                             "agent writing memory.reclaim or memory.high, or host swap under pressure.",
                             "offload.enabled"),
          {},
          Subject::kVm};
}

AlertRule StalledByOffloadAlert(const model::Policy& p) {
  const Duration hold = OffloadHold(p);
  return {"KvmemVmStalledByOffload",
          "warning",
          "rate(kvmem_domain_memory_pressure_stalled_seconds_total{kind=\"some\"}[5m]) > " +
              PromNumber(p.offload.psi_target) + "\nand " + kVmKey + "\nkvmem_domain_cgroup_swap_bytes > 0",
          hold,
          "A VM with offloaded memory stalls on memory.",
          "The tasks of VM {{ $labels.domain }} on {{ $labels.instance }} stalled on memory "
          "{{ $value | humanizePercentage }} of the time (memory.pressure some, 5m rate), above "
          "offload.psi_target (" +
              model::FormatPercent(p.offload.psi_target) + ") for " + PromDuration(hold) +
              ", while part of its memory is in swap, zswap or zram." +
              ControllerNote(p.offload.enabled,
                             "The controller has stopped offloading it (offload.backoff); if it still stalls, "
                             "its memory is short: see its balloon and guest pressure.",
                             "offload.enabled"),
          {},
          Subject::kVm};
}

}  // namespace

RuleGroup DensityGroup(const model::Policy& p) {
  const Duration window = KsmWindow(p);
  RuleGroup g{"kvmem-density", {}, {}};
  g.records = {
      // general_profit where the kernel has it (6.4+), else the pages mapped onto merged ones.
      {"kvmem:ksm_saved_bytes", "kvmem_ksm_general_profit_bytes\nor\nkvmem_ksm_pages_sharing * 4096"},
      {"kvmem:ksm_break_even_bytes_per_cpu_second",
       "sum by (instance, job) (kvmem_node_memory_total_bytes)\n/ on(instance, job)\nsum by (instance, job) "
       "(kvmem_node_cpus)\n/ " +
           PromNumber(model::Seconds(p.ksm.payback))},
      // Only while ksmd spent CPU: a stopped ksmd has no rate to judge.
      {KsmPayRecord(p), "delta(kvmem:ksm_saved_bytes[" + PromDuration(window) + "])\n/ on(instance, job)\n(increase(" +
                            "kvmem_ksmd_cpu_seconds_total[" + PromDuration(window) + "]) > 0)"},
  };
  g.records.push_back(
      {kRefaultRecord, "rate(kvmem_domain_cgroup_swap_refaults_total[5m]) * 4096 * 60\n/ " + kVmKey +
                           "\nsum by (instance, job, domain, uuid) (kvmem_domain_cgroup_memory_bytes)"});
  g.alerts = {KsmUnprofitableAlert(p), RefaultStormAlert(p), StalledByOffloadAlert(p)};
  return g;
}

}  // namespace kvmem::alerts
