// Recorder: per-tick sampling and per-action counting.
#include "bench/sim/metrics.h"

#include <algorithm>

#include "controller/model/units.h"

namespace kvmem::sim {

using model::AsDouble;

void Recorder::Sample(const Plant& plant, Duration dt) {
  const Duration now = plant.now();
  // OOM edges are tracked from the start, so an OOM that began in the warm-up is not counted
  // again as a new event when the measurement starts.
  bool oom = false;
  for (const auto& vm : plant.vms()) {
    NoteOom(vm, now, dt);
    oom = oom || vm.oom;
  }
  if (before_.empty()) before_.assign(plant.nodes().size(), 0.0);
  bool pressure = false;
  for (size_t i = 0; i < plant.nodes().size(); ++i) {
    const NodeState& n = plant.nodes()[i];
    const double total = AsDouble(n.total);
    const double free = static_cast<double>(n.free);
    if (now < sc_.disturbance) before_[i] = free;  // ends as the last value before it
    if (now < sc_.warmup) continue;
    m_.min_free_ratio = std::min(m_.min_free_ratio, free / total);
    if (free < sc_.band_low * total) pressure = true;
    if (now < sc_.disturbance) continue;
    // Memory taken from guests beyond both the band and what the node had free before.
    double held = 0;
    for (const auto& vm : plant.vms()) {
      uint64_t mine = 0;
      for (uint64_t r : vm.resident) mine += r;
      if (mine == 0) continue;
      held += AsDouble(vm.spec->max - std::min(vm.spec->max, vm.balloon)) * AsDouble(vm.resident[i]) / AsDouble(mine);
    }
    const double above = free - std::max(sc_.band_high * total, before_[i]);
    m_.overshoot_bytes = std::max(m_.overshoot_bytes, std::min(above, held));
  }
  NoteDensity(plant, dt);
  if (now < sc_.warmup) return;
  if (pressure) m_.pressure_seconds += model::Seconds(dt);
  if (now < sc_.disturbance) return;
  both_.Note(!pressure && !oom, now, dt);
  host_.Note(!pressure, now, dt);
  oom_.Note(!oom, now, dt);
}

void Recorder::NoteOom(const VmState& vm, Duration now, Duration dt) {
  bool& was = was_oom_[vm.uuid];
  const uint64_t memory = vm.Memory();
  auto last = last_memory_.find(vm.uuid);
  const bool shrunk = last != last_memory_.end() && memory < last->second;
  last_memory_[vm.uuid] = memory;
  if (vm.oom && !was) {
    const Duration before = now > vm.spec->stats_period ? now - vm.spec->stats_period : Duration{0};
    const bool unwarned = vm.spec->demand.At(before) <= (1 - kUnwarnedFreeRatio) * AsDouble(memory);
    unpreventable_[vm.uuid] = !shrunk && unwarned;
    if (now >= sc_.warmup) {
      ++m_.oom_events;
      if (unpreventable_[vm.uuid]) ++m_.oom_unpreventable;
    }
  }
  was = vm.oom;
  if (!vm.oom || now < sc_.warmup) return;
  m_.oom_vm_seconds += model::Seconds(dt);
  if (!unpreventable_[vm.uuid]) m_.oom_caused_vm_seconds += model::Seconds(dt);
}

void Recorder::NoteDensity(const Plant& plant, Duration dt) {
  const Duration now = plant.now();
  if (!sc_.ksm && !sc_.offload) return;
  if (refaults_at_minute_.empty()) refaults_at_minute_.assign(plant.vms().size(), 0.0);
  if (now >= next_minute_) {  // one whole minute of refaults per VM, against its resident bytes
    for (size_t i = 0; i < plant.vms().size(); ++i) {
      const VmState& vm = plant.vms()[i];
      const double resident = AsDouble(vm.Memory()) - vm.Offloaded();
      const double bytes = (vm.refault_pages - refaults_at_minute_[i]) * 4096;
      if (now >= sc_.warmup + std::chrono::minutes{1} && resident > 0) {
        m_.refault_worst_ratio = std::max(m_.refault_worst_ratio, bytes / resident);
      }
      refaults_at_minute_[i] = vm.refault_pages;
    }
    next_minute_ += std::chrono::minutes{1};
  }
  if (now < sc_.warmup) return;
  if (ksmd_cpu_at_warmup_ < 0) {
    ksmd_cpu_at_warmup_ = plant.ksm().cpu_seconds;
    for (const auto& vm : plant.vms()) refaults_at_warmup_.push_back(vm.refault_pages);
    resident_minutes_.assign(plant.vms().size(), 0.0);
  }
  double worst_mean = 0;  // refaulted bytes since the warm-up / resident byte-minutes, worst VM
  for (size_t i = 0; i < plant.vms().size(); ++i) {
    const VmState& vm = plant.vms()[i];
    resident_minutes_[i] += (AsDouble(vm.Memory()) - vm.Offloaded()) * model::Seconds(dt) / 60;
    const double bytes = (vm.refault_pages - refaults_at_warmup_[i]) * 4096;
    if (resident_minutes_[i] > 0) worst_mean = std::max(worst_mean, bytes / resident_minutes_[i]);
  }
  m_.refault_mean_ratio = worst_mean;
  m_.ksmd_cpu_seconds = plant.ksm().cpu_seconds - ksmd_cpu_at_warmup_;
  double ksm = 0, offload = 0, memory = 0;
  for (const auto& vm : plant.vms()) {
    ksm += plant.KsmSavedBytes(vm);
    offload += plant.OffloadSavedBytes(vm);
    memory += AsDouble(vm.Memory());
  }
  ksm_saved_sum_ += ksm * model::Seconds(dt);
  saved_sum_ += (ksm + offload) * model::Seconds(dt);
  measured_seconds_ += model::Seconds(dt);
  m_.ksm_saved_mean_bytes = ksm_saved_sum_ / measured_seconds_;
  m_.saved_mean_bytes = saved_sum_ / measured_seconds_;
  m_.offload_saved_ratio = memory > 0 ? offload / memory : 0;
}

void Recorder::Settle::Note(bool ok, Duration t, Duration dt) {
  if (!ok) {
    failed = true;
    last_failure_end = t + dt;
  }
  now = ok;
}

std::optional<double> Recorder::Settle::Seconds(Duration disturbance) const {
  if (!now) return std::nullopt;
  return failed ? model::Seconds(last_failure_end - disturbance) : 0.0;
}

void Recorder::Action(Duration now, const model::Action& action) {
  if (now < sc_.warmup || std::holds_alternative<model::CompactNode>(action)) return;
  if (std::holds_alternative<model::SetKsm>(action)) {
    ++m_.ksm_writes;
    return;
  }
  if (std::holds_alternative<model::ReclaimVmMemory>(action)) {
    ++m_.reclaims;
    return;
  }
  ++m_.actions;
  m_.bytes_moved += AsDouble(model::BytesMoved(action));
  const int dir = model::Direction(action);
  const model::VmRef* vm = std::visit(
      [](const auto& a) -> const model::VmRef* {
        if constexpr (requires { a.vm; }) {
          return &a.vm;
        } else {
          return nullptr;
        }
      },
      action);
  if (vm == nullptr) return;
  int& last = last_direction_[vm->uuid];
  if (dir != 0 && last != 0 && dir != last) ++m_.direction_changes;
  if (dir != 0) last = dir;
  if (dir < 0 && sc_.InOutage(vm->name, now)) ++m_.blind_shrinks;
  if (const VmSpec* spec = sc_.FindVm(vm->name); dir < 0 && spec != nullptr && spec->priority > 0) {
    m_.priority_bytes_taken += AsDouble(model::BytesMoved(action));
  }
}

Metrics Recorder::Finish(std::string controller) const {
  Metrics m = m_;
  m.controller = std::move(controller);
  m.overshoot_bytes = std::max(m.overshoot_bytes, 0.0);
  m.settling_seconds = both_.Seconds(sc_.disturbance);
  m.host_settling_seconds = host_.Seconds(sc_.disturbance);
  m.oom_settling_seconds = oom_.Seconds(sc_.disturbance);
  return m;
}

}  // namespace kvmem::sim
