// ControllerState: what the loop remembers between cycles that the observations cannot tell:
// when each VM was last changed and to what, virtio-mem changes still settling, compaction
// history per node, and the bytes moved in the last minute. All updates are pure (no I/O,
// no clock): the loop calls, every cycle,
//   window.Push(obs); Track(state, window.Latest(), policy);
//   plan = Decide(window, state, policy);
//   for each action: [NoteStarted(state, a, now);] outcome = Apply(a); ApplyOutcome(state, a, outcome, now);
// Not thread-safe (one loop owns it). Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"

namespace kvmem::policy {

struct VmMemoryState {
  std::optional<model::TimePoint> last_balloon;  // last balloon attempt, applied or failed
  uint64_t balloon_target = 0;                   // the target that attempt set
  int last_direction = 0;                        // -1 shrink, +1 grow
  int consecutive_failures = 0;
};

struct DeviceState {
  // Last resize attempt: pressure and "unused" streaks only count observations after it.
  std::optional<model::TimePoint> last_change;
  // Set while the device's current size differs from its requested size.
  std::optional<uint64_t> pending_requested;
  model::TimePoint pending_since{};
  bool timed_out = false;  // pending longer than settle_timeout (counted once)
};

struct NodeCompactionState {
  std::optional<model::TimePoint> last;  // last compaction that finished (ok or not)
  int fruitless = 0;                     // consecutive runs that did not lower the index
  std::optional<double> index_before;
  std::optional<double> index_after;
};

struct MovedBytes {
  model::TimePoint at{};
  uint64_t bytes = 0;
};

using DeviceKey = std::pair<std::string, std::string>;  // {vm uuid, device alias}
using PoolKey = std::pair<int, uint64_t>;               // {node, page bytes}

struct PoolState {
  std::optional<model::TimePoint> last_attempt;  // last resize, applied or failed
  uint64_t asked_pages = 0;                      // the target it set
  std::optional<uint64_t> obtained_pages;        // what the kernel gave, when read back
  bool fell_short = false;                       // the last attempt did not reach its target
};

// Why a reservation fell short, as a metric label: "error" (the write itself failed: the
// actuator's error is more than its "obtained N of M" line), "fragmented" (the node's
// fragmentation index for the page's order was above 0.5, the kernel's boundary between
// "failed for lack of memory" and "failed for fragmentation"), or "no_memory". Nullopt when
// nothing was read back: the attempt never reached the kernel (a back-off refusal, a timeout).
std::optional<std::string_view> ShortfallCause(const model::ResizeHugepagePool& action, const model::Outcome& outcome);

struct PlacementState {
  std::optional<model::TimePoint> last_move;  // last placement action, applied or failed
  uint64_t last_move_bytes = 0;               // bytes it copied (0 for vCPU pinning)
};

// Compressed offload of one VM (policy/offload.h): its last step and the back-off after a guard.
struct OffloadState {
  std::optional<model::TimePoint> last_step;      // last ReclaimVmMemory attempt, applied or failed
  std::optional<model::TimePoint> backoff_until;  // no step before this: a guard tripped
  std::string guard;                              // the guard that tripped, with its numbers
};

struct KsmState {
  std::optional<model::TimePoint> last_change;     // last SetKsm attempt, applied or failed
  std::optional<model::TimePoint> fruitless_stop;  // last stop because merging did not pay
};

struct ControllerState {
  std::map<std::string, VmMemoryState> vms;  // by uuid
  std::map<DeviceKey, DeviceState> devices;
  std::map<int, NodeCompactionState> compaction;  // by node
  std::optional<int> compacting_node;             // a compaction started (NoteStarted) and not finished
  std::deque<MovedBytes> moved;                   // successful changes of the last minute, oldest first
  std::map<PoolKey, PoolState> pools;
  // Reservations that fell short, by {node, page bytes, cause}: for the failures counter.
  std::map<std::tuple<int, uint64_t, std::string>, uint64_t> pool_shortfalls_total;
  PlacementState placement;                                 // host-wide: one move at a time, rate-limited
  std::map<std::string, model::TimePoint> placement_moves;  // by VM uuid: its last move
  std::map<std::string, OffloadState> offload;              // by VM uuid
  uint64_t settle_timeouts_total = 0;                       // virtio-mem changes that did not settle in time
  uint64_t failures_total = 0;                              // outcomes with ok == false
  KsmState ksm;
};

// Folds the newest observation into the state: tracks which virtio-mem changes are still
// settling (counting each timeout once), forgets bytes moved more than a minute ago and VMs
// gone for an hour. Call once per cycle before Decide.
void Track(ControllerState& state, const model::Observation& latest, const model::Policy& policy);

// Marks a compaction as running, for loops that apply actions asynchronously; Decide starts no
// other compaction until its ApplyOutcome. Other actions need no such call.
void NoteStarted(ControllerState& state, const model::Action& action, model::TimePoint now);

// Records an attempt and its outcome. Failed attempts still start cooldowns (so a failing VM
// is retried after its cooldown, not every cycle) but move no bytes. A dry-run outcome counts
// as applied, so dry-run logs show the cadence that --apply would have.
void ApplyOutcome(ControllerState& state, const model::Action& action, const model::Outcome& outcome,
                  model::TimePoint now);

// One line for logs: "state: 2 vms, 1 virtio-mem change pending, compaction running on node 1,
// 1 GiB moved in the last 60 s, 0 settle timeouts, 0 failures".
std::string ToString(const ControllerState& state, model::TimePoint now);

// Bytes moved in (now - 60 s, now].
uint64_t BytesMovedLastMinute(const ControllerState& state, model::TimePoint now);

// Cooldown of a node after `fruitless` runs that did not help: cooldown * 2^fruitless,
// capped at max_backoff.
model::Duration CompactionCooldown(const model::CompactionPolicy& policy, int fruitless);

}  // namespace kvmem::policy
