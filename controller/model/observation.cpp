// Observation look-ups, shares and ToString.
#include "controller/model/observation.h"

#include <algorithm>

#include "controller/model/units.h"

namespace kvmem::model {
namespace {

std::string OptBytes(const std::optional<uint64_t>& v) { return v ? FormatBytes(*v) : "?"; }

}  // namespace

const NodeObservation* Observation::FindNode(int id) const {
  auto it = std::find_if(nodes.begin(), nodes.end(), [id](const auto& n) { return n.id == id; });
  return it == nodes.end() ? nullptr : &*it;
}

const VmObservation* Observation::FindVm(std::string_view uuid) const {
  auto it = std::find_if(vms.begin(), vms.end(), [uuid](const auto& v) { return v.uuid == uuid; });
  return it == vms.end() ? nullptr : &*it;
}

const HugepagePool* NodeObservation::FindPool(uint64_t page_bytes) const {
  auto it = std::find_if(hugepages.begin(), hugepages.end(),
                         [page_bytes](const auto& p) { return p.page_bytes == page_bytes; });
  return it == hugepages.end() ? nullptr : &*it;
}

uint64_t NodeObservation::HugepageBytes() const {
  uint64_t sum = 0;
  for (const auto& p : hugepages) sum = SatAdd(sum, SatMul(p.total_pages, p.page_bytes));
  return sum;
}

std::optional<double> VmObservation::LocalityRatio() const {
  if (memory_per_node.empty() || vcpus_per_node.empty()) return std::nullopt;
  uint64_t total = 0, local = 0;
  for (const auto& [node, bytes] : memory_per_node) {
    total = SatAdd(total, bytes);
    auto it = vcpus_per_node.find(node);
    if (it != vcpus_per_node.end() && it->second > 0) local = SatAdd(local, bytes);
  }
  if (total == 0) return std::nullopt;
  return AsDouble(local) / AsDouble(total);
}

std::optional<Duration> StatsAge(const VmObservation& vm, TimePoint now) {
  if (!vm.guest_stats_time || !vm.guest_available_bytes || !vm.guest_usable_bytes) return std::nullopt;
  return std::max(Duration{0}, now - *vm.guest_stats_time);
}

double NodeShare(const VmObservation& vm, int node, const Observation& obs) {
  uint64_t sum = 0;
  for (const auto& [id, bytes] : vm.memory_per_node) sum = SatAdd(sum, bytes);
  if (sum > 0) {
    auto it = vm.memory_per_node.find(node);
    return it == vm.memory_per_node.end() ? 0.0 : AsDouble(it->second) / AsDouble(sum);
  }
  // Unknown residency: an even split over nodes that can hold memory.
  size_t with_memory = 0;
  bool listed = false;
  for (const auto& n : obs.nodes) {
    if (!n.has_memory || n.total_bytes == 0) continue;
    ++with_memory;
    listed = listed || n.id == node;
  }
  return listed ? 1.0 / static_cast<double>(with_memory) : 0.0;
}

std::string ToString(const NodeObservation& n) {
  std::string s = "node " + std::to_string(n.id) + ": total " + FormatBytes(n.total_bytes) + ", available " +
                  FormatBytes(n.available_bytes) + ", free " + FormatBytes(n.free_bytes);
  s += ", fragmentation " + (n.fragmentation_index ? FormatNumber(*n.fragmentation_index) : std::string("?"));
  for (const auto& p : n.hugepages) {
    if (p.total_pages == 0) continue;
    s += ", " + FormatBytes(p.page_bytes) + " pages " + std::to_string(p.free_pages) + "/" +
         std::to_string(p.total_pages) + " free";
  }
  if (!n.has_memory) s += " (no memory)";
  if (!n.has_cpus) s += " (no cpus)";
  return s;
}

std::string ToString(const VirtioMemDevice& d) {
  return "virtio-mem " + d.alias + " on node " + std::to_string(d.node) + ": requested " +
         FormatBytes(d.requested_bytes) + ", current " + FormatBytes(d.current_bytes) + ", size " +
         FormatBytes(d.size_bytes) + ", block " + FormatBytes(d.block_bytes);
}

std::string ToString(const VmObservation& vm) {
  std::string s = "vm " + vm.name + " (" + vm.uuid + ")" + (vm.running ? "" : " not running") + ": balloon " +
                  FormatBytes(vm.balloon_current_bytes) + " of " + FormatBytes(vm.balloon_maximum_bytes) +
                  ", guest available " + OptBytes(vm.guest_available_bytes) + ", usable " +
                  OptBytes(vm.guest_usable_bytes) + ", unused " + OptBytes(vm.guest_unused_bytes);
  s += vm.guest_stats_time ? ", stats at " + FormatTime(*vm.guest_stats_time) : ", stats time ?";
  if (!vm.memory_per_node.empty()) {
    s += ", on";
    for (const auto& [node, bytes] : vm.memory_per_node) s += " node" + std::to_string(node) + "=" + FormatBytes(bytes);
  }
  for (const auto& d : vm.virtio_mem) s += "; " + ToString(d);
  return s;
}

std::string ToString(const Observation& obs) {
  std::string s = "observation at " + FormatTime(obs.time) + ": " + std::to_string(obs.nodes.size()) + " nodes, " +
                  std::to_string(obs.vms.size()) + " vms, psi some avg10 " +
                  (obs.psi_some_avg10 ? FormatPercent(*obs.psi_some_avg10) : std::string("?")) + ", thp fallbacks " +
                  (obs.thp_fault_fallback_total ? std::to_string(*obs.thp_fault_fallback_total) : std::string("?"));
  for (const auto& n : obs.nodes) s += "\n  " + ToString(n);
  for (const auto& v : obs.vms) s += "\n  " + ToString(v);
  return s;
}

}  // namespace kvmem::model
