// The settings collector: the sysctls that decide how the host treats VM memory across nodes
// (zone reclaim, NUMA balancing, watermarks, defrag mode). swappiness, KSM's
// merge_across_nodes and demotion_enabled are published by the swap, ksm and tiering collectors.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/read.h"

namespace kvmem::collectors {
namespace {

struct Sysctl {
  const char* file;  // under /proc/sys
  double scale;      // to base units
  FamilyDesc desc;
};

Sysctl S(const char* file, const char* name, const char* help, double scale = 1) {
  return {file, scale, {name, help, kGauge, {}}};
}

const std::array kSysctls = {
    S("vm/zone_reclaim_mode", "kvmem_sysctl_vm_zone_reclaim_mode",
      "vm.zone_reclaim_mode: bitmask; nonzero makes the kernel reclaim on the local node before allocating on another "
      "(1 zone reclaim, 2 write dirty pages, 4 swap)."),
    S("kernel/numa_balancing", "kvmem_sysctl_kernel_numa_balancing",
      "kernel.numa_balancing: 0 off, 1 NUMA balancing (migrate pages to the CPU's node), 2 memory tiering promotion, 3 "
      "both."),
    S("vm/watermark_scale_factor", "kvmem_sysctl_vm_watermark_scale_factor",
      "vm.watermark_scale_factor: distance between the kswapd watermarks in 1/10000 of each node's memory."),
    S("vm/min_free_kbytes", "kvmem_sysctl_vm_min_free_bytes",
      "vm.min_free_kbytes in bytes: memory the kernel keeps free, split among zones as their min watermark.", 1024),
    S("vm/defrag_mode", "kvmem_sysctl_vm_defrag_mode",
      "vm.defrag_mode: 1 makes reclaim and compaction keep whole pageblocks free for huge pages (Linux 6.15+)."),
};

class SettingsCollector final : public Collector {
 public:
  explicit SettingsCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    for (const auto& s : kSysctls) {
      if (auto v = procfs::ReadI64File(root_.Proc(std::string("sys/") + s.file))) {
        out.Add(s.desc, {}, static_cast<double>(*v) * s.scale);
      } else {
        out.Fail(v.error());
      }
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out;
    for (const auto& s : kSysctls) out.push_back(&s.desc);
    return out;
  }

 private:
  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeSettingsCollector(const procfs::Root& root) {
  return std::make_unique<SettingsCollector>(root);
}

}  // namespace kvmem::collectors
