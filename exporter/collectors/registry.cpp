// The one table of host collectors: name, default, description, factory.
#include "exporter/collectors/collectors.h"

namespace kvmem::collectors {

const std::vector<CollectorEntry>& HostCollectors() {
  static const std::vector<CollectorEntry> kTable = {
      {"numa", true, "per-node meminfo, numastat, vmstat, distances and CPUs", MakeNumaCollector},
      {"hugepages", true, "hugepage pools per node and page size, and hugepage-aware available memory", MakeHugepagesCollector},
      {"thp", true, "transparent hugepage settings, usage and events", MakeThpCollector},
      {"ksm", true, "kernel samepage merging counters and knobs", MakeKsmCollector},
      {"swap", true, "swap, zswap, zram and swappiness", MakeSwapCollector},
      {"fragmentation", true, "buddy allocator free blocks, fragmentation indexes and compaction", MakeFragmentationCollector},
      {"pressure", true, "memory pressure stall information (PSI)", MakePressureCollector},
      {"memory_blocks", true, "memory hotplug block size and online/offline blocks per node", MakeMemoryBlocksCollector},
  };
  return kTable;
}

}  // namespace kvmem::collectors
