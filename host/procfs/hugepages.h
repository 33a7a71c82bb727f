// Hugepage pools: /sys/kernel/mm/hugepages (global) and nodeN/hugepages (per node),
// one entry per page size present (hugepages-2048kB, hugepages-1048576kB, ...).
// Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct HugepagePool {
  uint64_t page_bytes = 0;
  uint64_t total = 0;                  // nr_hugepages
  uint64_t free = 0;                   // free_hugepages
  uint64_t surplus = 0;                // surplus_hugepages
  std::optional<uint64_t> reserved;    // resv_hugepages (global only)
  std::optional<uint64_t> overcommit;  // nr_overcommit_hugepages (global only)
};

// "hugepages-2048kB" -> 2097152; nullopt for anything else.
std::optional<uint64_t> ParseHugepageDirName(std::string_view name);

// Pools under `dir`, sorted by page size. Missing dir: empty list.
Result<std::vector<HugepagePool>> ReadHugepagePools(const std::string& dir);
Result<std::vector<HugepagePool>> ReadGlobalHugepages(const Root& root);
Result<std::vector<HugepagePool>> ReadNodeHugepages(const Root& root, int node);

// Memory on a node that VMs can still get, counting free hugepages as available and the
// pools' used pages as used: MemFree + Active(file) + Inactive(file) + SReclaimable
// + sum(free_hugepages * page size). Like MemAvailable it is an estimate; unlike it, it ignores
// watermarks (the kernel does not publish MemAvailable per node). nullopt without MemFree.
std::optional<uint64_t> NodeAvailableBytes(const Meminfo& node_meminfo, const std::vector<HugepagePool>& node_pools);

}  // namespace kvmem::procfs
