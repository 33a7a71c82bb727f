// compaction.fragmentation and compaction.thp_fallback.
#include "controller/policy/compaction.h"

#include <algorithm>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::FormatNumber;
using model::FormatSeconds;

struct Trigger {
  const model::NodeObservation* node;
  model::Reason reason;
};

std::optional<model::Reason> Triggered(const Cycle& c, const model::NodeObservation& node,
                                       std::optional<double> thp_rate) {
  const auto& p = c.policy().compaction;
  const Window& w = c.window();
  if (node.fragmentation_index && *node.fragmentation_index > p.compact_above) {
    const auto held = w.HeldFor([&](size_t j) {
      const auto* n = w.at(j).FindNode(node.id);
      return n != nullptr && n->fragmentation_index && *n->fragmentation_index > p.compact_above;
    });
    if (held && *held >= p.sustain_for) {
      return model::Reason{
          "compaction.fragmentation",
          "compaction.compact_above",
          p.compact_above,
          {{"fragmentation_index", *node.fragmentation_index}, {"held_seconds", model::Seconds(*held)}},
          "node " + std::to_string(node.id) + " fragmentation index " + FormatNumber(*node.fragmentation_index) +
              " > compact_above " + FormatNumber(p.compact_above) + " for " + FormatSeconds(*held) + " (for " +
              FormatSeconds(p.sustain_for) + ")"};
    }
  }
  // A free huge page on the node (index -1) means its fallbacks come from elsewhere.
  const bool huge_free = node.fragmentation_index && *node.fragmentation_index < 0;
  if (thp_rate && *thp_rate > p.thp_fallback_rate_above && !huge_free) {
    return model::Reason{
        "compaction.thp_fallback",
        "compaction.thp_fallback_rate_above",
        p.thp_fallback_rate_above,
        {{"thp_fault_fallback_per_second", *thp_rate}, {"fragmentation_index", node.fragmentation_index.value_or(-1)}},
        "THP fault fallbacks " + FormatNumber(*thp_rate) + "/s > thp_fallback_rate_above " +
            FormatNumber(p.thp_fallback_rate_above) + "/s over " + FormatSeconds(p.sustain_for) + "; node " +
            std::to_string(node.id) + " fragmentation index " +
            (node.fragmentation_index ? FormatNumber(*node.fragmentation_index) : std::string("?"))};
  }
  return std::nullopt;
}

}  // namespace

std::string CompactionGate(const Cycle& c, const model::NodeObservation& node) {
  if (c.state().compacting_node) {
    return "compaction of node " + std::to_string(*c.state().compacting_node) + " still running";
  }
  if (auto planned = c.PlannedCompaction()) {
    return "one compaction per cycle: node " + std::to_string(*planned) + " goes first";
  }
  const auto& p = c.policy().compaction;
  auto it = c.state().compaction.find(node.id);
  if (it != c.state().compaction.end() && it->second.last) {
    const model::Duration cool = CompactionCooldown(p, it->second.fruitless);
    const model::TimePoint until = *it->second.last + cool;
    if (until > c.now()) {
      std::string s = "cooldown " + FormatSeconds(until - c.now()) + " left";
      if (it->second.fruitless > 0) {
        s += " (backed off to " + FormatSeconds(cool) + " after " + std::to_string(it->second.fruitless) +
             " runs without improvement)";
      }
      return s;
    }
  }
  const auto& psi = c.obs().psi_some_avg10;
  if (!psi) return "memory pressure (PSI) unknown; compacting only on a known quiet host";
  if (*psi >= p.quiet_below) {
    return "not quiet: PSI some avg10 " + model::FormatPercent(*psi) + " >= quiet_below " +
           model::FormatPercent(p.quiet_below);
  }
  return {};
}

void PlanCompaction(Cycle& c) {
  const auto& p = c.policy().compaction;
  if (!p.enabled) return;
  const Window& w = c.window();
  const auto thp_rate = w.Rate(
      w.LatestIndex(), p.sustain_for,
      [&](size_t j) -> std::optional<double> {
        const auto& v = w.at(j).thp_fault_fallback_total;
        return v ? std::optional<double>(model::AsDouble(*v)) : std::nullopt;
      },
      p.sustain_for - c.policy().interval);

  std::vector<Trigger> ready;
  for (const auto& node : c.obs().nodes) {
    if (!node.has_memory || node.total_bytes == 0) continue;
    auto reason = Triggered(c, node, thp_rate);
    if (!reason) continue;
    if (auto gate = CompactionGate(c, node); !gate.empty()) {
      c.AddSkip(NodeSubject(node.id), reason->rule, gate);
      continue;
    }
    ready.push_back({&node, std::move(*reason)});
  }
  if (ready.empty()) return;
  // The most fragmented node first; an unknown index ranks last, ties go to the lower id.
  std::stable_sort(ready.begin(), ready.end(), [](const Trigger& a, const Trigger& b) {
    const double ia = a.node->fragmentation_index.value_or(-2), ib = b.node->fragmentation_index.value_or(-2);
    return ia != ib ? ia > ib : a.node->id < b.node->id;
  });
  for (size_t i = 1; i < ready.size(); ++i) {
    c.AddSkip(NodeSubject(ready[i].node->id), ready[i].reason.rule,
              "one compaction per cycle: node " + std::to_string(ready[0].node->id) + " goes first");
  }
  if (!c.HasActionSlot(NodeSubject(ready[0].node->id))) return;
  c.Add(model::CompactNode{ready[0].node->id, ready[0].node->fragmentation_index, std::move(ready[0].reason)});
}

}  // namespace kvmem::policy
