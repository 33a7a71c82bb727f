// Reads hugepages-<size>kB directories.
#include "host/procfs/hugepages.h"

#include <algorithm>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {

std::optional<uint64_t> ParseHugepageDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "hugepages-", kSuffix = "kB";
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  auto kb = ParseU64(name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size()));
  if (!kb || *kb == 0 || *kb > (UINT64_MAX >> 10)) return std::nullopt;
  return *kb * 1024;
}

Result<std::vector<HugepagePool>> ReadHugepagePools(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names) {
    if (names.error().kind == ErrorKind::kNotFound) return std::vector<HugepagePool>{};
    return tl::unexpected(names.error());
  }
  std::vector<HugepagePool> pools;
  for (const auto& name : *names) {
    auto size = ParseHugepageDirName(name);
    if (!size) continue;
    std::string base = dir + "/" + name + "/";
    HugepagePool p;
    p.page_bytes = *size;
    auto total = ReadU64File(base + "nr_hugepages");
    if (!total) return tl::unexpected(total.error());
    auto free = ReadU64File(base + "free_hugepages");
    if (!free) return tl::unexpected(free.error());
    auto surplus = ReadU64File(base + "surplus_hugepages");
    if (!surplus) return tl::unexpected(surplus.error());
    p.total = *total;
    p.free = *free;
    p.surplus = *surplus;
    for (auto [file, field] : {std::pair{"resv_hugepages", &HugepagePool::reserved},
                               std::pair{"nr_overcommit_hugepages", &HugepagePool::overcommit}}) {
      auto v = ReadU64File(base + file);
      if (v)
        p.*field = *v;
      else if (v.error().kind != ErrorKind::kNotFound)
        return tl::unexpected(v.error());
    }
    pools.push_back(p);
  }
  std::sort(pools.begin(), pools.end(),
            [](const HugepagePool& a, const HugepagePool& b) { return a.page_bytes < b.page_bytes; });
  return pools;
}

Result<std::vector<HugepagePool>> ReadGlobalHugepages(const Root& root) {
  return ReadHugepagePools(root.Sys("kernel/mm/hugepages"));
}

Result<std::vector<HugepagePool>> ReadNodeHugepages(const Root& root, int node) {
  return ReadHugepagePools(root.Node(node, "hugepages"));
}

std::optional<uint64_t> NodeAvailableBytes(const Meminfo& node_meminfo, const std::vector<HugepagePool>& node_pools) {
  auto free = node_meminfo.Get("MemFree");
  if (!free) return std::nullopt;
  uint64_t total = *free + node_meminfo.Get("Active(file)").value_or(0) +
                   node_meminfo.Get("Inactive(file)").value_or(0) + node_meminfo.Get("SReclaimable").value_or(0);
  for (const auto& p : node_pools) total += p.free * p.page_bytes;
  return total;
}

}  // namespace kvmem::procfs
