// The plant: ledger, delayed actuation, demand and OOM, guest statistics, observations.
#include "bench/sim/plant.h"

#include <algorithm>
#include <cmath>

#include "controller/model/units.h"

namespace kvmem::sim {
namespace {

constexpr const char* kDeviceAlias = "vmem0";

uint64_t Bytes(double v) { return model::ToBytes(std::floor(v)); }

// The VM's balloon split over node indexes by its residency weights, in whole bytes: every
// weighted node but the last gets its rounded-down share, the last gets the remainder.
std::vector<uint64_t> Split(uint64_t bytes, const VmSpec& spec, size_t nodes) {
  std::vector<double> w(nodes, 0.0);
  for (const auto& [node, weight] : spec.residency) w[static_cast<size_t>(node)] = weight;
  double sum = 0;
  for (double x : w) sum += x;
  if (sum <= 0) {
    std::fill(w.begin(), w.end(), 1.0);
    sum = static_cast<double>(nodes);
  }
  size_t last = 0;
  for (size_t i = 0; i < nodes; ++i) {
    if (w[i] > 0) last = i;
  }
  std::vector<uint64_t> out(nodes, 0);
  uint64_t left = bytes;
  for (size_t i = 0; i < nodes; ++i) {
    if (w[i] <= 0) continue;
    const uint64_t part = i == last ? left : std::min(left, Bytes(model::AsDouble(bytes) * w[i] / sum));
    out[i] = part;
    left -= part;
  }
  return out;
}

}  // namespace

Plant::Plant(const Scenario& scenario) : scenario_(scenario) {
  for (const auto& n : scenario_.nodes) {
    const uint64_t host = Bytes(n.host.At(Duration{0}));
    nodes_.push_back({n.id, n.total, host, static_cast<int64_t>(n.total) - static_cast<int64_t>(host)});
  }
  for (const auto& spec : scenario_.vms) {
    VmState vm;
    vm.spec = &spec;
    vm.uuid = "uuid-" + spec.name;
    vm.balloon = spec.balloon;
    if (spec.virtio_mem) vm.vmem_requested = vm.vmem_plugged = spec.virtio_mem->plugged;
    vm.resident.assign(nodes_.size(), 0);
    Place(vm);
    UpdateDemand(vm);
    RefreshStats(vm);
    vm.next_stats = spec.stats_phase.count() > 0 ? spec.stats_phase : spec.stats_period;
    vms_.push_back(std::move(vm));
  }
  if (scenario_.ksm) {
    ksm_.knobs = {scenario_.ksm->run, scenario_.ksm->pages_to_scan, scenario_.ksm->sleep_millisecs};
  }
}

uint64_t Plant::Resident(size_t n) const {
  uint64_t sum = 0;
  for (const auto& vm : vms_) sum += vm.resident[n];
  return sum;
}

void Plant::Place(VmState& vm) {
  std::vector<uint64_t> want = Split(vm.balloon, *vm.spec, nodes_.size());
  if (vm.spec->virtio_mem) want[static_cast<size_t>(vm.spec->virtio_mem->node)] += vm.vmem_plugged;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].free -= static_cast<int64_t>(want[i]) - static_cast<int64_t>(vm.resident[i]);
    vm.resident[i] = want[i];
  }
}

void Plant::UpdateDemand(VmState& vm) {
  vm.demand = vm.spec->demand.At(now_);
  const bool oom = vm.demand > model::AsDouble(vm.Memory());
  if (oom && !vm.oom) ++vm.oom_events;
  vm.oom = oom;
}

void Plant::RefreshStats(VmState& vm) {
  bool missing = false;
  if (scenario_.InOutage(vm.spec->name, now_, &missing)) {
    if (missing) vm.stats.reset();
    return;  // stale: the old report stays, with its old time
  }
  const uint64_t memory = vm.Memory();
  const uint64_t used = std::min(memory, Bytes(vm.demand));  // an OOM guest runs capped
  // No page cache in this model: what is not used is both usable and unused.
  vm.stats = GuestStats{memory, memory - used, memory - used, now_};
}

void Plant::Advance(Duration now) {
  const Duration dt = std::max(now, now_) - now_;
  now_ = std::max(now_, now);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const uint64_t host = Bytes(scenario_.nodes[i].host.At(now_));
    nodes_[i].free -= static_cast<int64_t>(host) - static_cast<int64_t>(nodes_[i].host);
    nodes_[i].host = host;
  }
  for (auto& vm : vms_) {
    if (vm.pending_balloon && vm.pending_balloon_due <= now_) {
      vm.balloon = *vm.pending_balloon;
      vm.pending_balloon.reset();
      Place(vm);
    }
    if (vm.pending_vmem && vm.pending_vmem_due <= now_) {
      vm.vmem_plugged = *vm.pending_vmem;
      vm.pending_vmem.reset();
      Place(vm);
    }
    UpdateDemand(vm);
    if (vm.next_stats <= now_) {
      RefreshStats(vm);
      while (vm.next_stats <= now_) vm.next_stats += vm.spec->stats_period;
    }
  }
  AdvanceDensity(dt);
}

bool Plant::Submit(const model::Action& action, Duration due) {
  auto find = [&](const std::string& uuid) -> VmState* {
    for (auto& vm : vms_) {
      if (vm.uuid == uuid) return &vm;
    }
    return nullptr;
  };
  if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
    VmState* vm = find(b->vm.uuid);
    if (vm == nullptr) return false;
    // The target covers the whole guest; the balloon holds what virtio-mem does not.
    vm->pending_balloon = std::min(model::SatSub(b->to_bytes, vm->vmem_plugged), vm->spec->max);
    vm->pending_balloon_due = due;
    return true;
  }
  if (const auto* r = std::get_if<model::ResizeVirtioMem>(&action)) {
    VmState* vm = find(r->vm.uuid);
    if (vm == nullptr || !vm->spec->virtio_mem) return false;
    const auto& dev = *vm->spec->virtio_mem;
    vm->vmem_requested = model::AlignDown(std::min(r->to_requested_bytes, dev.size), dev.block);
    vm->pending_vmem = vm->vmem_requested;
    vm->pending_vmem_due = due;
    return true;
  }
  return std::holds_alternative<model::CompactNode>(action) || SubmitDensity(action);
}

model::Observation Plant::Observe() const {
  model::Observation obs;
  obs.time = model::TimePoint{now_};
  for (const auto& n : nodes_) {
    model::NodeObservation node;
    node.id = n.id;
    node.total_bytes = n.total;
    node.available_bytes = node.free_bytes = static_cast<uint64_t>(std::max<int64_t>(n.free, 0));
    obs.nodes.push_back(node);  // no fragmentation index: the simulator does not model compaction
  }
  for (const auto& vm : vms_) {
    model::VmObservation v;
    v.name = vm.spec->name;
    v.uuid = vm.uuid;
    v.running = true;
    v.priority = vm.spec->priority;
    v.balloon_current_bytes = vm.Memory();
    // What ballooning alone can reach: plugged virtio-mem is on top of the boot memory.
    v.balloon_maximum_bytes = vm.spec->max + vm.vmem_plugged;
    if (vm.stats) {
      v.guest_available_bytes = vm.stats->available;
      v.guest_usable_bytes = vm.stats->usable;
      v.guest_unused_bytes = vm.stats->unused;
      v.guest_stats_time = model::TimePoint{vm.stats->time};
    }
    if (vm.spec->min > 0) v.min_guarantee_bytes = vm.spec->min;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (vm.resident[i] > 0) v.memory_per_node[nodes_[i].id] = vm.resident[i];
    }
    if (const auto& d = vm.spec->virtio_mem) {
      v.virtio_mem.push_back({kDeviceAlias, d->node, d->size, d->block, vm.vmem_requested, vm.vmem_plugged});
    }
    v.nosharepages = vm.spec->nosharepages;
    obs.vms.push_back(std::move(v));
  }
  obs.cpus = scenario_.cpus;
  ObserveDensity(obs);
  return obs;
}

}  // namespace kvmem::sim
