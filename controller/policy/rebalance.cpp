// balloon.rebalance: a VM under pressure whose nodes have no headroom above release_above (the
// dead band) takes memory from VMs on the same nodes that can spare it, in the same plan: the
// donors' shrinks first, then the grow, which together leave every node where it was. Owns the
// drafting: which donors, how much each gives, and the largest grow they can cover.
#include "controller/policy/rebalance.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/balloon_candidates.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::AsDouble;
using model::FormatBytes;
using model::kMiB;

constexpr const char* kRebalance = "balloon.rebalance";

// Below this a node's remaining need is rounding noise from shares, not memory.
constexpr double kCoveredBytes = 4096;

// The share of its balloon a guest has usable after a rebalance, on both sides: donors are never
// shrunk below it, recipients are grown to it. At least usable_below_ratio, so that a rebalance
// neither puts a donor under pressure nor leaves its recipient there (no ping-pong).
double KeepUsable(const model::BalloonPolicy& p) {
  return std::clamp(std::max(p.min_free_ratio, p.pressure.usable_below_ratio), 0.0, 0.99);
}

struct Donor {
  const model::VmObservation* vm;
  uint64_t usable;
  uint64_t floor;
  uint64_t cap;         // the most it may give this cycle, MiB-aligned, >= min_step; 0 when blocked
  std::string blocker;  // why it cannot give, or empty
};

Donor DonorOf(const Cycle& c, const model::VmObservation& vm) {
  const auto& policy = c.policy().balloon;
  Donor d{&vm, vm.guest_usable_bytes.value_or(0), Floor(vm, policy), 0, {}};
  if (auto blind = BlindReason(vm, c.now(), c.policy().stale_after)) {
    d.blocker = *blind;
    return d;
  }
  const Pressure p = PressureAt(c.window(), c.window().LatestIndex(), vm.uuid, policy.pressure);
  if (p.under) {
    d.blocker = "under pressure: " + p.why;
    return d;
  }
  const auto cool = c.BalloonCooldownLeft(vm.uuid);
  if (cool > model::Duration{0}) {
    d.blocker = "cooldown " + model::FormatSeconds(cool) + " left";
    return d;
  }
  // Giving x leaves (usable - x) / (current - x) of the balloon usable: keep that at KeepUsable.
  const double t = KeepUsable(policy);
  const uint64_t current = vm.balloon_current_bytes;
  const uint64_t by_usable = model::ToBytes((AsDouble(d.usable) - t * AsDouble(current)) / (1.0 - t));
  const uint64_t by_floor = model::SatSub(current, d.floor);
  d.cap = model::AlignDown(std::min({by_usable, by_floor, policy.max_step}), kMiB);
  if (d.cap < policy.min_step) {
    d.cap = 0;
    d.blocker = by_floor <= by_usable
                    ? "floor reached: current " + FormatBytes(current) + ", floor " + FormatBytes(d.floor)
                    : "usable " + FormatBytes(d.usable) + " of " + FormatBytes(current) +
                          " leaves nothing to give above " + model::FormatPercent(t);
  }
  return d;
}

struct RecipientNode {
  const model::NodeObservation* node;
  double share;  // the recipient's share of its memory on this node
};

// What one attempt to cover a grow of `grow` bytes found.
struct Draft {
  uint64_t grow = 0;
  std::vector<std::pair<const Donor*, uint64_t>> gives;  // in the order chosen
  std::vector<const Donor*> passed;                      // blocked donors met before the need was met
  bool covered = false;
  double coverage = 0;  // the smallest share of a node's need that the donors cover
  uint64_t bytes = 0;   // what the plan moves: the grow plus every give
};

// Per node the recipient sits on, its part of the grow not covered by the node's own headroom
// above release_above is covered by donors on that node, those with the most usable memory there
// (usable x share) first. A donor frees memory on every node it sits on.
Draft CoverGrowWithDonors(const Cycle& c, const std::vector<RecipientNode>& nodes, const std::vector<Donor>& donors,
                          uint64_t grow, size_t slots) {
  const auto& policy = c.policy().balloon;
  Draft d;
  d.grow = grow;
  std::vector<double> need(nodes.size()), initial(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const double want = AsDouble(grow) * nodes[i].share;
    initial[i] = need[i] = want - std::min(AsDouble(c.Headroom(*nodes[i].node, false)), want);
  }
  std::vector<size_t> order(nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return need[a] != need[b] ? need[a] > need[b] : nodes[a].node->id < nodes[b].node->id;
  });
  std::set<const Donor*> used;
  for (size_t i : order) {
    const int id = nodes[i].node->id;
    std::vector<std::pair<const Donor*, double>> ranked;  // donor, its share on this node
    for (const Donor& k : donors) {
      const double share = NodeShare(*k.vm, id, c.obs());
      if (share > 0) ranked.emplace_back(&k, share);
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      if (a.first->vm->priority != b.first->vm->priority) return a.first->vm->priority < b.first->vm->priority;
      const double ra = AsDouble(a.first->usable) * a.second, rb = AsDouble(b.first->usable) * b.second;
      return ra != rb ? ra > rb : a.first->vm->uuid < b.first->vm->uuid;
    });
    for (const auto& [k, share] : ranked) {
      if (need[i] <= kCoveredBytes || d.gives.size() >= slots) break;
      if (used.contains(k)) continue;
      if (!k->blocker.empty()) {
        if (std::find(d.passed.begin(), d.passed.end(), k) == d.passed.end()) d.passed.push_back(k);
        continue;
      }
      const uint64_t want = model::AlignUp(model::ToBytesCeil(need[i] / share), kMiB);
      const uint64_t give = std::min(std::max(want, policy.min_step), k->cap);
      d.gives.emplace_back(k, give);
      used.insert(k);
      for (size_t j = 0; j < nodes.size(); ++j) {
        need[j] -= AsDouble(give) * NodeShare(*k->vm, nodes[j].node->id, c.obs());
      }
    }
  }
  d.covered = true;
  d.coverage = 1;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (need[i] > kCoveredBytes) d.covered = false;
    if (initial[i] > kCoveredBytes) {
      d.coverage = std::min(d.coverage, (initial[i] - std::max(need[i], 0.0)) / initial[i]);
    }
  }
  d.bytes = grow;
  for (const auto& [k, give] : d.gives) d.bytes = model::SatAdd(d.bytes, give);
  return d;
}

// The largest grow, from `grow` down, that donors can cover within the cycle's action slots and
// bytes. A Draft with grow == 0 when not even min_step can be covered; `by_bytes` then says
// whether the bytes budget was what stopped it.
Draft LargestCoveredGrow(const Cycle& c, const std::vector<RecipientNode>& nodes, const std::vector<Donor>& donors,
                         uint64_t grow, bool& by_bytes) {
  const auto& policy = c.policy().balloon;
  const size_t slots = static_cast<size_t>(std::max(c.ActionsLeft() - 1, 0));
  by_bytes = false;
  std::vector<const Donor*> first_passed;
  for (int attempt = 0; attempt < 8 && grow >= policy.min_step; ++attempt) {
    Draft d = CoverGrowWithDonors(c, nodes, donors, grow, slots);
    if (attempt == 0) first_passed = d.passed;
    const bool fits = d.bytes <= c.BytesLeft();
    if (d.covered && fits) return d;
    double f = d.covered ? 1.0 : d.coverage;
    if (!fits) f = std::min(f, AsDouble(c.BytesLeft()) / AsDouble(d.bytes));
    by_bytes = !fits && d.covered;
    const uint64_t next = model::AlignDown(model::ToBytes(AsDouble(grow) * f), kMiB);
    grow = next < grow ? next : grow - kMiB;
  }
  Draft none;
  none.passed = std::move(first_passed);
  return none;
}

// "node 0 available 9.6 GiB, headroom 0 B above release_above 12.8 GiB (20%)", per node.
std::string NodesText(const Cycle& c, const std::vector<RecipientNode>& nodes) {
  std::string s;
  for (const auto& n : nodes) {
    const NodeBand band = BandOf(*n.node, c.policy().balloon);
    s += (s.empty() ? "" : "; ") + std::string("node ") + std::to_string(n.node->id) + " available " +
         FormatBytes(n.node->available_bytes) + ", headroom " + FormatBytes(c.Headroom(*n.node, false)) +
         " above release_above " + DescribeThreshold(c.policy().balloon.release_above, band.release_above);
  }
  return s;
}

// What the recipient needs to have KeepUsable of its balloon usable again; max_step when the
// pressure comes from swap-in or major faults, which say nothing about how much is missing.
uint64_t RecipientShortfall(const Cycle& c, const model::VmObservation& vm, const Pressure& p) {
  const auto& policy = c.policy().balloon;
  if (!vm.guest_usable_bytes || p.usable_ratio >= policy.pressure.usable_below_ratio) return policy.max_step;
  const double t = KeepUsable(policy);
  const uint64_t need =
      model::ToBytesCeil((t * AsDouble(vm.balloon_current_bytes) - AsDouble(*vm.guest_usable_bytes)) / (1.0 - t));
  return model::AlignUp(std::max(need, policy.min_step), kMiB);
}

// The nodes the recipient sits on, or nullopt (with the skip recorded) when one of them is in
// reclaim: taking from VMs there would fight reclaim for the same memory.
std::optional<std::vector<RecipientNode>> RecipientNodes(Cycle& c, const model::VmObservation& vm, const Pressure& p) {
  const auto& policy = c.policy().balloon;
  std::vector<RecipientNode> nodes;
  for (const auto& n : c.obs().nodes) {
    const double share = NodeShare(vm, n.id, c.obs());
    if (!n.has_memory || n.total_bytes == 0 || share <= 0) continue;
    const NodeBand band = BandOf(n, policy);
    if (band.band == model::Band::kReclaim) {
      c.AddSkip(VmSubject(vm), kRebalance,
                "under pressure (" + p.why + ") but node " + std::to_string(n.id) + " is in reclaim (available " +
                    FormatBytes(n.available_bytes) + " < reclaim_below " +
                    DescribeThreshold(policy.reclaim_below, band.reclaim_below) + "): reclaim comes first");
      return std::nullopt;
    }
    nodes.push_back({&n, share});
  }
  return nodes;
}

// Every other running VM, not yet touched this cycle, with memory on one of the recipient's nodes.
std::vector<Donor> DonorsNear(const Cycle& c, const model::VmObservation& vm, const std::vector<RecipientNode>& nodes) {
  std::vector<Donor> donors;
  for (const auto& other : c.obs().vms) {
    if (&other == &vm || !other.running || c.Touched(other.uuid)) continue;
    if (other.priority > vm.priority) continue;  // a VM never gives to one of lower priority
    bool near = false;
    for (const auto& n : nodes) near = near || NodeShare(other, n.node->id, c.obs()) > 0;
    if (near) donors.push_back(DonorOf(c, other));
  }
  return donors;
}

// The donors' shrinks, then the recipient's grow: in this order so that the actuator frees the
// memory before the grow asks for it.
void AddRebalanceActions(Cycle& c, const model::VmObservation& vm, const Pressure& p,
                         const std::vector<RecipientNode>& nodes, const Draft& d, const std::string& where) {
  const std::string head = "vm " + vm.name + " " + p.why + "; " + where;
  std::string from;
  for (const auto& [k, give] : d.gives) {
    from += (from.empty() ? "" : ", ") + k->vm->name + " " + FormatBytes(give);
  }
  for (const auto& [k, give] : d.gives) {
    const auto& donor = *k->vm;
    model::SetBalloon a{RefOf(donor),
                        donor.balloon_current_bytes,
                        donor.balloon_current_bytes - give,
                        {},
                        donor.VirtioMemPluggedBytes()};
    a.reason = {kRebalance,
                p.threshold,
                p.threshold_value,
                {{"recipient_guest_usable_ratio", p.usable_ratio},
                 {"recipient_swap_in_bytes_per_second", p.swap_in_rate},
                 {"recipient_major_faults_per_second", p.major_fault_rate},
                 {"guest_usable_bytes", AsDouble(k->usable)},
                 {"floor_bytes", AsDouble(k->floor)}},
                head + "; donor " + donor.name + " usable " + FormatBytes(k->usable) + ", floor " +
                    FormatBytes(k->floor) + ", gives " + FormatBytes(give) + " to " + vm.name};
    c.Add(std::move(a));
  }
  model::SetBalloon a{
      RefOf(vm), vm.balloon_current_bytes, vm.balloon_current_bytes + d.grow, {}, vm.VirtioMemPluggedBytes()};
  a.reason = {
      kRebalance,
      p.threshold,
      p.threshold_value,
      {{"guest_usable_ratio", p.usable_ratio},
       {"swap_in_bytes_per_second", p.swap_in_rate},
       {"major_faults_per_second", p.major_fault_rate},
       {"available_bytes", AsDouble(nodes[0].node->available_bytes)},
       {"donors", static_cast<double>(d.gives.size())}},
      head + "; +" + FormatBytes(d.grow) + " from " + from + ", maximum " + FormatBytes(vm.balloon_maximum_bytes)};
  c.Add(std::move(a));
}

// False when the cycle's limits are used up: no later recipient can be served either.
bool RebalanceVm(Cycle& c, const model::VmObservation& vm, const Pressure& p) {
  const auto& policy = c.policy().balloon;
  const std::string subject = VmSubject(vm);
  const auto recipient_nodes = RecipientNodes(c, vm, p);
  if (!recipient_nodes || recipient_nodes->empty()) return true;
  const std::vector<RecipientNode>& nodes = *recipient_nodes;
  const auto cool = c.BalloonCooldownLeft(vm.uuid);
  if (cool > model::Duration{0}) {
    c.AddSkip(subject, kRebalance, "cooldown " + model::FormatSeconds(cool) + " left");
    return true;
  }
  if (!c.HasActionSlot(subject, 2)) return false;  // at least one donor and the recipient
  if (c.BytesLeft() < 2 * policy.min_step) {
    c.AddSkip(subject, "limits", c.BytesLimitText());
    return false;
  }

  const std::vector<Donor> donors = DonorsNear(c, vm, nodes);
  const uint64_t to_max = model::SatSub(vm.balloon_maximum_bytes, vm.balloon_current_bytes);
  const uint64_t want = model::AlignDown(std::min({policy.max_step, to_max, RecipientShortfall(c, vm, p)}), kMiB);
  bool by_bytes = false;
  const Draft d = LargestCoveredGrow(c, nodes, donors, want, by_bytes);
  for (const Donor* k : d.passed) c.AddSkip(VmSubject(*k->vm), kRebalance, k->blocker);
  const std::string where = NodesText(c, nodes);
  if (d.grow == 0) {
    if (by_bytes) {
      c.AddSkip(subject, "limits", c.BytesLimitText());
      return false;
    }
    c.AddSkip(subject, kRebalance,
              "under pressure (" + p.why + ") and no headroom above release_above, but no other VM on " +
                  (nodes.size() == 1 ? "node " + std::to_string(nodes[0].node->id) : std::string("its nodes")) +
                  " can give now");
    return true;
  }
  AddRebalanceActions(c, vm, p, nodes, d, where);
  return true;
}

}  // namespace

void PlanRebalance(Cycle& c) {
  const auto& policy = c.policy().balloon;
  if (!policy.enabled) return;
  std::vector<BalloonCandidate> cands;
  for (const auto& vm : c.obs().vms) {
    if (!vm.running || c.Touched(vm.uuid)) continue;
    Pressure p = PressureAt(c.window(), c.window().LatestIndex(), vm.uuid, policy.pressure);
    if (!p.under) continue;
    // At its maximum: virtio-mem's job (release says so). With headroom: release's job.
    if (model::SatAdd(vm.balloon_current_bytes, policy.min_step) > vm.balloon_maximum_bytes) continue;
    if (GrowRoom(c, vm) >= policy.min_step) continue;
    cands.push_back({&vm, 0, p.usable_ratio, p});
  }
  std::stable_sort(cands.begin(), cands.end(), NeediestFirst);
  for (const BalloonCandidate& k : cands) {
    if (!RebalanceVm(c, *k.vm, k.pressure)) return;
  }
}

}  // namespace kvmem::policy
