// Accessors and ToString for actions, skips, plans and outcomes.
#include "controller/model/action.h"

#include "controller/model/units.h"

namespace kvmem::model {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

std::string_view BandName(Band band) {
  switch (band) {
    case Band::kSteady: return "steady";
    case Band::kReclaim: return "reclaim";
    case Band::kRelease: return "release";
  }
  return "unknown";
}

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kCalm: return "calm";
    case Stage::kKsm: return "ksm";
    case Stage::kBalloon: return "balloon";
    case Stage::kOffload: return "offload";
    case Stage::kSwap: return "swap";
  }
  return "unknown";
}

const Reason& ReasonOf(const Action& action) {
  return std::visit([](const auto& a) -> const Reason& { return a.reason; }, action);
}

std::string_view ActuatorOf(const Action& action) {
  return std::visit(Overloaded{[](const SetBalloon&) { return std::string_view("balloon"); },
                               [](const ResizeVirtioMem&) { return std::string_view("virtio_mem"); },
                               [](const CompactNode&) { return std::string_view("compaction"); },
                               [](const ResizeHugepagePool&) { return std::string_view("hugepages"); },
                               [](const PinVcpus&) { return std::string_view("placement"); },
                               [](const MigrateMemory&) { return std::string_view("placement"); },
                               [](const SetKsm&) { return std::string_view("ksm"); },
                               [](const ReclaimVmMemory&) { return std::string_view("offload"); }},
                    action);
}

uint64_t BytesMoved(const Action& action) {
  auto diff = [](uint64_t a, uint64_t b) { return a > b ? a - b : b - a; };
  return std::visit(
      Overloaded{[&](const SetBalloon& a) { return diff(a.from_bytes, a.to_bytes); },
                 [&](const ResizeVirtioMem& a) { return diff(a.from_requested_bytes, a.to_requested_bytes); },
                 [](const auto&) { return uint64_t{0}; }},
      action);
}

int Direction(const Action& action) {
  auto sign = [](uint64_t from, uint64_t to) { return to < from ? -1 : to > from ? 1 : 0; };
  return std::visit(
      Overloaded{[&](const SetBalloon& a) { return sign(a.from_bytes, a.to_bytes); },
                 [&](const ResizeVirtioMem& a) { return sign(a.from_requested_bytes, a.to_requested_bytes); },
                 [](const auto&) { return 0; }},
      action);
}

std::string Summary(const Action& action) {
  return std::visit(
      Overloaded{[](const SetBalloon& a) {
                   return "balloon " + a.vm.name + ": " + FormatBytes(a.from_bytes) + " -> " + FormatBytes(a.to_bytes);
                 },
                 [](const ResizeVirtioMem& a) {
                   return "virtio-mem " + a.vm.name + "/" + a.alias + ": requested " +
                          FormatBytes(a.from_requested_bytes) + " -> " + FormatBytes(a.to_requested_bytes);
                 },
                 [](const CompactNode& a) { return "compact node " + std::to_string(a.node); },
                 [](const ResizeHugepagePool& a) {
                   return "hugepages node " + std::to_string(a.node) + " " + FormatBytes(a.page_bytes) + ": " +
                          std::to_string(a.from_pages) + " -> " + std::to_string(a.to_pages) + " pages";
                 },
                 [](const PinVcpus& a) { return "pin vcpus " + a.vm.name + " to node " + std::to_string(a.to_node); },
                 [](const MigrateMemory& a) {
                   return "migrate memory " + a.vm.name + " to node " + std::to_string(a.to_node) + " (" +
                          FormatBytes(a.bytes) + ")";
                 },
                 [](const SetKsm& a) {
                   return "ksm: run " + std::to_string(a.from.run) + " -> " + std::to_string(a.to.run) +
                          ", pages_to_scan " + std::to_string(a.from.pages_to_scan) + " -> " +
                          std::to_string(a.to.pages_to_scan) + ", sleep_millisecs " +
                          std::to_string(a.from.sleep_millisecs) + " -> " + std::to_string(a.to.sleep_millisecs);
                 },
                 [](const ReclaimVmMemory& a) { return "offload " + a.vm.name + ": reclaim " + FormatBytes(a.bytes); }},
      action);
}

std::string ToString(const Action& action) {
  const Reason& r = ReasonOf(action);
  std::string stage = r.stage ? "stage " + std::string(StageName(*r.stage)) + ", " : std::string();
  return Summary(action) + " (" + stage + r.ToString() + ")";
}

std::string ToString(const Outcome& o) {
  std::string s = o.ok ? (o.dry_run ? "dry-run" : "ok") : "failed: " + o.error;
  s += " in " + FormatSeconds(o.duration);
  if (o.index_before || o.index_after) {
    s += ", fragmentation index " + (o.index_before ? FormatNumber(*o.index_before) : std::string("?")) + " -> " +
         (o.index_after ? FormatNumber(*o.index_after) : std::string("?"));
  }
  if (o.pages_obtained) s += ", pool now " + std::to_string(*o.pages_obtained) + " pages";
  if (o.locality_after) s += ", locality after " + FormatNumber(*o.locality_after);
  if (o.bytes_migrated) s += ", migrated " + FormatBytes(*o.bytes_migrated);
  if (o.bytes_reclaimed) s += ", reclaimed " + FormatBytes(*o.bytes_reclaimed);
  return s;
}

std::string ToString(const Plan& plan) {
  std::string s =
      "plan: " + std::to_string(plan.actions.size()) + " actions, " + std::to_string(plan.skips.size()) + " skips";
  for (const auto& [node, band] : plan.bands) {
    s += "\n  node " + std::to_string(node) + " " + std::string(BandName(band));
    if (auto it = plan.stages.find(node); it != plan.stages.end()) s += ", stage " + std::string(StageName(it->second));
  }
  for (const auto& a : plan.actions) s += "\n  action " + ToString(a);
  for (const auto& k : plan.skips) s += "\n  skip " + k.ToString();
  return s;
}

}  // namespace kvmem::model
