// The kvmem-controller group (stuck, acting too often, pool shortfall) and the host configuration checks.
#include "controller/alerts/groups.h"

#include <algorithm>

namespace kvmem::alerts {
namespace {

using model::Duration;
using std::chrono::minutes;
using std::chrono::seconds;

// The pool manager reports a shortfall after kPoolRetriesBeforeAlert retries of hugepages.grow.
AlertRule PoolShortfallAlert(const model::Policy& p) {
  const auto& h = p.hugepages;
  const Duration hold = std::max(kMinPoolShortfallFor, h.retry_after * kPoolRetriesBeforeAlert + Cycles(p));
  return {"KvmemHugepagePoolShortfall",
          "warning",
          "kvmem_controller_hugepage_pool_shortfall_pages > 0",
          hold,
          "A hugepage pool lacks free pages that autostart VMs will need.",
          "Node {{ $labels.node }} of {{ $labels.instance }} lacks {{ $value }} free "
          "{{ $labels.size | humanize1024 }}B hugepages that the autostart VMs pinned to it and hugepages.headroom (" +
              model::FormatBytes(h.headroom) + ") need, for " + PromDuration(hold) +
              ": hugepage-backed VMs set to autostart may fail to start there." +
              ControllerNote(h.enabled,
                             "The controller grows the pool (hugepages.grow) and retries every " +
                                 PromDuration(h.retry_after) +
                                 " (hugepages.retry_after); the cause label of "
                                 "kvmem_controller_hugepage_reservation_failures_total says why its reservations "
                                 "fell short.",
                             "hugepages.enabled"),
          {"hugepages.grow"},
          Subject::kNode};
}
// No cycle finished for kCyclesBeforeAlert intervals (never less than a minute): nothing is
// acting on this host's memory.
AlertRule ControllerStuckAlert(const model::Policy& p) {
  const Duration stuck = std::max<Duration>(Cycles(p), minutes(1));
  return {"KvmemControllerStuck",
          "critical",
          "time() - kvmem_controller_last_run_timestamp_seconds > " + PromNumber(model::Seconds(stuck)),
          minutes(1),
          "kvmem_controller has stopped running its cycles.",
          "kvmem_controller on {{ $labels.instance }} last finished a cycle {{ $value | humanizeDuration }} ago; its "
          "interval is " +
              PromDuration(p.interval) + ". Memory on this host is not being rebalanced.",
          {},
          Subject::kHost};
}

// More than kActionRateShareOfCap of the action limit over 10m: a settled host acts rarely.
AlertRule ControllerActingTooOftenAlert(const model::Policy& p) {
  // The limit scales with the host's VMs, so the threshold is the controller's own gauge.
  const double share_per_second = kActionRateShareOfCap / model::Seconds(p.interval);
  return {"KvmemControllerActingTooOften",
          "warning",
          "sum without(actuator, reason, outcome) (rate(kvmem_controller_actions_total{outcome!=\"failed\"}[10m])) > " +
              PromNumber(share_per_second) + " * kvmem_controller_actions_per_cycle_limit",
          minutes(10),
          "kvmem_controller acts far more often than a settled host needs.",
          "kvmem_controller on {{ $labels.instance }} decided {{ $value | printf \"%.2f\" }} actions per second over "
          "10m, more than " +
              model::FormatPercent(kActionRateShareOfCap) +
              " of its limit (kvmem_controller_actions_per_cycle_limit per " + PromDuration(p.interval) +
              " cycle): a threshold may be flapping.",
          {},
          Subject::kHost};
}

}  // namespace

RuleGroup ControllerGroup(const model::Policy& p) {
  RuleGroup g{"kvmem-controller", {}, {}};
  g.alerts = {ControllerStuckAlert(p), ControllerActingTooOftenAlert(p), PoolShortfallAlert(p)};
  return g;
}

// The exporter's host configuration checks (docs/host-check.md): settings, not load, so a
// long `for` keeps a change in progress quiet. Info findings are left to the dashboard.
RuleGroup HostCheckGroup() {
  RuleGroup g{"kvmem-host-check", {}, {}};
  for (const char* severity : {"critical", "warning"}) {
    const std::string name = severity == std::string("critical") ? "KvmemHostCheckCritical" : "KvmemHostCheckWarning";
    g.alerts.push_back(
        {name,
         severity,
         "kvmem_host_check_failed{severity=\"" + std::string(severity) + "\"} == 1",
         minutes(15),
         std::string("A host configuration check of severity ") + severity + " fails.",
         "Host check {{ $labels.check }} fails on {{ $labels.instance }} (kvmem_host_check_failed = {{ $value }} for "
         "15m). Run kvmem_exporter --check-host there for what was found and the one-line fix.",
         {},
         Subject::kHost});
  }
  return g;
}

}  // namespace kvmem::alerts
