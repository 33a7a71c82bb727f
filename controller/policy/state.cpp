// Pure updates of ControllerState: Track, NoteStarted, ApplyOutcome.
#include "controller/policy/state.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "controller/model/units.h"

namespace kvmem::policy {
namespace {

using model::Duration;
using model::TimePoint;

constexpr Duration kMinute = std::chrono::minutes{1};
constexpr Duration kForgetVmAfter = std::chrono::hours{1};

void TrackDevice(ControllerState& state, const std::string& uuid, const model::VirtioMemDevice& dev,
                 const model::Policy& policy, TimePoint now) {
  DeviceKey key{uuid, dev.alias};
  if (dev.current_bytes == dev.requested_bytes) {
    auto it = state.devices.find(key);
    if (it != state.devices.end()) {
      it->second.pending_requested.reset();
      it->second.timed_out = false;
    }
    return;
  }
  DeviceState& d = state.devices[key];
  // Unknown or changed by someone else (or after a restart): the settle clock starts now.
  if (d.pending_requested != dev.requested_bytes) {
    d.pending_requested = dev.requested_bytes;
    d.pending_since = now;
    d.timed_out = false;
  }
  if (!d.timed_out && now - d.pending_since >= policy.virtio_mem.settle_timeout) {
    d.timed_out = true;
    ++state.settle_timeouts_total;
  }
}

}  // namespace

void Track(ControllerState& state, const model::Observation& latest, const model::Policy& policy) {
  const TimePoint now = latest.time;
  std::set<std::string> present;
  for (const auto& vm : latest.vms) {
    present.insert(vm.uuid);
    for (const auto& dev : vm.virtio_mem) TrackDevice(state, vm.uuid, dev, policy, now);
  }
  while (!state.moved.empty() && state.moved.front().at <= now - kMinute) state.moved.pop_front();
  // A VM missing from one observation keeps its cooldown; one gone for an hour is forgotten.
  std::erase_if(state.vms, [&](const auto& kv) {
    return !present.contains(kv.first) && (!kv.second.last_balloon || now - *kv.second.last_balloon > kForgetVmAfter);
  });
  std::erase_if(state.placement_moves,
                [&](const auto& kv) { return !present.contains(kv.first) && now - kv.second > kForgetVmAfter; });
  std::erase_if(state.offload, [&](const auto& kv) {
    const auto& o = kv.second;
    return !present.contains(kv.first) && (!o.last_step || now - *o.last_step > kForgetVmAfter) &&
           (!o.backoff_until || now > *o.backoff_until);
  });
  std::erase_if(state.devices, [&](const auto& kv) {
    return !present.contains(kv.first.first) &&
           (!kv.second.last_change || now - *kv.second.last_change > kForgetVmAfter);
  });
}

void NoteStarted(ControllerState& state, const model::Action& action, TimePoint /*now*/) {
  if (const auto* c = std::get_if<model::CompactNode>(&action)) state.compacting_node = c->node;
}

void ApplyOutcome(ControllerState& state, const model::Action& action, const model::Outcome& outcome, TimePoint now) {
  if (!outcome.ok) ++state.failures_total;
  const uint64_t moved = model::BytesMoved(action);
  if (outcome.ok && moved > 0) state.moved.push_back({now, moved});

  if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
    VmMemoryState& vm = state.vms[b->vm.uuid];
    vm.last_balloon = now;
    vm.balloon_target = b->to_bytes;
    vm.last_direction = model::Direction(action);
    vm.consecutive_failures = outcome.ok ? 0 : vm.consecutive_failures + 1;
  } else if (const auto* r = std::get_if<model::ResizeVirtioMem>(&action)) {
    DeviceState& d = state.devices[{r->vm.uuid, r->alias}];
    d.last_change = now;
    if (outcome.ok) {
      d.pending_requested = r->to_requested_bytes;
      d.pending_since = now;
      d.timed_out = false;
    }
  } else if (const auto* o = std::get_if<model::ReclaimVmMemory>(&action)) {
    state.offload[o->vm.uuid].last_step = now;
  } else if (const auto* c = std::get_if<model::CompactNode>(&action)) {
    NodeCompactionState& n = state.compaction[c->node];
    if (state.compacting_node == c->node) state.compacting_node.reset();
    n.last = now;
    n.index_before = outcome.index_before ? outcome.index_before : c->fragmentation_index;
    n.index_after = outcome.index_after;
    // Back off when it failed or did not lower the index; an unmeasured run changes nothing.
    if (!outcome.ok) {
      ++n.fruitless;
    } else if (n.index_before && n.index_after) {
      n.fruitless = *n.index_after < *n.index_before ? 0 : n.fruitless + 1;
    }
    n.fruitless = std::min(n.fruitless, 30);  // 2^30 * cooldown is past any max_backoff
  } else if (const auto* h = std::get_if<model::ResizeHugepagePool>(&action)) {
    PoolState& pool = state.pools[{h->node, h->page_bytes}];
    pool.last_attempt = now;
    pool.asked_pages = h->to_pages;
    pool.obtained_pages = outcome.pages_obtained;
    pool.fell_short = !outcome.ok && !outcome.dry_run;
    if (pool.fell_short && h->to_pages > h->from_pages) {
      if (auto cause = ShortfallCause(*h, outcome))
        ++state.pool_shortfalls_total[{h->node, h->page_bytes, std::string(*cause)}];
    }
  } else if (std::holds_alternative<model::PinVcpus>(action) || std::holds_alternative<model::MigrateMemory>(action)) {
    const auto* m = std::get_if<model::MigrateMemory>(&action);
    const auto& vm = m ? m->vm : std::get<model::PinVcpus>(action).vm;
    state.placement.last_move = now;
    state.placement.last_move_bytes = m ? outcome.bytes_migrated.value_or(outcome.ok ? m->bytes : 0) : 0;
    state.placement_moves[vm.uuid] = now;
  } else if (const auto* k = std::get_if<model::SetKsm>(&action)) {
    state.ksm.last_change = now;
    if (outcome.ok && k->to.run == 0 && k->reason.threshold == "ksm.payback") state.ksm.fruitless_stop = now;
  }
}

std::optional<std::string_view> ShortfallCause(const model::ResizeHugepagePool& action, const model::Outcome& outcome) {
  if (!outcome.pages_obtained) return std::nullopt;
  if (outcome.error.rfind("obtained ", 0) != 0 || outcome.error.find("; ") != std::string::npos) return "error";
  for (const auto& [name, value] : action.reason.observed) {
    if (name == "fragmentation_index" && value > 0.5) return "fragmented";
  }
  return "no_memory";
}

uint64_t BytesMovedLastMinute(const ControllerState& state, TimePoint now) {
  uint64_t sum = 0;
  for (const auto& m : state.moved) {
    if (m.at > now - kMinute && m.at <= now) sum = model::SatAdd(sum, m.bytes);
  }
  return sum;
}

std::string ToString(const ControllerState& state, TimePoint now) {
  size_t pending = 0;
  for (const auto& [key, d] : state.devices) pending += d.pending_requested ? size_t{1} : size_t{0};
  std::string s = "state: " + std::to_string(state.vms.size()) + " vms, " + std::to_string(pending) +
                  " virtio-mem changes pending, ";
  s += state.compacting_node ? "compaction running on node " + std::to_string(*state.compacting_node)
                             : std::string("no compaction running");
  return s + ", " + model::FormatBytes(BytesMovedLastMinute(state, now)) + " moved in the last 60 s, " +
         std::to_string(state.settle_timeouts_total) + " settle timeouts, " + std::to_string(state.failures_total) +
         " failures";
}

Duration CompactionCooldown(const model::CompactionPolicy& policy, int fruitless) {
  Duration d = policy.cooldown;
  for (int i = 0; i < fruitless && d < policy.max_backoff; ++i) d *= 2;
  return std::min(d, std::max(policy.max_backoff, policy.cooldown));
}

}  // namespace kvmem::policy
