// The one table of host collectors: name, default, description, factory.
#include "exporter/collectors/collectors.h"

namespace kvmem::collectors {

namespace {
// Adapts a host collector factory, which needs only the roots.
template <std::unique_ptr<Collector> (*Make)(const procfs::Root&)>
std::unique_ptr<Collector> FromRoot(const CollectorContext& ctx) {
  return Make(ctx.root);
}
}  // namespace

const std::vector<CollectorEntry>& AllCollectors() {
  static const std::vector<CollectorEntry> kTable = {
      {"numa", true, "per-node meminfo, numastat, vmstat, distances and CPUs", FromRoot<MakeNumaCollector>},
      {"hugepages", true, "hugepage pools per node and page size, and hugepage-aware available memory",
       FromRoot<MakeHugepagesCollector>},
      {"thp", true, "transparent hugepage settings, usage and events", FromRoot<MakeThpCollector>},
      {"ksm", true, "kernel samepage merging counters and knobs", FromRoot<MakeKsmCollector>},
      {"swap", true, "swap, zswap, zram and swappiness", FromRoot<MakeSwapCollector>},
      {"fragmentation", true, "buddy allocator free blocks, fragmentation indexes and compaction",
       FromRoot<MakeFragmentationCollector>},
      {"pressure", true, "memory pressure stall information (PSI)", FromRoot<MakePressureCollector>},
      {"tiering", true, "memory tiers per node, demotion and promotion, and NUMA balancing work",
       FromRoot<MakeTieringCollector>},
      {"settings", true, "sysctls that decide memory placement: zone reclaim, NUMA balancing, watermarks, defrag mode",
       FromRoot<MakeSettingsCollector>},
      {"dimms", true,
       "memory devices from SMBIOS type 17: size, rated and configured speed, type, slot (needs root to read)",
       FromRoot<MakeDimmsCollector>},
      {"memory_blocks", false,
       "memory hotplug block size and online/offline blocks per node (off by default: it reads one file per memory "
       "block, about 0.5 ms per 200 blocks)",
       FromRoot<MakeMemoryBlocksCollector>},
      {"libvirt", true,
       "per-VM balloon, guest memory, virtio-mem, hugepage backing, NUMA residency and KSM through libvirt (read-only)",
       MakeLibvirtCollector},
      {"host_check", true,
       "host configuration checks (tiers, zone reclaim, NUMA balancing, KSM, THP, free page reporting, DIMMs, zram "
       "swappiness) as pass/fail gauges",
       MakeHostCheckCollector},
  };
  return kTable;
}

}  // namespace kvmem::collectors
