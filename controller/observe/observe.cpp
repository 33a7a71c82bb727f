// Host and VM observation: procfs and a libvirt snapshot into model types.
#include "controller/observe/observe.h"

#include <algorithm>

#include "controller/observe/cgroups.h"
#include "controller/observe/ksm.h"
#include "host/procfs/buddyinfo.h"
#include "host/procfs/hugepages.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/node.h"
#include "host/procfs/psi.h"
#include "host/procfs/read.h"

namespace kvmem::observe {

Result<model::Observation> ObserveHost(const procfs::Root& root, model::TimePoint now, procfs::KsmdCpu* ksmd) {
  procfs::ReadScope scope;
  model::Observation obs;
  obs.time = now;
  obs.default_hugepage_bytes = DefaultHugepageBytes(root);
  auto nodes = procfs::ListNodes(root);
  if (!nodes) return tl::unexpected(nodes.error());
  if (nodes->empty()) {
    return Fail(ErrorKind::kNotFound, "no NUMA nodes under " + root.Sys("devices/system/node"));
  }
  const unsigned order = procfs::ThpOrder(root);
  std::map<int, procfs::ContigInfo> contig;
  if (auto zones = procfs::ReadBuddyinfo(root)) contig = procfs::NodeContigInfo(*zones, order);
  for (int id : *nodes) {
    auto mi = procfs::ReadNodeMeminfo(root, id);
    if (!mi) return tl::unexpected(mi.error());
    auto pools = procfs::ReadNodeHugepages(root, id);
    if (!pools) return tl::unexpected(pools.error());
    model::NodeObservation n;
    n.id = id;
    n.total_bytes = mi->Get("MemTotal").value_or(0);
    n.free_bytes = mi->Get("MemFree").value_or(0);
    n.available_bytes = procfs::NodeAvailableBytes(*mi, *pools).value_or(0);
    n.has_memory = n.total_bytes > 0;
    for (const auto& p : *pools) n.hugepages.push_back({p.page_bytes, p.total, p.free, p.surplus});
    if (auto cpus = procfs::ReadNodeCpus(root, id)) n.has_cpus = !cpus->empty();
    if (auto it = contig.find(id); it != contig.end()) {
      n.fragmentation_index = procfs::FragmentationIndex(it->second, order);
      n.unusable_ratio = procfs::UnusableIndex(it->second, order);
    }
    obs.nodes.push_back(n);
  }
  // Reserved pages are known host-wide only; without them the pool manager could release
  // pages a mapping is about to fault in, so a malformed file fails the cycle like the pools.
  auto global = procfs::ReadGlobalHugepages(root);
  if (!global) return tl::unexpected(global.error());
  for (const auto& p : *global) {
    if (p.reserved) obs.hugepages_reserved_pages[p.page_bytes] = *p.reserved;
  }
  if (auto psi = procfs::ReadMemoryPressure(root); psi && psi->some) obs.psi_some_avg10 = psi->some->avg10;
  if (auto vm = procfs::ReadVmstat(root)) {
    if (auto v = vm->Get("thp_fault_fallback"); v && *v >= 0) obs.thp_fault_fallback_total = static_cast<uint64_t>(*v);
  }
  obs.swap = ObserveSwap(root);
  obs.ksm = ObserveKsm(root, ksmd);
  obs.cpus = OnlineCpus(root);
  return obs;
}

uint64_t DefaultHugepageBytes(const procfs::Root& root) {
  auto mi = procfs::ReadMeminfo(root);
  if (!mi) return kFallbackHugepageBytes;
  auto bytes = mi->Get("Hugepagesize");  // "2048 kB", already in bytes
  return bytes && *bytes > 0 ? *bytes : kFallbackHugepageBytes;
}

bool PlacementFixed(const virt::DomainXml& xml) {
  // Pins kvmem_controller set (and marked in the live metadata) are not the administrator's.
  if ((xml.vcpupin || xml.emulatorpin) && !xml.kvmem_pinned_node) return true;
  if (!xml.vcpu_cpuset.empty()) return true;
  if (xml.numatune_mode == "strict" && !xml.numatune_nodeset.empty()) return true;
  return std::any_of(xml.memnodes.begin(), xml.memnodes.end(),
                     [](const virt::MemNode& m) { return m.mode == "strict" && !m.nodeset.empty(); });
}

namespace {

// The host node backing a virtio-mem device: the numatune nodeset when it names one node,
// else the node holding most of the VM's memory, else node 0.
int DeviceHostNode(const virt::DomainSample& d) {
  const auto& nodeset = d.xml.numatune_nodeset;
  if (!nodeset.empty() && nodeset.find_first_of(",-") == std::string::npos) {
    try {
      return std::stoi(nodeset);
    } catch (...) {
    }
  }
  const auto& resident = d.placement.resident_bytes;
  auto most = std::max_element(resident.begin(), resident.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return most == resident.end() ? 0 : most->first;
}

}  // namespace

std::vector<model::VmObservation> VmsFromSnapshot(const virt::Snapshot& snapshot, model::TimePoint now,
                                                  std::chrono::system_clock::time_point wall_now,
                                                  std::chrono::milliseconds max_age, uint64_t default_hugepage_bytes) {
  std::vector<model::VmObservation> out;
  for (const auto& d : snapshot.domains) {
    model::VmObservation vm;
    vm.name = d.name;
    vm.uuid = d.uuid;
    bool fresh = snapshot.up && wall_now - d.sampled_at <= max_age;
    vm.running = d.id >= 0 && fresh && d.balloon_current_bytes.has_value();
    // Sizes include plugged virtio-mem memory, as libvirt's balloon.current does. The balloon
    // can give back at most base RAM (<memory> minus the virtio-mem devices' sizes) plus what
    // is plugged now.
    uint64_t vmem_size = 0, vmem_plugged = 0;
    for (const auto& m : d.xml.virtio_mem) {
      vmem_size += m.size_bytes;
      vmem_plugged += m.current_bytes.value_or(m.requested_bytes);
    }
    uint64_t maximum = d.balloon_maximum_bytes.value_or(d.xml.memory_bytes.value_or(0));
    vm.balloon_current_bytes = d.balloon_current_bytes.value_or(0);
    vm.balloon_maximum_bytes = maximum > vmem_size ? maximum - vmem_size + vmem_plugged : maximum;
    vm.guest_available_bytes = d.stats.available_bytes;
    vm.guest_usable_bytes = d.stats.usable_bytes;
    vm.guest_unused_bytes = d.stats.unused_bytes;
    if (d.stats.last_update) {
      auto stamp = std::chrono::system_clock::time_point(std::chrono::seconds(*d.stats.last_update));
      vm.guest_stats_time = now - std::chrono::duration_cast<model::Duration>(wall_now - stamp);
    }
    vm.swap_in_bytes_total = d.stats.swap_in_bytes;
    vm.major_faults_total = d.stats.major_faults;
    vm.min_guarantee_bytes = d.xml.min_guarantee_bytes;
    vm.memory_per_node = d.placement.resident_bytes;
    for (const auto& m : d.xml.virtio_mem) {
      vm.virtio_mem.push_back({m.alias, DeviceHostNode(d), m.size_bytes, m.block_bytes, m.requested_bytes,
                               m.current_bytes.value_or(m.requested_bytes)});
    }
    vm.stopped = !d.active;
    vm.autostart = d.autostart;
    vm.hugepage_demand = HugepageDemand(d.xml, default_hugepage_bytes);
    vm.vcpus_per_node = d.placement.vcpus_per_node;
    vm.qemu_pid = d.placement.qemu_pid;
    vm.placement_fixed = PlacementFixed(d.xml);
    vm.priority = d.xml.kvmem_priority.value_or(0);
    vm.nosharepages = d.xml.nosharepages;
    out.push_back(std::move(vm));
  }
  return out;
}

}  // namespace kvmem::observe
