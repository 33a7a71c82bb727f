// Per-VM cgroup metrics.
#include "exporter/collectors/domain_cgroup.h"

#include <unistd.h>

#include <map>

#include "common/log.h"
#include "exporter/collectors/common.h"

namespace kvmem::collectors {
namespace {

using Labels = std::vector<std::string>;
const Labels kVm{"domain", "uuid"};

const FamilyDesc kPressure{"kvmem_domain_memory_pressure_stalled_seconds_total",
                           "Time some (kind=some) or all (kind=full) of the VM's tasks stalled on memory, from its "
                           "cgroup's memory.pressure (cgroup v2 only).",
                           kCounter,
                           {"domain", "uuid", "kind"}};
const FamilyDesc kMemory{"kvmem_domain_cgroup_memory_bytes",
                         "The VM's memory by type in its cgroup: anon and file (memory.stat anon/file; v1 rss/cache).",
                         kGauge,
                         {"domain", "uuid", "type"}};
const FamilyDesc kUsage{"kvmem_domain_cgroup_usage_bytes",
                        "All memory charged to the VM's cgroup (memory.current; v1 memory.usage_in_bytes).", kGauge,
                        kVm};
const FamilyDesc kSwap{"kvmem_domain_cgroup_swap_bytes",
                       "The VM's memory in swap, zswap and zram included (memory.swap.current; v1 memory.stat swap "
                       "with swap accounting).",
                       kGauge, kVm};
const FamilyDesc kZswap{"kvmem_domain_cgroup_zswap_bytes",
                        "Compressed size of the VM's pages in zswap (memory.stat zswap; kernels with zswap).", kGauge,
                        kVm};
const FamilyDesc kZswapped{"kvmem_domain_cgroup_zswapped_bytes",
                           "Uncompressed size of the VM's pages in zswap (memory.stat zswapped).", kGauge, kVm};
const FamilyDesc kRefaults{"kvmem_domain_cgroup_swap_refaults_total",
                           "Pages of the VM brought back from swap or zswap (memory.stat zswpin + pswpin on 6.3+, "
                           "else workingset_refault_anon); cgroup v2 only.",
                           kCounter, kVm};
const FamilyDesc kInfo{
    "kvmem_domain_cgroup_info",
    "The VM's memory cgroup: its path in the hierarchy (as /proc/PID/cgroup names it) and the cgroup version (1 or 2).",
    kGauge,
    {"domain", "uuid", "path", "version"}};

const FamilyDesc* const kAll[] = {&kPressure, &kMemory, &kUsage, &kSwap, &kZswap, &kZswapped, &kRefaults, &kInfo};

void Emit(MetricSink& out, const virt::DomainSample& d, const procfs::CgroupLocation& where,
          const procfs::CgroupMemory& m) {
  const std::string& n = d.name;
  const std::string& u = d.uuid;
  out.Add(kInfo, {n, u, where.path, std::to_string(where.version)}, 1);
  if (m.pressure && m.pressure->some)
    out.Add(kPressure, {n, u, "some"}, static_cast<double>(m.pressure->some->total_us) / 1e6);
  if (m.pressure && m.pressure->full)
    out.Add(kPressure, {n, u, "full"}, static_cast<double>(m.pressure->full->total_us) / 1e6);
  out.Add(kMemory, {n, u, "anon"}, m.anon_bytes);
  out.Add(kMemory, {n, u, "file"}, m.file_bytes);
  out.Add(kUsage, {n, u}, m.current_bytes);
  out.Add(kSwap, {n, u}, m.swap_bytes);
  out.Add(kZswap, {n, u}, m.zswap_bytes);
  out.Add(kZswapped, {n, u}, m.zswapped_bytes);
  if (where.version == 2) out.Add(kRefaults, {n, u}, m.RefaultPages());
}

}  // namespace

std::vector<const FamilyDesc*> DomainCgroupFamilies() { return {std::begin(kAll), std::end(kAll)}; }

void AddDomainCgroups(MetricSink& out, const std::vector<virt::DomainSample>& domains, std::set<std::string>& logged) {
  std::map<std::string, int> users;  // cgroup dir -> VMs whose QEMU is in it
  for (const auto& d : domains) {
    if (d.placement.cgroup) ++users[d.placement.cgroup->dir];
  }
  for (const auto& d : domains) {
    const auto& where = d.placement.cgroup;
    if (!where) continue;
    if (std::string why = procfs::NotOwnCgroup(*where, users[where->dir]); !why.empty()) {
      if (logged.insert(d.uuid + '\n' + why).second) {
        log::Info("no per-VM cgroup metrics: the cgroup is not the VM's own",
                  {{"domain", d.name}, {"uuid", d.uuid}, {"reason", why}, {"cgroup", where->dir}});
      }
      continue;
    }
    if (d.placement.cgroup_memory) Emit(out, d, *where, *d.placement.cgroup_memory);
  }
}

}  // namespace kvmem::collectors
