// hugepages.grow and hugepages.reclaim.
#include "controller/policy/hugepages.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/compaction.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::FormatBytes;
using model::FormatNumber;
using model::FormatSeconds;

constexpr uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : a / b + (a % b != 0 ? 1 : 0); }

struct PoolNeed {
  uint64_t demand_pages = 0;       // autostart VMs not running yet
  bool used_by_vms = false;        // a hugepage-backed VM runs or will start here
  std::vector<std::string> names;  // the VMs behind demand_pages, for the reason text
};

std::map<PoolKey, PoolNeed> NeedsOf(const model::Observation& obs) {
  std::map<PoolKey, PoolNeed> out;
  for (const auto& vm : obs.vms) {
    const bool future = vm.stopped && vm.autostart && !vm.running;
    if (!vm.running && !future) continue;
    for (const auto& d : vm.hugepage_demand) {
      if (d.node < 0 || d.page_bytes == 0) continue;
      PoolNeed& need = out[{d.node, d.page_bytes}];
      need.used_by_vms = true;
      if (!future) continue;
      need.demand_pages = model::SatAdd(need.demand_pages, CeilDiv(d.bytes, d.page_bytes));
      if (std::find(need.names.begin(), need.names.end(), vm.name) == need.names.end()) {
        need.names.push_back(vm.name);
      }
    }
  }
  return out;
}

// What one pool needs and has, in pages.
struct Balance {
  uint64_t demand = 0;
  uint64_t headroom = 0;
  uint64_t reserved = 0;  // host-wide, of this size
  uint64_t usable = 0;    // free minus reserved
  uint64_t NeededPages() const { return model::SatAdd(demand, headroom); }
  uint64_t Shortfall() const { return model::SatSub(NeededPages(), usable); }
  uint64_t Excess() const { return model::SatSub(usable, NeededPages()); }
};

Balance BalanceOf(const model::Observation& obs, const model::HugepagePool& pool, const PoolNeed& need,
                  const model::HugepagePolicy& p) {
  Balance b;
  b.demand = need.demand_pages;
  const bool headroom_here = need.used_by_vms || pool.page_bytes == obs.default_hugepage_bytes;
  b.headroom = headroom_here ? CeilDiv(p.headroom, pool.page_bytes) : 0;
  auto it = obs.hugepages_reserved_pages.find(pool.page_bytes);
  b.reserved = it == obs.hugepages_reserved_pages.end() ? 0 : it->second;
  b.usable = model::SatSub(pool.free_pages, b.reserved);
  return b;
}

std::string PoolSubject(int node, uint64_t page_bytes) {
  return NodeSubject(node) + " " + FormatBytes(page_bytes) + " pages";
}

std::string Pages(uint64_t n) { return std::to_string(n) + (n == 1 ? " page" : " pages"); }

// "usable 12 free pages (20 free - 8 reserved) < 512 needed (demand 512 for db-1, db-2 + headroom 0)"
std::string Describe(const Balance& b, const PoolNeed& need, const char* relation) {
  std::string s = "usable " + Pages(b.usable);
  if (b.reserved > 0) s += " (free minus " + std::to_string(b.reserved) + " reserved host-wide)";
  s += std::string(" ") + relation + " " + std::to_string(b.NeededPages()) + " needed (demand " +
       std::to_string(b.demand);
  if (!need.names.empty()) {
    s += " for ";
    for (size_t i = 0; i < need.names.size() && i < 3; ++i) s += (i ? ", " : "") + need.names[i];
    if (need.names.size() > 3) s += " and " + std::to_string(need.names.size() - 3) + " more";
  }
  return s + " + headroom " + std::to_string(b.headroom) + ")";
}

model::Reason MakeReason(std::string rule, std::string threshold, double threshold_value,
                         const model::NodeObservation& node, const model::HugepagePool& pool, const Balance& b,
                         std::string text) {
  return model::Reason{std::move(rule),
                       std::move(threshold),
                       threshold_value,
                       {{"free_pages", model::AsDouble(pool.free_pages)},
                        {"reserved_pages", model::AsDouble(b.reserved)},
                        {"demand_pages", model::AsDouble(b.demand)},
                        {"headroom_pages", model::AsDouble(b.headroom)},
                        {"fragmentation_index", node.fragmentation_index.value_or(-1)}},
                       std::move(text)};
}

// Why an earlier resize of this pool still holds the next one back, or "".
std::string RetryGate(const Cycle& c, PoolKey key) {
  auto it = c.state().pools.find(key);
  if (it == c.state().pools.end() || !it->second.fell_short || !it->second.last_attempt) return {};
  const model::TimePoint until = *it->second.last_attempt + c.policy().hugepages.retry_after;
  if (until <= c.now()) return {};
  const auto& s = it->second;
  return "the last resize to " + Pages(s.asked_pages) + " obtained " +
         (s.obtained_pages ? std::to_string(*s.obtained_pages) : std::string("?")) + "; retrying in " +
         FormatSeconds(until - c.now()) + " (retry_after " + FormatSeconds(c.policy().hugepages.retry_after) + ")";
}

void PlanGrow(Cycle& c, const model::NodeObservation& node, const model::HugepagePool& pool, const Balance& b,
              const PoolNeed& need) {
  const auto& p = c.policy().hugepages;
  const std::string subject = PoolSubject(node.id, pool.page_bytes);
  const std::string why = Describe(b, need, "<");
  if (auto gate = RetryGate(c, {node.id, pool.page_bytes}); !gate.empty()) {
    c.AddSkip(subject, "hugepages.grow", why + "; " + gate);
    return;
  }
  // Memory outside every pool must stay at or above min_normal_memory.
  const uint64_t normal = model::SatSub(node.total_bytes, node.HugepageBytes());
  const uint64_t floor = p.min_normal_memory.Resolve(node.total_bytes);
  const uint64_t room = model::SatSub(normal, floor) / pool.page_bytes;
  const uint64_t max_step = std::max<uint64_t>(1, p.max_step / pool.page_bytes);
  const uint64_t step = std::min({b.Shortfall(), max_step, room});
  if (step == 0) {
    c.AddSkip(subject, "hugepages.grow",
              why + "; min_normal_memory " + DescribeThreshold(p.min_normal_memory, floor) + ": only " +
                  FormatBytes(normal) + " of the node is outside hugepage pools");
    return;
  }
  std::string text = "node " + std::to_string(node.id) + " " + FormatBytes(pool.page_bytes) + " pool: " + why +
                     "; growing " + std::to_string(pool.total_pages) + " -> " +
                     std::to_string(pool.total_pages + step) + " pages";
  if (step < b.Shortfall()) {
    text += step == room ? " (min_normal_memory " + DescribeThreshold(p.min_normal_memory, floor) + " caps it)"
                         : " (max_step " + FormatBytes(p.max_step) + " per cycle)";
  }
  // Compact first when free memory is too fragmented for this page's order. 1 GiB pages are
  // beyond the buddy allocator's largest order: the kernel migrates pages itself for those.
  const auto& k = c.policy().compaction;
  bool compact = false;
  if (pool.page_bytes < model::kGiB && node.fragmentation_index && *node.fragmentation_index > k.compact_above) {
    const std::string gate = k.enabled ? CompactionGate(c, node) : std::string("compaction.enabled is false");
    compact = gate.empty();
    text += compact ? "; compacting the node first: fragmentation index " + FormatNumber(*node.fragmentation_index) +
                          " > compact_above " + FormatNumber(k.compact_above)
                    : "; not compacting first (" + gate + ")";
  }
  if (!c.HasActionSlot(subject, compact ? 2 : 1)) return;
  model::Reason reason =
      MakeReason("hugepages.grow", "hugepages.headroom", model::AsDouble(p.headroom), node, pool, b, text);
  if (compact) {
    model::Reason first = reason;
    first.threshold = "compaction.compact_above";
    first.threshold_value = k.compact_above;
    c.Add(model::CompactNode{node.id, node.fragmentation_index, std::move(first)});
  }
  c.Add(model::ResizeHugepagePool{node.id, pool.page_bytes, pool.total_pages, pool.total_pages + step,
                                  std::move(reason)});
}

void PlanReclaim(Cycle& c, const model::NodeObservation& node, const model::HugepagePool& pool, const Balance& b,
                 const PoolNeed& need) {
  const auto& p = c.policy().hugepages;
  const std::string subject = PoolSubject(node.id, pool.page_bytes);
  const std::string why = Describe(b, need, ">");
  const Window& w = c.window();
  const auto held = w.HeldFor([&](size_t j) {
    const model::Observation& o = w.at(j);
    const auto* n = o.FindNode(node.id);
    const auto* pj = n ? n->FindPool(pool.page_bytes) : nullptr;
    if (pj == nullptr) return false;
    const auto needs = NeedsOf(o);
    auto it = needs.find({node.id, pool.page_bytes});
    return BalanceOf(o, *pj, it == needs.end() ? PoolNeed{} : it->second, p).Excess() > 0;
  });
  if (!held || *held < p.reclaim_after) {
    c.AddSkip(subject, "hugepages.reclaim",
              why + " for " + FormatSeconds(held.value_or(model::Duration{0})) + " (reclaim_after " +
                  FormatSeconds(p.reclaim_after) + ")");
    return;
  }
  if (!c.HasActionSlot(subject)) return;
  const uint64_t step = std::min(b.Excess(), std::max<uint64_t>(1, p.max_step / pool.page_bytes));
  std::string text = "node " + std::to_string(node.id) + " " + FormatBytes(pool.page_bytes) + " pool: " + why +
                     " for " + FormatSeconds(*held) + " (reclaim_after " + FormatSeconds(p.reclaim_after) +
                     "); releasing " + Pages(step) + ", " + std::to_string(pool.total_pages) + " -> " +
                     std::to_string(pool.total_pages - step) + " (pages in use stay)";
  c.Add(model::ResizeHugepagePool{node.id, pool.page_bytes, pool.total_pages, pool.total_pages - step,
                                  MakeReason("hugepages.reclaim", "hugepages.reclaim_after",
                                             model::Seconds(p.reclaim_after), node, pool, b, std::move(text))});
}

}  // namespace

void PlanHugepages(Cycle& c) {
  const auto& p = c.policy().hugepages;
  if (!p.enabled) return;
  const model::Observation& obs = c.obs();
  const auto needs = NeedsOf(obs);
  for (const auto& vm : obs.vms) {
    if (!(vm.stopped && vm.autostart)) continue;
    for (const auto& d : vm.hugepage_demand) {
      if (d.node >= 0) continue;
      c.AddSkip(VmSubject(vm), "hugepages.grow",
                FormatBytes(d.bytes) + " of " + FormatBytes(d.page_bytes) +
                    " pages not pinned to a host node; pin its memory with <numatune> to have them reserved ahead");
    }
  }
  for (const auto& [key, need] : needs) {
    if (need.demand_pages == 0) continue;
    const auto* node = obs.FindNode(key.first);
    if (node == nullptr || node->FindPool(key.second) == nullptr) {
      c.AddSkip(PoolSubject(key.first, key.second), "hugepages.grow",
                node == nullptr ? "the host has no node " + std::to_string(key.first)
                                : "the kernel offers no " + FormatBytes(key.second) + " pages on this node");
    }
  }
  for (const auto& node : obs.nodes) {
    if (!node.has_memory || node.total_bytes == 0) continue;
    for (const auto& pool : node.hugepages) {
      if (pool.page_bytes == 0) continue;
      auto it = needs.find({node.id, pool.page_bytes});
      const PoolNeed& need = it == needs.end() ? PoolNeed{} : it->second;
      const Balance b = BalanceOf(obs, pool, need, p);
      model::PoolTarget t{node.id, pool.page_bytes, b.demand, pool.total_pages, pool.total_pages, b.Shortfall()};
      if (b.Shortfall() > 0) {
        t.target_pages = model::SatAdd(pool.total_pages, b.Shortfall());
        PlanGrow(c, node, pool, b, need);
      } else if (p.reclaim && b.Excess() > 0) {
        t.target_pages = pool.total_pages - b.Excess();
        PlanReclaim(c, node, pool, b, need);
      }
      if (t.demand_pages > 0 || t.total_pages > 0 || t.target_pages > 0) c.AddPoolTarget(t);
    }
  }
}

}  // namespace kvmem::policy
