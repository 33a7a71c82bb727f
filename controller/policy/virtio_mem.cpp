// virtio_mem.grow and virtio_mem.shrink, with the settle gate.
#include "controller/policy/virtio_mem.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "controller/model/units.h"
#include "controller/policy/judgements.h"

namespace kvmem::policy {
namespace {

using model::AsDouble;
using model::FormatBytes;

constexpr const char* kGrow = "virtio_mem.grow";
constexpr const char* kShrink = "virtio_mem.shrink";

std::vector<const model::VmObservation*> VmsWithDevices(const Cycle& c) {
  std::vector<const model::VmObservation*> out;
  for (const auto& vm : c.obs().vms) {
    if (vm.running && !vm.virtio_mem.empty() && !c.Touched(vm.uuid)) out.push_back(&vm);
  }
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->uuid < b->uuid; });
  return out;
}

std::vector<const model::VirtioMemDevice*> DevicesByAlias(const model::VmObservation& vm) {
  std::vector<const model::VirtioMemDevice*> out;
  for (const auto& d : vm.virtio_mem) out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->alias < b->alias; });
  return out;
}

// Streaks restart at the VM's last resize: its effect has to show before we judge again.
std::optional<model::TimePoint> LastChange(const Cycle& c, const model::VmObservation& vm) {
  std::optional<model::TimePoint> last;
  for (const auto& d : vm.virtio_mem) {
    auto it = c.state().devices.find({vm.uuid, d.alias});
    if (it != c.state().devices.end() && it->second.last_change && (!last || *it->second.last_change > *last)) {
      last = it->second.last_change;
    }
  }
  return last;
}

uint64_t StepFor(const Cycle& c, const model::VirtioMemDevice& dev) {
  return std::max(model::AlignDown(c.policy().virtio_mem.step, dev.block_bytes), dev.block_bytes);
}

// The size a new change steps from when the device may change now: the requested size when
// settled, the plugged (current) size after a counted settle timeout. Otherwise a skip.
std::optional<uint64_t> SettledBase(Cycle& c, const model::VmObservation& vm, const model::VirtioMemDevice& dev) {
  if (dev.block_bytes == 0) {
    c.AddSkip(DeviceSubject(vm, dev), "virtio_mem.settle", "block size unknown");
    return std::nullopt;
  }
  if (dev.current_bytes == dev.requested_bytes) return dev.requested_bytes;
  auto it = c.state().devices.find({vm.uuid, dev.alias});
  const bool tracked = it != c.state().devices.end() && it->second.pending_requested == dev.requested_bytes;
  if (tracked && it->second.timed_out) return dev.current_bytes;
  const std::string since = tracked
                                ? "for " + model::FormatSeconds(c.now() - it->second.pending_since) +
                                      " of settle_timeout " + model::FormatSeconds(c.policy().virtio_mem.settle_timeout)
                                : "since an unknown time";
  c.AddSkip(DeviceSubject(vm, dev), "virtio_mem.settle",
            "pending: current " + FormatBytes(dev.current_bytes) + ", requested " + FormatBytes(dev.requested_bytes) +
                " " + since);
  return std::nullopt;
}

// After a settle timeout a change steps from the plugged size. It is pointless when it lands on
// the size already requested, and wrong when it goes the other way: a grow must never lower the
// request (the guest did not plug what it has), nor a shrink raise it.
bool NotBeyondRequested(Cycle& c, const model::VmObservation& vm, const model::VirtioMemDevice& dev, uint64_t to,
                        const char* rule, bool grow) {
  if (grow ? to > dev.requested_bytes : to < dev.requested_bytes) return false;
  c.AddSkip(DeviceSubject(vm, dev), rule,
            "requested " + FormatBytes(dev.requested_bytes) + " already; the guest plugged " +
                FormatBytes(dev.current_bytes) + " within settle_timeout");
  return true;
}

bool GrowDevice(Cycle& c, const model::VmObservation& vm, const model::VirtioMemDevice& dev, const Pressure& p,
                int streak) {
  const auto base = SettledBase(c, vm, dev);
  if (!base) return false;
  const model::NodeObservation* node = c.obs().FindNode(dev.node);
  if (node == nullptr) {
    c.AddSkip(DeviceSubject(vm, dev), kGrow, "host node " + std::to_string(dev.node) + " not observed");
    return false;
  }
  const uint64_t limit = model::AlignDown(dev.size_bytes, dev.block_bytes);
  const uint64_t headroom = c.Headroom(*node, true);
  const uint64_t max_delta = std::min({StepFor(c, dev), model::SatSub(limit, *base), headroom, c.BytesLeft()});
  const uint64_t to = model::AlignDown(*base + max_delta, dev.block_bytes);
  if (to <= *base) {
    std::string why = *base >= limit ? "device at its size " + FormatBytes(dev.size_bytes)
                      : headroom < dev.block_bytes
                          ? "node " + std::to_string(dev.node) + " headroom " + FormatBytes(headroom) +
                                " (free, and above release_above) is less than one block " +
                                FormatBytes(dev.block_bytes)
                          : c.BytesLimitText();
    c.AddSkip(DeviceSubject(vm, dev), *base >= limit || headroom < dev.block_bytes ? kGrow : "limits", why);
    return false;
  }
  if (NotBeyondRequested(c, vm, dev, to, kGrow, true)) return false;
  if (!c.HasActionSlot(DeviceSubject(vm, dev))) return true;  // stop trying this VM's devices
  model::ResizeVirtioMem a{RefOf(vm), dev.alias, dev.node, dev.requested_bytes, to, {}};
  a.reason = {kGrow,
              "virtio_mem.sustain",
              static_cast<double>(c.policy().virtio_mem.sustain),
              {{"guest_usable_ratio", p.usable_ratio},
               {"swap_in_bytes_per_second", p.swap_in_rate},
               {"major_faults_per_second", p.major_fault_rate},
               {"node_headroom_bytes", AsDouble(headroom)}},
              "vm " + vm.name + " at balloon maximum " + FormatBytes(vm.balloon_maximum_bytes) + " and " + p.why +
                  " for " + std::to_string(streak) + " cycles (sustain " +
                  std::to_string(c.policy().virtio_mem.sustain) + "); " + dev.alias + " on node " +
                  std::to_string(dev.node) + " +" + FormatBytes(to - *base) + ", node headroom " +
                  FormatBytes(headroom) + ", size " + FormatBytes(dev.size_bytes)};
  c.Add(std::move(a));
  return true;
}

bool ShrinkDevice(Cycle& c, const model::VmObservation& vm, const model::VirtioMemDevice& dev, double unused_ratio,
                  model::Duration held) {
  if (dev.requested_bytes == 0 && dev.current_bytes == 0) return false;
  const auto base = SettledBase(c, vm, dev);
  if (!base) return false;
  const uint64_t floor = Floor(vm, c.policy().balloon);
  const uint64_t room = model::SatSub(vm.balloon_current_bytes, floor);
  const uint64_t max_delta = std::min({StepFor(c, dev), *base, room, c.BytesLeft()});
  const uint64_t to = model::AlignUp(*base - max_delta, dev.block_bytes);
  if (to >= *base) {
    const bool by_floor = !(c.BytesLeft() < dev.block_bytes && room >= dev.block_bytes);
    c.AddSkip(DeviceSubject(vm, dev), by_floor ? kShrink : "limits",
              by_floor
                  ? "floor reached: current " + FormatBytes(vm.balloon_current_bytes) + ", floor " + FormatBytes(floor)
                  : c.BytesLimitText());
    return false;
  }
  if (NotBeyondRequested(c, vm, dev, to, kShrink, false)) return false;
  if (!c.HasActionSlot(DeviceSubject(vm, dev))) return true;
  const double threshold = c.policy().virtio_mem.shrink_unused_above_ratio;
  model::ResizeVirtioMem a{RefOf(vm), dev.alias, dev.node, dev.requested_bytes, to, {}};
  a.reason = {
      kShrink,
      "virtio_mem.shrink_unused_above_ratio",
      threshold,
      {{"guest_unused_ratio", unused_ratio}, {"held_seconds", model::Seconds(held)}, {"floor_bytes", AsDouble(floor)}},
      "vm " + vm.name + " unused " + model::FormatPercent(unused_ratio) + " > shrink_unused_above_ratio " +
          model::FormatPercent(threshold) + " for " + model::FormatSeconds(held) + " (shrink_after " +
          model::FormatSeconds(c.policy().virtio_mem.shrink_after) + "); " + dev.alias + " -" +
          FormatBytes(*base - to) + ", floor " + FormatBytes(floor)};
  c.Add(std::move(a));
  return true;
}

std::optional<double> UnusedRatio(const model::VmObservation* vm) {
  if (vm == nullptr || !vm->guest_unused_bytes || !vm->guest_available_bytes || *vm->guest_available_bytes == 0) {
    return std::nullopt;
  }
  return AsDouble(*vm->guest_unused_bytes) / AsDouble(*vm->guest_available_bytes);
}

}  // namespace

void PlanVirtioMemGrow(Cycle& c) {
  const auto& policy = c.policy();
  if (!policy.virtio_mem.enabled) return;
  const Window& w = c.window();
  for (const auto* vm : VmsWithDevices(c)) {
    const Pressure p = PressureAt(w, w.LatestIndex(), vm->uuid, policy.balloon.pressure);
    if (!p.under) continue;
    const auto devices = DevicesByAlias(*vm);
    uint64_t block = 0;
    for (const auto* d : devices) block = std::max(block, d->block_bytes);
    if (vm->balloon_current_bytes + std::max(block, model::kMiB) <= vm->balloon_maximum_bytes)
      continue;  // balloon's job
    const int streak = w.Streak([&](size_t j) { return PressureAt(w, j, vm->uuid, policy.balloon.pressure).under; },
                                LastChange(c, *vm));
    if (streak < policy.virtio_mem.sustain) {
      c.AddSkip(VmSubject(*vm), kGrow,
                "at balloon maximum and " + p.why + " for " + std::to_string(streak) + " of sustain " +
                    std::to_string(policy.virtio_mem.sustain) + " cycles");
      continue;
    }
    for (const auto* dev : devices) {
      if (GrowDevice(c, *vm, *dev, p, streak)) break;
    }
  }
}

void PlanVirtioMemShrink(Cycle& c) {
  const auto& policy = c.policy();
  if (!policy.virtio_mem.enabled) return;
  const Window& w = c.window();
  for (const auto* vm : VmsWithDevices(c)) {
    const auto unused = UnusedRatio(vm);
    if (!unused || *unused <= policy.virtio_mem.shrink_unused_above_ratio) continue;
    const auto held = w.HeldFor(
        [&](size_t j) {
          const auto r = UnusedRatio(w.FindVm(j, vm->uuid));
          return r && *r > policy.virtio_mem.shrink_unused_above_ratio;
        },
        LastChange(c, *vm));
    if (!held || *held < policy.virtio_mem.shrink_after) continue;  // not yet: no news worth a skip
    if (auto blind = BlindReason(*vm, c.now(), policy.stale_after)) {
      c.AddSkip(VmSubject(*vm), kShrink, *blind);
      continue;
    }
    for (const auto* dev : DevicesByAlias(*vm)) {
      if (ShrinkDevice(c, *vm, *dev, *unused, *held)) break;
    }
  }
}

}  // namespace kvmem::policy
