// The kvmem-host group: node memory, hugepages, fragmentation, THP, NUMA misses, swap, KSM, collectors.
#include "controller/alerts/groups.h"

#include <algorithm>

namespace kvmem::alerts {
namespace {

using model::Duration;
using std::chrono::minutes;
using std::chrono::seconds;

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

}  // namespace

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

}  // namespace kvmem::alerts
