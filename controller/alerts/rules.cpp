// The rule set: which alerts exist, their PromQL, and the policy thresholds in them.
// The YAML rendering is in render.cpp.
#include "controller/alerts/rules.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace kvmem::alerts {
namespace {

using model::Duration;
using std::chrono::minutes;
using std::chrono::seconds;

const std::string kStatsOk = " and ignoring(state) kvmem_domain_guest_stats_state{state=\"ok\"} == 1";

Duration RateWindow(Duration d) { return std::max(d, kMinRateWindow); }
Duration Cycles(const model::Policy& p) { return p.interval * kCyclesBeforeAlert; }
std::string Rate(const std::string& counter, Duration window) {
  return "rate(" + counter + "[" + PromDuration(window) + "])";
}

// Part of a description that says what the controller does about it, or that it will not.
std::string ControllerNote(bool enabled, const std::string& action, const std::string& key) {
  return enabled ? " " + action : " The controller will not act on it: " + key + " is false.";
}

// The THP fallback rate is recorded over compaction.sustain_for (at least kMinRateWindow), so
// the alert and its recording rule must agree on the window.
Duration ThpWindow(const model::Policy& p) { return RateWindow(p.compaction.sustain_for); }
std::string ThpFallbackRecord(const model::Policy& p) {
  return "kvmem:thp_fault_fallback:rate" + PromDuration(ThpWindow(p));
}

// balloon.reclaim_below, as a ratio when the policy gives it as a percentage.
AlertRule NodeMemoryLowAlert(const model::Policy& p) {
  const auto& b = p.balloon;
  const bool pct = b.reclaim_below.percent.has_value();
  const std::string reclaim_text =
      pct ? model::FormatPercent(*b.reclaim_below.percent / 100.0) : model::FormatBytes(b.reclaim_below.bytes);
  return {"KvmemNodeMemoryLow",
          "warning",
          pct ? "kvmem:node_memory_available:ratio < " + PromNumber(*b.reclaim_below.percent / 100.0)
              : "kvmem_node_memory_available_bytes < " + PromNumber(model::AsDouble(b.reclaim_below.bytes)),
          Cycles(p),
          "A NUMA node has less memory available than the policy's reclaim threshold.",
          "Node {{ $labels.node }} of {{ $labels.instance }} has " +
              std::string(pct ? "{{ $value | humanizePercentage }} of its memory" : "{{ $value | humanize1024 }}B") +
              " available (free memory, reclaimable cache and free hugepages), below balloon.reclaim_below (" +
              reclaim_text + ") for " + PromDuration(Cycles(p)) + "." +
              ControllerNote(b.enabled, "The controller is taking memory back from the VMs on it.", "balloon.enabled"),
          {"balloon.reclaim"},
          Subject::kNode};
}

// No policy key behind it: it informs people, and asks the controller for nothing.
AlertRule HugePagesExhaustedAlert() {
  return {"KvmemHugePagesExhausted",
          "info",
          "kvmem_node_hugepages_pool_pages > 0 and kvmem_node_hugepages_free_pages == 0",
          minutes(15),
          "A hugepage pool on a NUMA node has no free page.",
          "All {{ $value }} pages of the {{ $labels.size | humanize1024 }}B hugepage pool of node "
          "{{ $labels.node }} on {{ $labels.instance }} are in use: a VM backed by this page size cannot start or "
          "grow on that node.",
          {},
          Subject::kNode};
}

// compaction.compact_above held for compaction.sustain_for.
AlertRule NodeFragmentationHighAlert(const model::Policy& p) {
  const auto& c = p.compaction;
  return {"KvmemNodeFragmentationHigh",
          "warning",
          "kvmem_node_fragmentation_index > " + PromNumber(c.compact_above),
          c.sustain_for,
          "A NUMA node's free memory is too fragmented for huge pages.",
          "Node {{ $labels.node }} of {{ $labels.instance }} has a fragmentation index of "
          "{{ $value | printf \"%.3f\" }} for the THP order, above compaction.compact_above (" +
              model::FormatNumber(c.compact_above) + ") for " + PromDuration(c.sustain_for) +
              ": huge page allocations there fail for lack of contiguous memory." +
              ControllerNote(c.enabled, "The controller compacts the node while memory pressure is low.",
                             "compaction.enabled"),
          {"compaction.fragmentation"},
          Subject::kNode};
}

// Only while some node has no free huge page (fragmentation index >= 0): otherwise compaction has
// nothing to fix.
AlertRule ThpFallbackRateHighAlert(const model::Policy& p) {
  const auto& c = p.compaction;
  const Duration thp_window = ThpWindow(p);
  const std::string thp_record = ThpFallbackRecord(p);
  return {"KvmemThpFallbackRateHigh",
          "warning",
          thp_record + " > " + PromNumber(c.thp_fallback_rate_above) +
              "\nand on(instance, job)\n(max by(instance, job) (kvmem_node_fragmentation_index) >= 0)",
          c.sustain_for,
          "Transparent hugepage faults fall back to small pages too often.",
          "{{ $labels.instance }} falls back to small pages on {{ $value | printf \"%.1f\" }} THP faults per second "
          "over " +
              PromDuration(thp_window) + ", above compaction.thp_fallback_rate_above (" +
              model::FormatNumber(c.thp_fallback_rate_above) +
              "/s), and at least one NUMA node has no free huge page." +
              ControllerNote(c.enabled, "The controller compacts such nodes while memory pressure is low.",
                             "compaction.enabled"),
          {"compaction.thp_fallback"},
          Subject::kHost};
}

// kNumaMissRatioAbove has no policy key: the controller does not act on it.
AlertRule NumaMissRatioHighAlert() {
  return {"KvmemNumaMissRatioHigh",
          "warning",
          "kvmem:node_numa_miss:ratio_rate5m > " + PromNumber(kNumaMissRatioAbove),
          minutes(15),
          "Many allocations on a NUMA node were meant for another node.",
          "{{ $value | humanizePercentage }} of the pages allocated on node {{ $labels.node }} of "
          "{{ $labels.instance }} over 5m were meant for another node (numa_miss), above " +
              model::FormatPercent(kNumaMissRatioAbove) +
              ": the preferred node is short of memory and its VMs get remote memory.",
          {},
          Subject::kNode};
}

// Swap-in and swap-out at once; either alone is ordinary swapping.
AlertRule SwapThrashingAlert() {
  const std::string thrash = PromNumber(kSwapThrashRateAbove);
  return {"KvmemSwapThrashing",
          "warning",
          "rate(kvmem_swap_in_bytes_total[5m]) > " + thrash + "\nand\nrate(kvmem_swap_out_bytes_total[5m]) > " + thrash,
          minutes(10),
          "The host swaps memory in and out at the same time.",
          "{{ $labels.instance }} swaps in {{ $value | humanize1024 }}B/s while it also swaps out more than " +
              model::FormatBytes(kSwapThrashRateAbove) + "/s (5m rates): memory is thrashing between RAM and swap.",
          {},
          Subject::kHost};
}

// The zswap counterpart of SwapThrashingAlert.
AlertRule ZswapThrashingAlert() {
  const std::string thrash = PromNumber(kSwapThrashRateAbove);
  return {
      "KvmemZswapThrashing",
      "warning",
      "rate(kvmem_zswap_in_bytes_total[5m]) > " + thrash + "\nand\nrate(kvmem_zswap_out_bytes_total[5m]) > " + thrash,
      minutes(10),
      "The host compresses memory into zswap and loads it back at the same time.",
      "{{ $labels.instance }} loads {{ $value | humanize1024 }}B/s back from zswap while it also stores "
      "more than " +
          model::FormatBytes(kSwapThrashRateAbove) +
          "/s into it (5m rates): CPU goes into compressing the same pages again and again.",
      {},
      Subject::kHost};
}

// Only while ksmd runs (ksm_run == 1): a stopped ksmd spends no CPU.
AlertRule KsmIneffectiveAlert() {
  return {"KvmemKsmIneffective",
          "info",
          "kvmem_ksm_pages_sharing / (kvmem_ksm_pages_sharing + kvmem_ksm_pages_unshared) < " +
              PromNumber(kKsmSharingRatioBelow) + "\nand\nkvmem_ksm_run == 1",
          minutes(60),
          "KSM scans memory but merges little of it.",
          "KSM on {{ $labels.instance }} merges only {{ $value | humanizePercentage }} of the pages it keeps checking "
          "(pages_sharing against pages_unshared), below " +
              model::FormatPercent(kKsmSharingRatioBelow) + " for an hour: ksmd spends CPU for little saving.",
          {},
          Subject::kHost};
}

// The exporter's own health: a failing collector leaves the other alerts without their inputs.
AlertRule ExporterCollectorFailingAlert() {
  return {"KvmemExporterCollectorFailing",
          "warning",
          "kvmem_scrape_collector_success == 0",
          minutes(5),
          "A kvmem_exporter collector fails.",
          "The {{ $labels.collector }} collector of kvmem_exporter on {{ $labels.instance }} has failed for 5m "
          "(success {{ $value }}): its metrics are missing or partial. The exporter's log names the file and line.",
          {},
          Subject::kHost};
}

RuleGroup HostGroup(const model::Policy& p) {
  const Duration thp_window = ThpWindow(p);
  const std::string thp_record = ThpFallbackRecord(p);
  RuleGroup g{"kvmem-host", {}, {}};
  g.records = {
      {"kvmem:node_memory_available:ratio", "kvmem_node_memory_available_bytes / kvmem_node_memory_total_bytes"},
      {"kvmem:node_numa_miss:ratio_rate5m",
       "rate(kvmem_node_numa_miss_pages_total[5m])\n/\n(rate(kvmem_node_numa_hit_pages_total[5m]) + "
       "rate(kvmem_node_numa_miss_pages_total[5m]))"},
      {thp_record, "sum without(event) (" + Rate("kvmem_thp_events_total{event=\"fault_fallback\"}", thp_window) + ")"},
  };
  g.alerts = {NodeMemoryLowAlert(p),       HugePagesExhaustedAlert(), NodeFragmentationHighAlert(p),
              ThpFallbackRateHighAlert(p), NumaMissRatioHighAlert(),  SwapThrashingAlert(),
              ZswapThrashingAlert(),       KsmIneffectiveAlert(),     ExporterCollectorFailingAlert()};
  return g;
}

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

}  // namespace

std::vector<RuleGroup> BuildRules(const model::Policy& policy) {
  return {HostGroup(policy), VmGroup(policy), ControllerGroup(policy), HostCheckGroup()};
}

std::string GenerateRules(const model::Policy& policy, const Options& options) {
  return RenderRules(BuildRules(policy), options);
}

std::string RunbookAnchor(std::string_view alertname) {
  std::string out(alertname);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  return out;
}

std::optional<Hint> HintFor(std::string_view alertname) {
  static const std::vector<RuleGroup> groups = BuildRules(model::Policy{});
  for (const auto& g : groups) {
    for (const auto& a : g.alerts) {
      if (a.name == alertname && !a.policy_rules.empty()) return Hint{a.policy_rules, a.subject};
    }
  }
  return std::nullopt;
}

std::string PromDuration(Duration d) { return model::DurationText(d); }

std::string PromNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  std::array<char, 64> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::to_string(v);
}

}  // namespace kvmem::alerts
