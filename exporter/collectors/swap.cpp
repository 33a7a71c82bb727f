// The swap collector: swap and zswap sizes, swap traffic, swap devices, zram devices and
// vm.swappiness.
#include <array>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/cgroup.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/read.h"
#include "host/procfs/swap.h"

namespace kvmem::collectors {
namespace {

const std::array kMeminfo = {
    std::pair{"SwapTotal",
              FamilyDesc{"kvmem_swap_size_bytes", "Total swap space (/proc/meminfo SwapTotal).", kGauge, {}}},
    std::pair{"SwapFree",
              FamilyDesc{"kvmem_swap_free_bytes", "Unused swap space (/proc/meminfo SwapFree).", kGauge, {}}},
    std::pair{
        "SwapCached",
        FamilyDesc{
            "kvmem_swap_cached_bytes", "Swapped-out memory also still in RAM (/proc/meminfo SwapCached).", kGauge, {}}},
    std::pair{
        "Zswap",
        FamilyDesc{
            "kvmem_zswap_pool_bytes", "RAM used by the zswap compressed pool (/proc/meminfo Zswap).", kGauge, {}}},
    std::pair{"Zswapped", FamilyDesc{"kvmem_zswap_stored_bytes",
                                     "Uncompressed size of the pages stored in zswap (/proc/meminfo Zswapped).",
                                     kGauge,
                                     {}}},
};

// vmstat page counters, exported in bytes.
const std::array kVmstat = {
    std::pair{"pswpin", FamilyDesc{"kvmem_swap_in_bytes_total",
                                   "Bytes read in from swap devices (/proc/vmstat pswpin * page size).",
                                   kCounter,
                                   {}}},
    std::pair{"pswpout", FamilyDesc{"kvmem_swap_out_bytes_total",
                                    "Bytes written out to swap devices (/proc/vmstat pswpout * page size).",
                                    kCounter,
                                    {}}},
    std::pair{"zswpin", FamilyDesc{"kvmem_zswap_in_bytes_total",
                                   "Bytes loaded back from zswap (/proc/vmstat zswpin * page size).",
                                   kCounter,
                                   {}}},
    std::pair{"zswpout", FamilyDesc{"kvmem_zswap_out_bytes_total",
                                    "Bytes stored into zswap (/proc/vmstat zswpout * page size).",
                                    kCounter,
                                    {}}},
    std::pair{"zswpwb", FamilyDesc{"kvmem_zswap_written_back_bytes_total",
                                   "Bytes written back from zswap to a swap device (/proc/vmstat zswpwb * page size).",
                                   kCounter,
                                   {}}},
};

const FamilyDesc kDeviceSize{
    "kvmem_swap_device_size_bytes", "Size of a swap device or file (/proc/swaps).", kGauge, {"device", "type"}};
const FamilyDesc kDeviceUsed{
    "kvmem_swap_device_used_bytes", "Used space on a swap device or file (/proc/swaps).", kGauge, {"device", "type"}};
const FamilyDesc kDevicePriority{
    "kvmem_swap_device_priority", "Priority of a swap device or file (/proc/swaps).", kGauge, {"device", "type"}};
const FamilyDesc kZramDisk{
    "kvmem_zram_disk_size_bytes", "Configured size of a zram device (zramN/disksize).", kGauge, {"device"}};
const FamilyDesc kZramOrig{"kvmem_zram_original_data_bytes",
                           "Uncompressed size of the data stored in zram (mm_stat orig_data_size).",
                           kGauge,
                           {"device"}};
const FamilyDesc kZramCompr{"kvmem_zram_compressed_data_bytes",
                            "Compressed size of the data stored in zram (mm_stat compr_data_size).",
                            kGauge,
                            {"device"}};
const FamilyDesc kZramUsed{"kvmem_zram_memory_used_bytes",
                           "RAM zram uses, including allocator overhead (mm_stat mem_used_total).",
                           kGauge,
                           {"device"}};
const FamilyDesc kZramLimit{"kvmem_zram_memory_limit_bytes",
                            "Limit on the RAM zram may use; 0 means none (mm_stat mem_limit).",
                            kGauge,
                            {"device"}};
const FamilyDesc kZramMax{
    "kvmem_zram_memory_used_max_bytes", "Peak RAM zram has used (mm_stat mem_used_max).", kGauge, {"device"}};
const FamilyDesc kZramSame{"kvmem_zram_same_pages",
                           "Pages filled with one repeated value, stored without memory (mm_stat same_pages).",
                           kGauge,
                           {"device"}};
const FamilyDesc kZramCompacted{"kvmem_zram_compacted_pages_total",
                                "Pages freed by zram compaction (mm_stat pages_compacted).",
                                kCounter,
                                {"device"}};
const FamilyDesc kZramHuge{
    "kvmem_zram_huge_pages", "Incompressible pages stored uncompressed (mm_stat huge_pages).", kGauge, {"device"}};
const FamilyDesc kZramHugeSince{"kvmem_zram_huge_pages_since_total",
                                "Incompressible pages stored since the device was set up (mm_stat huge_pages_since).",
                                kCounter,
                                {"device"}};
const FamilyDesc kZswapEnabled{"kvmem_zswap_enabled",
                               "Whether zswap compresses pages on their way to swap (1) or not (0) "
                               "(/sys/module/zswap/parameters/enabled); absent on kernels without zswap.",
                               kGauge,
                               {}};
const FamilyDesc kSwappiness{
    "kvmem_sysctl_vm_swappiness", "vm.swappiness: how readily the kernel swaps anonymous memory (0-200).", kGauge, {}};

class SwapCollector final : public Collector {
 public:
  explicit SwapCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    if (auto mi = procfs::ReadMeminfo(root_)) {
      for (const auto& [key, desc] : kMeminfo) out.Add(desc, {}, mi->Get(key));
    } else {
      out.Fail(mi.error());
    }
    if (auto vm = procfs::ReadVmstat(root_)) {
      for (const auto& [key, desc] : kVmstat) {
        if (auto v = vm->Get(key)) out.Add(desc, {}, static_cast<double>(*v) * PageSizeBytes());
      }
    } else {
      out.Fail(vm.error());
    }
    if (auto swaps = procfs::ReadSwaps(root_)) {
      for (const auto& d : *swaps) {
        out.Add(kDeviceSize, {d.filename, d.type}, static_cast<double>(d.size_bytes));
        out.Add(kDeviceUsed, {d.filename, d.type}, static_cast<double>(d.used_bytes));
        out.Add(kDevicePriority, {d.filename, d.type}, static_cast<double>(d.priority));
      }
    } else {
      out.Fail(swaps.error());
    }
    CollectZram(out);
    if (procfs::PathExists(root_.Sys("module/zswap/parameters/enabled"))) {
      out.Add(kZswapEnabled, {}, procfs::ZswapEnabled(root_) ? 1 : 0);
    }
    if (auto v = procfs::ReadI64File(root_.Proc("sys/vm/swappiness"))) {
      out.Add(kSwappiness, {}, static_cast<double>(*v));
    } else {
      out.Fail(v.error());
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    std::vector<const FamilyDesc*> out;
    for (const auto& f : kMeminfo) out.push_back(&f.second);
    for (const auto& f : kVmstat) out.push_back(&f.second);
    for (auto* d :
         {&kDeviceSize, &kDeviceUsed, &kDevicePriority, &kZramDisk, &kZramOrig, &kZramCompr, &kZramUsed, &kZramLimit,
          &kZramMax, &kZramSame, &kZramCompacted, &kZramHuge, &kZramHugeSince, &kZswapEnabled, &kSwappiness}) {
      out.push_back(d);
    }
    return out;
  }

 private:
  void CollectZram(MetricSink& out) {
    auto devices = procfs::ReadZramDevices(root_);
    if (!devices) return out.Fail(devices.error());
    for (const auto& d : *devices) {
      const auto& m = d.mm;
      auto add = [&](const FamilyDesc& desc, uint64_t v) { out.Add(desc, {d.name}, static_cast<double>(v)); };
      add(kZramDisk, d.disksize_bytes);
      add(kZramOrig, m.orig_data_size);
      add(kZramCompr, m.compr_data_size);
      add(kZramUsed, m.mem_used_total);
      add(kZramLimit, m.mem_limit);
      add(kZramMax, m.mem_used_max);
      add(kZramSame, m.same_pages);
      add(kZramCompacted, m.pages_compacted);
      out.Add(kZramHuge, {d.name}, m.huge_pages);
      out.Add(kZramHugeSince, {d.name}, m.huge_pages_since);
    }
  }

  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeSwapCollector(const procfs::Root& root) { return std::make_unique<SwapCollector>(root); }

}  // namespace kvmem::collectors
