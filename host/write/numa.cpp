// Node CPUs and page migration through libnuma.
#include "host/write/numa.h"

#include <numa.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace kvmem::hostwrite {
namespace {

struct BitmaskFreer {
  void operator()(bitmask* b) const noexcept { numa_bitmask_free(b); }
};
using BitmaskPtr = std::unique_ptr<bitmask, BitmaskFreer>;

std::string NodeSetText(const bitmask* nodes) {
  std::vector<int> ids;
  for (unsigned int n = 0; n < nodes->size; ++n) {
    if (numa_bitmask_isbitset(nodes, n)) ids.push_back(static_cast<int>(n));
  }
  return "{" + CpuListText(ids) + "}";
}

}  // namespace

Result<std::vector<int>> LibnumaNodeCpus(int node) {
  if (numa_available() < 0) return Fail(ErrorKind::kNotFound, "libnuma: NUMA is not available on this host");
  const int max = numa_max_node();
  if (node < 0 || node > max) {
    return Fail(ErrorKind::kNotFound,
                "libnuma: node " + std::to_string(node) + " does not exist (highest node " + std::to_string(max) + ")");
  }
  BitmaskPtr cpus(numa_allocate_cpumask());
  if (numa_node_to_cpus(node, cpus.get()) < 0) {
    return Fail(ErrorKind::kIo, "libnuma: numa_node_to_cpus(" + std::to_string(node) + "): " + std::strerror(errno));
  }
  std::vector<int> out;
  for (unsigned int c = 0; c < cpus->size; ++c) {
    if (numa_bitmask_isbitset(cpus.get(), c)) out.push_back(static_cast<int>(c));
  }
  return out;
}

Result<void> CheckMemoryNode(int to_node, const std::string& what) {
  if (numa_available() < 0) return Fail(ErrorKind::kNotFound, what + ": libnuma: NUMA is not available on this host");
  const int max = numa_max_node();
  if (to_node < 0 || to_node > max || !numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned int>(to_node))) {
    return Fail(ErrorKind::kNotFound,
                what + ": node " + std::to_string(to_node) +
                    " is not a memory node of this host (libnuma: " + NodeSetText(numa_all_nodes_ptr) + ")");
  }
  return {};
}

Result<MigrateResult> MigratePagesTo(int pid, int to_node, const std::string& what) {
  if (auto ok = CheckMemoryNode(to_node, what); !ok) return tl::unexpected(ok.error());
  const int max = numa_max_node();
  BitmaskPtr from(numa_allocate_nodemask()), to(numa_allocate_nodemask());
  for (int n = 0; n <= max; ++n) {
    const auto bit = static_cast<unsigned int>(n);
    if (n != to_node && numa_bitmask_isbitset(numa_nodes_ptr, bit)) numa_bitmask_setbit(from.get(), bit);
  }
  numa_bitmask_setbit(to.get(), static_cast<unsigned int>(to_node));
  errno = 0;
  const int left = numa_migrate_pages(pid, from.get(), to.get());
  const int err = errno;
  MigrateResult out;
  out.call = "numa_migrate_pages(pid " + std::to_string(pid) + ", from " + NodeSetText(from.get()) + ", to {" +
             std::to_string(to_node) + "})";
  if (left < 0) {
    return Fail(ErrorKind::kIo, what + ": " + out.call + ": " + std::strerror(err) +
                                    (err == EPERM ? " (moving another user's process needs CAP_SYS_NICE)" : ""));
  }
  out.pages_left = left;
  return out;
}

std::string CpuListText(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace kvmem::hostwrite
