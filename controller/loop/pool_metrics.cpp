// Hugepage pool and placement metrics.
#include "controller/loop/pool_metrics.h"

namespace kvmem::loop {
namespace {

using prometheus::MetricType;
const FamilyDesc kTarget{"kvmem_controller_hugepage_pool_target_pages",
                         "Pool size the hugepage pool manager wants for the node and page size (size in bytes): demand "
                         "+ headroom + pages in use.",
                         MetricType::Gauge,
                         {"node", "size"}};
const FamilyDesc kShortfall{"kvmem_controller_hugepage_pool_shortfall_pages",
                            "Free pages missing for demand + headroom on the node, as of the last cycle.",
                            MetricType::Gauge,
                            {"node", "size"}};
const FamilyDesc kDemand{"kvmem_controller_hugepage_pool_demand_pages",
                         "Pages that shut-off autostart VMs pinned to the node will take when they start.",
                         MetricType::Gauge,
                         {"node", "size"}};
const FamilyDesc kObtained{"kvmem_controller_hugepage_pool_obtained_pages",
                           "Pool size read back after the controller's last resize of it.",
                           MetricType::Gauge,
                           {"node", "size"}};
const FamilyDesc kFailures{
    "kvmem_controller_hugepage_reservation_failures_total",
    "Pool growths that obtained fewer pages than asked, by cause (fragmented, no_memory, error).",
    MetricType::Counter,
    {"node", "size", "cause"}};
const FamilyDesc kCompactions{"kvmem_controller_hugepage_compactions_total",
                              "Compactions the pool manager ran on the node before reserving on it.",
                              MetricType::Counter,
                              {"node"}};
const FamilyDesc kWrites{"kvmem_controller_hugepage_pool_writes_total",
                         "Hugepage pool resizes the controller wrote, by method: libvirt (virNodeAllocPages) or sysfs "
                         "(nodeN/hugepages/hugepages-<kB>kB/nr_hugepages).",
                         MetricType::Counter,
                         {"method"}};
const FamilyDesc kMoves{"kvmem_controller_placement_moves_total",
                        "Placement moves applied (or recorded in dry-run), by kind: vcpus (pinned to the memory) or "
                        "memory (migrated to the vCPUs).",
                        MetricType::Counter,
                        {"kind"}};
const FamilyDesc kMigrated{"kvmem_controller_placement_migrated_bytes_total",
                           "Bytes of VM memory the controller migrated between nodes.",
                           MetricType::Counter,
                           {}};
const FamilyDesc kLocality{
    "kvmem_controller_placement_locality_ratio",
    "The VM's locality ratio before and after its last placement move (after: as measured by the actuator).",
    MetricType::Gauge,
    {"domain", "uuid", "when"}};

std::string Node(int n) { return std::to_string(n); }
std::string Size(uint64_t b) { return std::to_string(b); }

}  // namespace

void PoolPlacementMetrics::Update(const model::Plan& plan, const policy::ControllerState& state) {
  std::lock_guard lock(mutex_);
  pools_ = plan.pools;
  shortfalls_ = state.pool_shortfalls_total;
}

void PoolPlacementMetrics::Record(const model::Action& action, const model::Outcome& outcome) {
  std::lock_guard lock(mutex_);
  if (!outcome.method.empty()) ++writes_[outcome.method];
  if (const auto* h = std::get_if<model::ResizeHugepagePool>(&action)) {
    if (outcome.pages_obtained) obtained_[{h->node, h->page_bytes}] = *outcome.pages_obtained;
    return;
  }
  if (const auto* c = std::get_if<model::CompactNode>(&action)) {
    if (c->reason.rule == "hugepages.grow") ++compactions_[c->node];
    return;
  }
  if (!outcome.ok) return;
  const auto* pin = std::get_if<model::PinVcpus>(&action);
  const auto* mig = std::get_if<model::MigrateMemory>(&action);
  if (pin == nullptr && mig == nullptr) return;
  ++moves_[pin ? "vcpus" : "memory"];
  if (mig) migrated_bytes_ += outcome.bytes_migrated.value_or(0);
  const model::VmRef& vm = pin ? pin->vm : mig->vm;
  locality_[{vm.name, vm.uuid}] = {pin ? pin->locality_before : mig->locality_before, outcome.locality_after};
}

std::vector<const FamilyDesc*> PoolPlacementMetrics::Families() {
  return {&kTarget,      &kShortfall, &kDemand, &kObtained, &kFailures,
          &kCompactions, &kWrites,    &kMoves,  &kMigrated, &kLocality};
}

void PoolPlacementMetrics::Collect(MetricSink& out) const {
  std::lock_guard lock(mutex_);
  for (const auto& p : pools_) {
    out.Add(kTarget, {Node(p.node), Size(p.page_bytes)}, static_cast<double>(p.target_pages));
    out.Add(kShortfall, {Node(p.node), Size(p.page_bytes)}, static_cast<double>(p.shortfall_pages));
    out.Add(kDemand, {Node(p.node), Size(p.page_bytes)}, static_cast<double>(p.demand_pages));
  }
  for (const auto& [k, n] : obtained_) out.Add(kObtained, {Node(k.first), Size(k.second)}, static_cast<double>(n));
  for (const auto& [k, n] : shortfalls_) {
    out.Add(kFailures, {Node(std::get<0>(k)), Size(std::get<1>(k)), std::get<2>(k)}, static_cast<double>(n));
  }
  for (const auto& [node, n] : compactions_) out.Add(kCompactions, {Node(node)}, static_cast<double>(n));
  for (const char* method : {"libvirt", "sysfs"}) {
    auto it = writes_.find(method);
    out.Add(kWrites, {method}, it == writes_.end() ? 0.0 : static_cast<double>(it->second));
  }
  for (const char* kind : {"vcpus", "memory"}) {
    auto it = moves_.find(kind);
    out.Add(kMoves, {kind}, it == moves_.end() ? 0.0 : static_cast<double>(it->second));
  }
  out.Add(kMigrated, {}, static_cast<double>(migrated_bytes_));
  for (const auto& [vm, l] : locality_) {
    out.Add(kLocality, {vm.first, vm.second, "before"}, l.first);
    if (l.second) out.Add(kLocality, {vm.first, vm.second, "after"}, *l.second);
  }
}

}  // namespace kvmem::loop
