// The thp collector: transparent hugepage settings (as state sets), khugepaged knobs and
// counters, THP usage from /proc/meminfo and the thp_* events from /proc/vmstat.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/hugepages.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/read.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kEnabled{"kvmem_thp_enabled",
                          "THP mode for anonymous memory (transparent_hugepage/enabled); 1 for the selected mode.",
                          kGauge,
                          {"mode"}};
const FamilyDesc kDefrag{
    "kvmem_thp_defrag", "THP defrag mode (transparent_hugepage/defrag); 1 for the selected mode.", kGauge, {"mode"}};
const FamilyDesc kShmemEnabled{
    "kvmem_thp_shmem_enabled",
    "THP mode for shmem/tmpfs (transparent_hugepage/shmem_enabled); 1 for the selected mode.",
    kGauge,
    {"mode"}};
const FamilyDesc kSizeEnabled{"kvmem_thp_size_enabled",
                              "Per-size (mTHP) mode for anonymous memory (transparent_hugepage/hugepages-*/enabled); "
                              "size in bytes; 1 for the selected mode.",
                              kGauge,
                              {"size", "mode"}};
const FamilyDesc kSizeShmemEnabled{
    "kvmem_thp_size_shmem_enabled",
    "Per-size (mTHP) mode for shmem (transparent_hugepage/hugepages-*/shmem_enabled); 1 for the selected mode.",
    kGauge,
    {"size", "mode"}};
const FamilyDesc kUseZeroPage{"kvmem_thp_use_zero_page",
                              "Whether reads of untouched THP areas map the huge zero page (use_zero_page).",
                              kGauge,
                              {}};
const FamilyDesc kPmdSize{
    "kvmem_thp_pmd_size_bytes", "Size of a PMD-mapped transparent hugepage (hpage_pmd_size).", kGauge, {}};
const FamilyDesc kAnon{
    "kvmem_thp_anon_bytes", "Anonymous memory in transparent hugepages (/proc/meminfo AnonHugePages).", kGauge, {}};
const FamilyDesc kShmem{
    "kvmem_thp_shmem_bytes", "Shared memory in transparent hugepages (/proc/meminfo ShmemHugePages).", kGauge, {}};
const FamilyDesc kFile{
    "kvmem_thp_file_bytes", "Page cache in transparent hugepages (/proc/meminfo FileHugePages).", kGauge, {}};
const FamilyDesc kEvents{
    "kvmem_thp_events_total",
    "THP events from /proc/vmstat thp_<event> (e.g. fault_alloc, fault_fallback, collapse_alloc, split_page).",
    kCounter,
    {"event"}};

struct KhugepagedFile {
  const char* file;
  double divisor;  // the file's unit per base unit (1000 for milliseconds)
  FamilyDesc desc;
};
const std::array kKhugepaged = {
    KhugepagedFile{"defrag",
                   1,
                   {"kvmem_thp_khugepaged_defrag",
                    "Whether khugepaged defragments memory to collapse pages (khugepaged/defrag).",
                    kGauge,
                    {}}},
    KhugepagedFile{"max_ptes_none",
                   1,
                   {"kvmem_thp_khugepaged_max_ptes_none",
                    "Unmapped PTEs khugepaged may fill when collapsing (khugepaged/max_ptes_none).",
                    kGauge,
                    {}}},
    KhugepagedFile{"max_ptes_swap",
                   1,
                   {"kvmem_thp_khugepaged_max_ptes_swap",
                    "Swapped PTEs khugepaged may swap in when collapsing (khugepaged/max_ptes_swap).",
                    kGauge,
                    {}}},
    KhugepagedFile{"max_ptes_shared",
                   1,
                   {"kvmem_thp_khugepaged_max_ptes_shared",
                    "Shared PTEs khugepaged may collapse (khugepaged/max_ptes_shared).",
                    kGauge,
                    {}}},
    KhugepagedFile{"pages_to_scan",
                   1,
                   {"kvmem_thp_khugepaged_pages_to_scan",
                    "Pages khugepaged scans per pass (khugepaged/pages_to_scan).",
                    kGauge,
                    {}}},
    KhugepagedFile{"scan_sleep_millisecs",
                   1000,
                   {"kvmem_thp_khugepaged_scan_sleep_seconds",
                    "Pause between khugepaged passes (khugepaged/scan_sleep_millisecs).",
                    kGauge,
                    {}}},
    KhugepagedFile{"alloc_sleep_millisecs",
                   1000,
                   {"kvmem_thp_khugepaged_alloc_sleep_seconds",
                    "Pause after a failed hugepage allocation (khugepaged/alloc_sleep_millisecs).",
                    kGauge,
                    {}}},
    KhugepagedFile{"pages_collapsed",
                   1,
                   {"kvmem_thp_khugepaged_pages_collapsed_total",
                    "Hugepages khugepaged has collapsed (khugepaged/pages_collapsed).",
                    kCounter,
                    {}}},
    KhugepagedFile{"full_scans",
                   1,
                   {"kvmem_thp_khugepaged_full_scans_total",
                    "Full scans of all mm by khugepaged (khugepaged/full_scans).",
                    kCounter,
                    {}}},
};

class ThpCollector final : public Collector {
 public:
  explicit ThpCollector(procfs::Root root)
      : root_(std::move(root)), dir_(root_.Sys("kernel/mm/transparent_hugepage/")) {}

  void Collect(MetricSink& out) override {
    EmitChoice(out, kEnabled, dir_ + "enabled", {});
    EmitChoice(out, kDefrag, dir_ + "defrag", {});
    EmitChoice(out, kShmemEnabled, dir_ + "shmem_enabled", {});
    EmitNumber(out, kUseZeroPage, dir_ + "use_zero_page", 1);
    EmitNumber(out, kPmdSize, dir_ + "hpage_pmd_size", 1);
    for (const auto& k : kKhugepaged) EmitNumber(out, k.desc, dir_ + "khugepaged/" + k.file, k.divisor);
    if (auto names = procfs::ListDir(dir_)) {
      for (const auto& name : *names) {
        auto size = procfs::ParseHugepageDirName(name);
        if (!size) continue;
        std::string s = std::to_string(*size);
        EmitChoice(out, kSizeEnabled, dir_ + name + "/enabled", s);
        EmitChoice(out, kSizeShmemEnabled, dir_ + name + "/shmem_enabled", s);
      }
    } else {
      out.Fail(names.error());
    }
    if (auto mi = procfs::ReadMeminfo(root_)) {
      out.Add(kAnon, {}, mi->Get("AnonHugePages"));
      out.Add(kShmem, {}, mi->Get("ShmemHugePages"));
      out.Add(kFile, {}, mi->Get("FileHugePages"));
    } else {
      out.Fail(mi.error());
    }
    if (auto vm = procfs::ReadVmstat(root_)) {
      for (const auto& [key, value] : vm->values) {
        if (key.compare(0, 4, "thp_") == 0) {
          out.Add(kEvents, {std::string_view(key).substr(4)}, static_cast<double>(value));
        }
      }
    } else {
      out.Fail(vm.error());
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out = {&kEnabled,     &kDefrag,  &kShmemEnabled, &kSizeEnabled, &kSizeShmemEnabled,
                                          &kUseZeroPage, &kPmdSize, &kAnon,         &kShmem,       &kFile,
                                          &kEvents};
    for (const auto& k : kKhugepaged) out.push_back(&k.desc);
    return out;
  }

 private:
  // A state set: one sample per option, 1 for the selected one. `size` is "" for global files.
  static void EmitChoice(MetricSink& out, const FamilyDesc& desc, const std::string& path, const std::string& size) {
    auto choice = procfs::ReadChoiceFile(path);
    if (!choice) return out.Fail(choice.error());
    for (const auto& option : choice->options) {
      double v = option == choice->selected ? 1 : 0;
      if (size.empty())
        out.Add(desc, {option}, v);
      else
        out.Add(desc, {size, option}, v);
    }
  }

  static void EmitNumber(MetricSink& out, const FamilyDesc& desc, const std::string& path, double divisor) {
    auto v = procfs::ReadU64File(path);
    if (!v) return out.Fail(v.error());
    out.Add(desc, {}, static_cast<double>(*v) / divisor);
  }

  procfs::Root root_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<Collector> MakeThpCollector(const procfs::Root& root) { return std::make_unique<ThpCollector>(root); }

}  // namespace kvmem::collectors
