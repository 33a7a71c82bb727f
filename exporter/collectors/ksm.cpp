// The ksm collector: every counter and knob in /sys/kernel/mm/ksm, and ksmd's CPU time.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/ksmd.h"
#include "host/procfs/read.h"

namespace kvmem::collectors {
namespace {

struct KsmFile {
  const char* file;
  double divisor;  // the file's unit per base unit (1000 for milliseconds)
  FamilyDesc desc;
};

KsmFile KsmGauge(const char* file, const char* name, const char* help, double divisor = 1) {
  return {file, divisor, {name, std::string(help) + " (ksm/" + file + ").", kGauge, {}}};
}
KsmFile KsmCounter(const char* file, const char* name, const char* help) {
  return {file, 1, {name, std::string(help) + " (ksm/" + file + ").", kCounter, {}}};
}

const std::array kFiles = {
    KsmGauge("run", "kvmem_ksm_run", "KSM state: 0 stopped, 1 running, 2 unmerging"),
    KsmGauge("pages_to_scan", "kvmem_ksm_pages_to_scan", "Pages ksmd scans per wake-up"),
    KsmGauge("sleep_millisecs", "kvmem_ksm_sleep_seconds", "Pause between ksmd wake-ups", 1000),
    KsmGauge("pages_shared", "kvmem_ksm_pages_shared", "Shared KSM pages in use"),
    KsmGauge("pages_sharing", "kvmem_ksm_pages_sharing", "Pages mapped onto shared KSM pages (how much is saved)"),
    KsmGauge("pages_unshared", "kvmem_ksm_pages_unshared", "Pages unique but repeatedly checked for merging"),
    KsmGauge("pages_volatile", "kvmem_ksm_pages_volatile", "Pages changing too fast to be merged"),
    KsmCounter("pages_scanned", "kvmem_ksm_pages_scanned_total", "Pages ksmd has scanned"),
    KsmCounter("pages_skipped", "kvmem_ksm_pages_skipped_total", "Pages smart scanning has skipped"),
    KsmCounter("full_scans", "kvmem_ksm_full_scans_total", "Full scans of all mergeable areas"),
    KsmGauge("general_profit", "kvmem_ksm_general_profit_bytes",
             "Memory saved by KSM net of its metadata; may be negative"),
    KsmGauge("ksm_zero_pages", "kvmem_ksm_zero_pages", "Empty pages merged with the kernel zero page"),
    KsmGauge("max_page_sharing", "kvmem_ksm_max_page_sharing", "Maximum sharers of one KSM page"),
    KsmGauge("merge_across_nodes", "kvmem_ksm_merge_across_nodes",
             "Whether pages from different NUMA nodes may be merged"),
    KsmGauge("use_zero_pages", "kvmem_ksm_use_zero_pages", "Whether empty pages merge with the zero page"),
    KsmGauge("smart_scan", "kvmem_ksm_smart_scan", "Whether pages that failed to merge are skipped for a while"),
    KsmGauge("stable_node_chains", "kvmem_ksm_stable_node_chains", "KSM pages that hit max_page_sharing"),
    KsmGauge("stable_node_dups", "kvmem_ksm_stable_node_dups", "Duplicated KSM pages in stable node chains"),
    KsmGauge("stable_node_chains_prune_millisecs", "kvmem_ksm_stable_node_chains_prune_seconds",
             "Interval between prunes of stale stable node chains", 1000),
    KsmGauge("advisor_max_cpu", "kvmem_ksm_advisor_max_cpu_ratio", "CPU share the scan-time advisor may give ksmd",
             100),
    KsmGauge("advisor_min_pages_to_scan", "kvmem_ksm_advisor_min_pages_to_scan",
             "Lower bound the advisor sets for pages_to_scan"),
    KsmGauge("advisor_max_pages_to_scan", "kvmem_ksm_advisor_max_pages_to_scan",
             "Upper bound the advisor sets for pages_to_scan"),
    KsmGauge("advisor_target_scan_time", "kvmem_ksm_advisor_target_scan_time_seconds",
             "Scan time the advisor aims for"),
};

const FamilyDesc kAdvisorMode{
    "kvmem_ksm_advisor_mode", "KSM advisor mode (ksm/advisor_mode); 1 for the selected mode.", kGauge, {"mode"}};

const FamilyDesc kKsmdCpu{"kvmem_ksmd_cpu_seconds_total",
                          "CPU time ksmd has used, user plus system (/proc/PID/stat utime + stime of the ksmd "
                          "kernel thread); absent when no ksmd is found.",
                          kCounter,
                          {}};

class KsmCollector final : public Collector {
 public:
  // ksmd is looked for once here, at start-up: the search reads every /proc/PID/comm, which a
  // scrape should not pay for.
  explicit KsmCollector(const procfs::Root& root) : dir_(root.Sys("kernel/mm/ksm/")), ksmd_(root) {
    (void)ksmd_.CpuSeconds();
  }

  void Collect(MetricSink& out) override {
    for (const auto& f : kFiles) {
      auto v = procfs::ReadI64File(dir_ + f.file);
      if (!v) {
        out.Fail(v.error());
        continue;
      }
      out.Add(f.desc, {}, static_cast<double>(*v) / f.divisor);
    }
    if (auto mode = procfs::ReadChoiceFile(dir_ + "advisor_mode")) {
      for (const auto& option : mode->options) {
        out.Add(kAdvisorMode, {option}, option == mode->selected ? 1 : 0);
      }
    } else {
      out.Fail(mode.error());
    }
    if (procfs::PathExists(dir_ + "run")) {
      if (auto cpu = ksmd_.CpuSeconds()) out.Add(kKsmdCpu, {}, *cpu);
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out{&kAdvisorMode, &kKsmdCpu};
    for (const auto& f : kFiles) out.push_back(&f.desc);
    return out;
  }

 private:
  std::string dir_;
  procfs::KsmdCpu ksmd_;
};

}  // namespace

std::unique_ptr<Collector> MakeKsmCollector(const procfs::Root& root) { return std::make_unique<KsmCollector>(root); }

}  // namespace kvmem::collectors
