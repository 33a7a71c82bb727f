// KSM: start, scan harder, slow, stop; and the skips that explain each "no".
#include "controller/policy/ksm.h"

#include <algorithm>
#include <string>

#include "controller/model/units.h"

namespace kvmem::policy {
namespace {

using model::FormatBytes;
using model::FormatNumber;
using model::FormatSeconds;

constexpr const char* kSubject = "ksm";
constexpr int kRetryWindows = 10;  // a probe that stopped fruitless is not repeated for this many windows

std::string Rate(double bytes_per_cpu_second) { return FormatBytes(std::max(0.0, bytes_per_cpu_second)) + "/CPU-s"; }

// A running VM listed in never_merge whose memory QEMU offers to KSM; nullptr if none.
const model::VmObservation* NeverMergeBlocker(const model::Observation& obs, const model::KsmPolicy& p) {
  for (const auto& vm : obs.vms) {
    if (!vm.running || vm.nosharepages) continue;
    if (std::find(p.never_merge.begin(), p.never_merge.end(), vm.name) != p.never_merge.end() ||
        std::find(p.never_merge.begin(), p.never_merge.end(), vm.uuid) != p.never_merge.end()) {
      return &vm;
    }
  }
  return nullptr;
}

// merge_across_nodes is never written: with pages merged across nodes on a NUMA host, say so
// and what a change would take.
void NoteMergeAcrossNodes(Cycle& c, const model::KsmObservation& k) {
  int memory_nodes = 0;
  uint64_t available = 0;
  for (const auto& n : c.obs().nodes) {
    if (!n.has_memory) continue;
    ++memory_nodes;
    available += n.available_bytes;
  }
  if (!k.merge_across_nodes || memory_nodes < 2) return;
  const int64_t saved = std::max<int64_t>(0, k.SavedBytes());
  c.AddSkip(kSubject, "ksm.merge",
            "merge_across_nodes=1 on " + std::to_string(memory_nodes) +
                " nodes with memory: pages are merged across nodes, so a VM may read a page from a remote node. "
                "kvmem never changes it: that needs run=2 first (unmerge everything: the current saving of " +
                FormatBytes(static_cast<uint64_t>(saved)) + " returns to the VMs and must fit in the " +
                FormatBytes(available) + " available), then the write, then merging again");
}

model::Reason KsmReason(const char* rule, const char* threshold, double threshold_value, const model::KsmObservation& k,
                        const std::optional<KsmPayment>& pay, std::string text) {
  std::vector<std::pair<std::string, double>> observed{{"saved_bytes", static_cast<double>(k.SavedBytes())}};
  if (pay) {
    observed.emplace_back("pay_rate_bytes_per_cpu_second", pay->pay_rate);
    observed.emplace_back("break_even_bytes_per_cpu_second", pay->break_even);
    observed.emplace_back("ksmd_cpu_ratio", pay->CpuRatio());
  }
  return model::Reason(rule, threshold, threshold_value, std::move(observed), std::move(text));
}

void AddKsm(Cycle& c, const model::KsmObservation& k, model::KsmSettings to, model::Reason reason) {
  if (!c.HasActionSlot(kSubject)) return;
  const model::KsmSettings from{k.run, k.pages_to_scan, k.sleep_millisecs};
  c.Add(model::SetKsm{from, to, std::move(reason)});
}

// Why memory is wanted, from the node deepest on the ladder (then with the least available
// share): below ksm.merge_below, or short enough for a deeper stage.
std::string WantedText(const Cycle& c, double* threshold) {
  const model::NodeObservation* worst = nullptr;
  auto share = [](const model::NodeObservation& n) {
    return model::AsDouble(n.available_bytes) / model::AsDouble(n.total_bytes);
  };
  for (const auto& n : c.obs().nodes) {
    if (c.StageOf(n.id) < model::Stage::kKsm || n.total_bytes == 0) continue;
    if (!worst || c.StageOf(n.id) > c.StageOf(worst->id) ||
        (c.StageOf(n.id) == c.StageOf(worst->id) && share(n) < share(*worst))) {
      worst = &n;
    }
  }
  if (!worst) return "memory wanted";
  const uint64_t below = c.policy().ksm.merge_below.Resolve(worst->total_bytes);
  const std::string node = "node " + std::to_string(worst->id) + " available " + FormatBytes(worst->available_bytes);
  if (worst->available_bytes < below) {
    *threshold = model::AsDouble(below);
    return node + " < " + FormatBytes(below) + " (ksm.merge_below)";
  }
  return node + ", short of memory (ladder stage " + std::string(model::StageName(c.StageOf(worst->id))) + ")";
}

// A start is a probe judged after one window, and only when memory is wanted: KSM merges
// pages across VMs (a side channel between them, copy-on-write faults for the guests), so it is
// never started on a host that does not need the memory. Running, it keeps going while it pays.
void PlanStopped(Cycle& c, const model::KsmObservation& k, bool wanted) {
  const auto& p = c.policy().ksm;
  if (!wanted) {
    c.AddSkip(kSubject, "ksm.merge", "memory not wanted: every node at or above ksm.merge_below; KSM stays off");
    return;
  }
  const auto& stopped = c.state().ksm.fruitless_stop;
  const model::Duration retry = p.window * kRetryWindows;
  if (stopped && c.now() - *stopped < retry) {
    c.AddSkip(kSubject, "ksm.merge",
              "merging did not pay when last tried (stopped " + FormatSeconds(c.now() - *stopped) +
                  " ago); next try in " + FormatSeconds(retry - (c.now() - *stopped)));
    return;
  }
  double threshold = 0;
  std::string why = WantedText(c, &threshold);
  // Start at the top: the probe costs at most one window of ksmd at max_pages_to_scan (a few
  // percent of one CPU), and a node short of memory cannot wait for a doubling ramp.
  AddKsm(c, k, {1, p.max_pages_to_scan, p.sleep_millisecs},
         KsmReason("ksm.merge", "ksm.merge_below", threshold, k, std::nullopt,
                   why + ": start merging at " + std::to_string(p.max_pages_to_scan) + " pages every " +
                       std::to_string(p.sleep_millisecs) + " ms"));
}

std::string PayText(const KsmPayment& pay) {
  return "merging saved " + FormatBytes(std::max(0.0, pay.saved_delta)) + " in " +
         FormatSeconds(model::Duration{static_cast<int64_t>(pay.span_seconds * 1000)}) + " for " +
         FormatNumber(pay.cpu_seconds) + " s of ksmd CPU (" + FormatNumber(pay.CpuRatio() * 100) +
         "% of a CPU): " + Rate(pay.pay_rate) + (pay.pays ? " >= " : " < ") + "break-even " + Rate(pay.break_even);
}

void PlanRunning(Cycle& c, const model::KsmObservation& k, bool wanted) {
  const auto& p = c.policy().ksm;
  const auto& last = c.state().ksm.last_change;
  if (!KsmBreakEven(c.obs(), p)) {
    c.AddSkip(kSubject, "ksm.merge", "online CPUs unknown: merging cannot be priced against ksmd's CPU");
    return;
  }
  auto pay = MeasureKsm(c.window(), p, last);
  if (!pay) {
    c.AddSkip(kSubject, "ksm.merge",
              "measuring: no observation a full ksm.window (" + FormatSeconds(p.window) +
                  ") back at the current setting yet");
    return;
  }
  const double be = pay->break_even;
  if (pay->pays && !wanted) {
    c.AddSkip(kSubject, "ksm.merge", PayText(*pay) + "; memory not wanted, so the scan rate holds");
  } else if (pay->pays && k.pages_to_scan >= p.max_pages_to_scan) {
    c.AddSkip(kSubject, "ksm.merge", PayText(*pay) + "; already at max_pages_to_scan");
  } else if (pay->pays) {
    const uint64_t to = std::clamp<uint64_t>(k.pages_to_scan * 2, p.min_pages_to_scan, p.max_pages_to_scan);
    AddKsm(c, k, {1, to, p.sleep_millisecs},
           KsmReason("ksm.merge", "ksm.payback", be, k, pay, PayText(*pay) + "; memory wanted: scan harder"));
  } else if (k.pages_to_scan > p.min_pages_to_scan) {
    const uint64_t to = std::max(p.min_pages_to_scan, k.pages_to_scan / 2);
    AddKsm(c, k, {1, to, p.sleep_millisecs},
           KsmReason("ksm.slow", "ksm.payback", be, k, pay, PayText(*pay) + ": slow down"));
  } else {
    AddKsm(c, k, {0, k.pages_to_scan, k.sleep_millisecs},
           KsmReason("ksm.stop", "ksm.payback", be, k, pay,
                     PayText(*pay) + " at min_pages_to_scan: stop (merged pages stay merged)"));
  }
}

}  // namespace

std::optional<double> KsmBreakEven(const model::Observation& obs, const model::KsmPolicy& policy) {
  uint64_t total = 0;
  for (const auto& n : obs.nodes) total += n.has_memory ? n.total_bytes : 0;
  const double payback = model::Seconds(policy.payback);
  if (obs.cpus <= 0 || total == 0 || payback <= 0) return std::nullopt;
  return model::AsDouble(total) / obs.cpus / payback;
}

std::optional<KsmPayment> MeasureKsm(const Window& window, const model::KsmPolicy& policy,
                                     std::optional<model::TimePoint> after) {
  if (window.empty()) return std::nullopt;
  const model::Observation& now = window.Latest();
  auto be = KsmBreakEven(now, policy);
  if (!be || !now.ksm || !now.ksm->ksmd_cpu_seconds_total) return std::nullopt;
  for (size_t i = window.LatestIndex(); i-- > 0;) {
    const model::Observation& then = window.at(i);
    if (after && then.time <= *after) return std::nullopt;
    if (now.time - then.time < policy.window) continue;
    if (!then.ksm || !then.ksm->ksmd_cpu_seconds_total) return std::nullopt;
    KsmPayment pay;
    pay.break_even = *be;
    pay.saved_bytes = now.ksm->SavedBytes();
    pay.saved_delta = static_cast<double>(now.ksm->SavedBytes() - then.ksm->SavedBytes());
    pay.cpu_seconds = std::max(0.0, *now.ksm->ksmd_cpu_seconds_total - *then.ksm->ksmd_cpu_seconds_total);
    pay.span_seconds = model::Seconds(now.time - then.time);
    if (pay.cpu_seconds > 0) {
      pay.pay_rate = pay.saved_delta / pay.cpu_seconds;
      pay.pays = pay.pay_rate >= pay.break_even;
    } else {
      pay.pays = pay.saved_delta > 0;
    }
    return pay;
  }
  return std::nullopt;
}

void PlanKsm(Cycle& c) {
  const auto& p = c.policy().ksm;
  if (!p.enabled) return;
  if (!c.obs().ksm) return;  // no /sys/kernel/mm/ksm: the kernel has no KSM, nothing to steer
  const model::KsmObservation& k = *c.obs().ksm;
  NoteMergeAcrossNodes(c, k);
  if (k.run == 2) {
    c.AddSkip(kSubject, "ksm.merge", "run=2: someone is unmerging every page; KSM is left alone");
    return;
  }
  if (!k.ksmd_cpu_seconds_total) {
    c.AddSkip(kSubject, "ksm.merge", "ksmd not found: KSM is not steered without its CPU");
    return;
  }
  if (const auto* vm = NeverMergeBlocker(c.obs(), p)) {
    const std::string why = "VM " + vm->name +
                            " is in ksm.never_merge and runs without <nosharepages/>: add "
                            "<memoryBacking><nosharepages/> to its domain XML";
    if (k.run == 1) {
      AddKsm(c, k, {0, k.pages_to_scan, k.sleep_millisecs},
             KsmReason("ksm.stop", "ksm.never_merge", 0, k, std::nullopt, why + "; stop merging"));
    } else {
      c.AddSkip(kSubject, "ksm.merge", why + "; KSM is not started");
    }
    return;
  }
  const auto& last = c.state().ksm.last_change;
  if (last && c.now() - *last < p.window) {
    c.AddSkip(
        kSubject, "ksm.merge",
        "settling: " + FormatSeconds(p.window - (c.now() - *last)) + " left of ksm.window at the current setting");
    return;
  }
  const bool wanted = c.DeepestStage() >= model::Stage::kKsm;
  if (k.run == 0) {
    PlanStopped(c, k, wanted);
  } else {
    PlanRunning(c, k, wanted);
  }
}

}  // namespace kvmem::policy
