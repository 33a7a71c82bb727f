// Compressed offload decisions.
#include "controller/policy/offload.h"

#include <algorithm>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::FormatBytes;
using model::FormatPercent;

constexpr const char* kProactive = "offload.proactive";

bool Excluded(const model::VmObservation& vm, const model::OffloadPolicy& p) {
  return std::any_of(p.exclude.begin(), p.exclude.end(),
                     [&](const std::string& e) { return e == vm.name || e == vm.uuid; });
}

uint64_t OffloadedBytes(const model::VmCgroup& cg) {
  return std::max(cg.swap_bytes.value_or(0), cg.zswapped_bytes.value_or(0));
}

// Why this VM cannot be offloaded at all, whatever its rates; "" when it can.
std::string Ineligible(const Cycle& c, const model::VmObservation& vm) {
  const model::OffloadPolicy& p = c.policy().offload;
  if (Excluded(vm, p)) return "excluded by offload.exclude";
  if (!vm.cgroup) return "no cgroup of its own known (QEMU not found, its cgroup shared or gone: VM stopped?)";
  if (vm.cgroup->version != 2) return "cgroup v1 has no memory.reclaim";
  if (vm.HugepageBacked()) return "hugetlb pages are never swapped";
  if (vm.cgroup->ResidentBytes() == 0) return "resident memory unknown (memory.stat without anon and file)";
  return {};
}

// The worst ladder stage among the nodes the VM's memory is on (every node when unknown).
model::Stage VmStage(const Cycle& c, const model::VmObservation& vm) {
  if (vm.memory_per_node.empty()) return c.DeepestStage();
  model::Stage s = model::Stage::kCalm;
  for (const auto& [node, bytes] : vm.memory_per_node) {
    if (bytes > 0) s = std::max(s, c.StageOf(node));
  }
  return s;
}

std::string RatesText(const OffloadRates& r) {
  return "PSI some " + FormatPercent(r.psi_ratio) + ", refault " + FormatPercent(r.refault_ratio) + "/min";
}

// Plans the step of a VM that passed every guard, or records why there is none.
void PlanStep(Cycle& c, const model::VmObservation& vm, const OffloadRates& rates) {
  const model::OffloadPolicy& p = c.policy().offload;
  const model::VmCgroup& cg = *vm.cgroup;
  const uint64_t resident = cg.ResidentBytes();
  const uint64_t offloaded = OffloadedBytes(cg);
  const uint64_t page = std::max<uint64_t>(cg.page_bytes, 1);
  const uint64_t cap = model::ToBytes(p.max_ratio * model::AsDouble(resident + offloaded));
  if (offloaded + page > cap) {
    c.AddSkip(VmSubject(vm), kProactive,
              "offloaded " + FormatBytes(offloaded) + " reached max_ratio " + FormatPercent(p.max_ratio) + " of " +
                  FormatBytes(resident + offloaded));
    return;
  }
  const model::Stage stage = VmStage(c, vm);
  const bool ladder = stage >= model::Stage::kOffload;
  const double ratio = p.step_ratio * (ladder ? kLadderStepFactor : 1.0);
  uint64_t bytes = std::min(model::ToBytes(ratio * model::AsDouble(resident)), cap - offloaded);
  bytes -= bytes % page;
  if (bytes == 0) {
    c.AddSkip(VmSubject(vm), kProactive, "step below one page (resident " + FormatBytes(resident) + ")");
    return;
  }
  if (c.Touched(vm.uuid)) {
    c.AddSkip(VmSubject(vm), kProactive, "already changed this cycle");
    return;
  }
  if (!c.HasActionSlot(VmSubject(vm))) return;
  const std::string rule = ladder ? "offload.ladder" : kProactive;
  model::Reason reason(rule, "offload.step_ratio", ratio,
                       {{"psi_some_ratio", rates.psi_ratio},
                        {"refault_ratio_per_minute", rates.refault_ratio},
                        {"resident_bytes", model::AsDouble(resident)},
                        {"offloaded_bytes", model::AsDouble(offloaded)}},
                       RatesText(rates) + " within guards; step " + FormatPercent(ratio) + " of resident " +
                           FormatBytes(resident) + ", offloaded " + FormatBytes(offloaded),
                       stage);
  c.Add(model::ReclaimVmMemory{RefOf(vm), cg.path, bytes, std::move(reason)});
}

void PlanVm(Cycle& c, const model::VmObservation& vm) {
  const model::OffloadPolicy& p = c.policy().offload;
  if (std::string why = Ineligible(c, vm); !why.empty()) {
    c.AddSkip(VmSubject(vm), kProactive, why);
    return;
  }
  auto rates = OffloadRatesOf(c.window(), vm, c.policy());
  if (!rates) {
    c.AddSkip(VmSubject(vm), kProactive,
              "cgroup stats do not cover step_interval " + model::FormatSeconds(p.step_interval) + " yet");
    return;
  }
  if (std::string guard = TrippedGuard(*rates, p); !guard.empty()) {
    c.AddSkip(VmSubject(vm), kProactive,
              "guard: " + guard + "; no step for backoff " + model::FormatSeconds(p.backoff));
    return;
  }
  const OffloadState* s = nullptr;
  if (auto it = c.state().offload.find(vm.uuid); it != c.state().offload.end()) s = &it->second;
  if (s && s->backoff_until && c.now() < *s->backoff_until) {
    c.AddSkip(VmSubject(vm), kProactive,
              "backoff " + model::FormatSeconds(*s->backoff_until - c.now()) + " left after guard: " + s->guard);
    return;
  }
  if (s && s->last_step && c.now() - *s->last_step < p.step_interval) {
    c.AddSkip(VmSubject(vm), kProactive,
              "next step in " + model::FormatSeconds(p.step_interval - (c.now() - *s->last_step)) + " (step_interval " +
                  model::FormatSeconds(p.step_interval) + ")");
    return;
  }
  PlanStep(c, vm, *rates);
}

}  // namespace

std::optional<OffloadRates> OffloadRatesOf(const Window& window, const model::VmObservation& vm,
                                           const model::Policy& policy) {
  if (!vm.cgroup || vm.cgroup->ResidentBytes() == 0) return std::nullopt;
  const model::Duration lookback = policy.offload.step_interval + policy.interval;
  const model::Duration min_span = policy.offload.step_interval;
  const size_t latest = window.LatestIndex();
  auto counter = [&](auto field) {
    return [&window, &vm, field](size_t j) -> std::optional<double> {
      const model::VmObservation* v = window.FindVm(j, vm.uuid);
      if (!v || !v->cgroup || v->cgroup->path != vm.cgroup->path) return std::nullopt;
      return field(*v->cgroup);
    };
  };
  auto psi = window.Rate(latest, lookback, counter([](const model::VmCgroup& cg) { return cg.psi_some_seconds_total; }),
                         min_span);
  auto refaults = window.Rate(latest, lookback, counter([](const model::VmCgroup& cg) -> std::optional<double> {
                                if (!cg.refault_pages_total) return std::nullopt;
                                return model::AsDouble(*cg.refault_pages_total);
                              }),
                              min_span);
  if (!psi || !refaults) return std::nullopt;
  const double resident = model::AsDouble(vm.cgroup->ResidentBytes());
  return OffloadRates{*psi, *refaults * model::AsDouble(vm.cgroup->page_bytes) * 60.0 / resident};
}

std::string TrippedGuard(const OffloadRates& rates, const model::OffloadPolicy& policy) {
  std::string out;
  if (rates.psi_ratio > policy.psi_target) {
    out = "PSI some " + FormatPercent(rates.psi_ratio) + " > psi_target " + FormatPercent(policy.psi_target);
  }
  if (rates.refault_ratio > policy.max_refault_ratio) {
    out += (out.empty() ? "" : " and ") + std::string("refault ") + FormatPercent(rates.refault_ratio) +
           "/min of resident > max_refault_ratio " + FormatPercent(policy.max_refault_ratio) + "/min";
  }
  return out;
}

void TrackOffload(ControllerState& state, const Window& window, const model::Policy& policy) {
  if (!policy.offload.enabled || window.empty()) return;
  const model::TimePoint now = window.Latest().time;
  for (const auto& vm : window.Latest().vms) {
    if (!vm.running || !vm.cgroup) continue;
    auto rates = OffloadRatesOf(window, vm, policy);
    if (!rates) continue;
    std::string guard = TrippedGuard(*rates, policy.offload);
    if (guard.empty()) continue;
    OffloadState& s = state.offload[vm.uuid];
    if (s.backoff_until && now < *s.backoff_until) continue;  // backing off already: the clock runs on
    s.backoff_until = now + policy.offload.backoff;
    s.guard = std::move(guard);
  }
}

// Why no VM on this host can be offloaded, or "" when some may be.
std::string HostIneligible(const Cycle& c) {
  const auto& swap = c.obs().swap;
  if (swap->total_bytes == 0) return "no swap device (zswap and zram both need one)";
  if (!swap->Compressed() && !c.policy().offload.allow_disk_swap) {
    return "swap is on disk, neither zswap nor zram, and offload.allow_disk_swap is false";
  }
  return {};
}

void PlanOffload(Cycle& c) {
  if (!c.policy().offload.enabled) return;  // like every rule that is switched off: no skip
  // No swap facts at all (an observation made without /proc/meminfo, the simulator's): the
  // lever does not exist there, so it says nothing.
  if (!c.obs().swap) return;
  if (std::string why = HostIneligible(c); !why.empty()) {
    c.AddSkip("host", kProactive, why);
    return;
  }
  for (const auto& vm : c.obs().vms) {
    if (vm.running) PlanVm(c, vm);
  }
}

}  // namespace kvmem::policy
