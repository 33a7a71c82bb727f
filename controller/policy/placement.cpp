// placement.vcpus and placement.memory.
#include "controller/policy/placement.h"

#include <algorithm>
#include <string>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::FormatBytes;
using model::FormatNumber;
using model::FormatSeconds;

// The key with the largest value; ties go to the lower node id.
template <class Map>
int Largest(const Map& m) {
  auto it = std::max_element(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return it == m.end() ? -1 : it->first;
}

uint64_t Sum(const std::map<int, uint64_t>& m) {
  uint64_t s = 0;
  for (const auto& [k, v] : m) s = model::SatAdd(s, v);
  return s;
}

struct Candidate {
  const model::VmObservation* vm;
  double locality;
  model::Duration held;
};

// Why the previous move still holds the next one back, or "".
std::string RateGate(const Cycle& c) {
  const auto& s = c.state().placement;
  if (!s.last_move) return {};
  const auto& p = c.policy().placement;
  const model::Duration paid = std::chrono::duration_cast<model::Duration>(
      std::chrono::duration<double>(model::AsDouble(s.last_move_bytes) / p.max_bytes_per_second));
  const model::TimePoint until = *s.last_move + std::max(paid, c.policy().interval);
  if (until <= c.now()) return {};
  return "the last move copied " + FormatBytes(s.last_move_bytes) + "; next move in " + FormatSeconds(until - c.now()) +
         " (max_bytes_per_second " + FormatBytes(p.max_bytes_per_second) + "/s)";
}

std::string CooldownGate(const Cycle& c, const std::string& uuid) {
  auto it = c.state().placement_moves.find(uuid);
  if (it == c.state().placement_moves.end()) return {};
  const model::TimePoint until = it->second + c.policy().placement.cooldown;
  return until > c.now() ? "cooldown " + FormatSeconds(until - c.now()) + " left" : std::string();
}

// Plans the cheaper move for one VM, or records why none fits. True when an action was added.
bool PlanMove(Cycle& c, const Candidate& cand) {
  const auto& p = c.policy().placement;
  const model::VmObservation& vm = *cand.vm;
  const std::string subject = VmSubject(vm);
  const uint64_t total = Sum(vm.memory_per_node);
  const int mem_node = Largest(vm.memory_per_node);
  const int cpu_node = Largest(vm.vcpus_per_node);
  const auto share = [&](int node) {
    auto it = vm.memory_per_node.find(node);
    return it == vm.memory_per_node.end() || total == 0 ? 0.0 : model::AsDouble(it->second) / model::AsDouble(total);
  };
  std::string why = "locality " + FormatNumber(cand.locality) + " < locality_below " + FormatNumber(p.locality_below) +
                    " for " + FormatSeconds(cand.held) + "; " + FormatBytes(vm.memory_per_node.at(mem_node)) + " of " +
                    FormatBytes(total) + " on node " + std::to_string(mem_node) + ", most vCPUs on node " +
                    std::to_string(cpu_node);
  const std::vector<std::pair<std::string, double>> observed = {{"locality_ratio", cand.locality},
                                                                {"memory_node", mem_node},
                                                                {"vcpu_node", cpu_node},
                                                                {"resident_bytes", model::AsDouble(total)}};

  // Option 1: vCPUs to the memory. Free, and enough when that node holds locality_below of it.
  const auto* mnode = c.obs().FindNode(mem_node);
  const bool can_pin = mnode != nullptr && mnode->has_cpus && mem_node != cpu_node;
  const double pin_after = share(mem_node);
  // Option 2: memory to the vCPUs. Copies what is elsewhere; the target must keep its
  // available memory above the balloon reclaim threshold afterwards.
  const uint64_t copy =
      model::SatSub(total, vm.memory_per_node.contains(cpu_node) ? vm.memory_per_node.at(cpu_node) : 0);
  std::string no_migrate;
  const auto* cnode = c.obs().FindNode(cpu_node);
  if (vm.HugepageBacked()) {
    no_migrate = "its memory is hugetlb-backed, which migrate_pages does not move";
  } else if (!vm.qemu_pid) {
    no_migrate = "its QEMU process is unknown";
  } else if (cnode == nullptr || !cnode->has_memory) {
    no_migrate = "node " + std::to_string(cpu_node) + " has no memory";
  } else {
    const uint64_t keep = BandOf(*cnode, c.policy().balloon).reclaim_below;
    if (model::SatSub(cnode->available_bytes, copy) < keep) {
      no_migrate = "node " + std::to_string(cpu_node) + " has " + FormatBytes(cnode->available_bytes) +
                   " available; moving " + FormatBytes(copy) + " would leave less than reclaim_below " +
                   FormatBytes(keep);
    }
  }

  if (can_pin && (pin_after >= p.locality_below || !no_migrate.empty()) && pin_after > cand.locality) {
    if (!c.HasActionSlot(subject)) return false;
    std::string text = why + "; pinning vCPUs to node " + std::to_string(mem_node) +
                       " copies nothing and gives locality " + FormatNumber(pin_after);
    if (pin_after < p.locality_below) text += " (memory cannot move: " + no_migrate + ")";
    c.Add(model::PinVcpus{RefOf(vm),
                          mem_node,
                          cand.locality,
                          {"placement.vcpus", "placement.locality_below", p.locality_below, observed, text}});
    return true;
  }
  if (no_migrate.empty() && copy > 0) {
    if (!c.HasActionSlot(subject)) return false;
    std::string text = why + "; migrating " + FormatBytes(copy) + " to node " + std::to_string(cpu_node) +
                       (can_pin ? " (pinning vCPUs to node " + std::to_string(mem_node) + " would only reach " +
                                      FormatNumber(pin_after) + ")"
                                : std::string(" (node ") + std::to_string(mem_node) + " has no CPUs to pin to)");
    c.Add(model::MigrateMemory{RefOf(vm),
                               *vm.qemu_pid,
                               cpu_node,
                               copy,
                               cand.locality,
                               {"placement.memory", "placement.locality_below", p.locality_below, observed, text}});
    return true;
  }
  c.AddSkip(subject, "placement.memory",
            why + "; no move helps: " +
                (no_migrate.empty() ? std::string("nothing to migrate") : "memory cannot move (" + no_migrate + ")") +
                (can_pin ? "" : ", and vCPUs cannot move to node " + std::to_string(mem_node)));
  return false;
}

}  // namespace

void PlanPlacement(Cycle& c) {
  const auto& p = c.policy().placement;
  if (!p.enabled) return;
  const Window& w = c.window();
  std::vector<Candidate> ready;
  for (const auto& vm : c.obs().vms) {
    if (!vm.running) continue;
    const auto ratio = vm.LocalityRatio();
    if (!ratio || *ratio >= p.locality_below) continue;
    const std::string subject = VmSubject(vm);
    const std::string low = "locality " + FormatNumber(*ratio) + " < locality_below " + FormatNumber(p.locality_below);
    // Pins the controller set itself show in the live XML too: only the others are the admin's.
    if (vm.placement_fixed && !c.state().placement_moves.contains(vm.uuid)) {
      c.AddSkip(subject, "placement.vcpus",
                low + "; placement is fixed by the domain XML (vcpupin or strict numatune)");
      continue;
    }
    const auto held = w.HeldFor([&](size_t j) {
      const auto* v = w.FindVm(j, vm.uuid);
      const auto r = v != nullptr && v->running ? v->LocalityRatio() : std::nullopt;
      return r && *r < p.locality_below;
    });
    if (!held || *held < p.sustain_for) {
      c.AddSkip(subject, "placement.vcpus",
                low + " for " + FormatSeconds(held.value_or(model::Duration{0})) + " (for " +
                    FormatSeconds(p.sustain_for) + ")");
      continue;
    }
    if (auto gate = CooldownGate(c, vm.uuid); !gate.empty()) {
      c.AddSkip(subject, "placement.vcpus", low + "; " + gate);
      continue;
    }
    if (c.Touched(vm.uuid)) {
      c.AddSkip(subject, "placement.vcpus", low + "; another action changes this VM this cycle");
      continue;
    }
    ready.push_back({&vm, *ratio, *held});
  }
  if (ready.empty()) return;
  if (auto gate = RateGate(c); !gate.empty()) {
    for (const auto& r : ready) c.AddSkip(VmSubject(*r.vm), "placement.vcpus", gate);
    return;
  }
  // The worst-placed VM first; ties go to the name.
  std::stable_sort(ready.begin(), ready.end(), [](const Candidate& a, const Candidate& b) {
    return a.locality != b.locality ? a.locality < b.locality : a.vm->name < b.vm->name;
  });
  for (size_t i = 0; i < ready.size(); ++i) {
    if (PlanMove(c, ready[i])) {
      for (size_t j = i + 1; j < ready.size(); ++j) {
        c.AddSkip(VmSubject(*ready[j].vm), "placement.vcpus",
                  "one VM moves at a time: " + ready[i].vm->name + " goes first");
      }
      return;
    }
  }
}

}  // namespace kvmem::policy
