// The kvmem-density group: the levers that save memory on a calm host (KSM, compressed
// offload) and what they cost: ksmd CPU that no longer buys memory, VMs pulling offloaded
// memory back, VMs stalled by offload.
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
  g.alerts = {KsmUnprofitableAlert(p)};
  return g;
}

}  // namespace kvmem::alerts
