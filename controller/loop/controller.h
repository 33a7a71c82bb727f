// Controller: one reconcile cycle (observe -> decide -> act -> record) and the controller's
// own metrics. RunOnce never throws: an observation failure skips the cycle; actuator
// failures are outcomes. Thread-safety: RunOnce and SetPolicy from the loop thread;
// Collect from any thread (metrics state is under a mutex).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "common/metrics/sink.h"
#include "common/result.h"
#include "controller/actuate/actuator.h"
#include "controller/loop/cycle.h"
#include "controller/loop/decision_log.h"
#include "controller/loop/pool_metrics.h"
#include "controller/model/policy.h"

namespace kvmem::loop {

using ObserveFn = std::function<Result<model::Observation>(model::TimePoint now)>;

class Controller final : private CycleListener {
 public:
  Controller(ObserveFn observe, actuate::Actuator& actuator, model::Policy policy, bool dry_run);

  // One cycle at `now` (steady clock); `wall_now` stamps the metrics. Returns the plan it
  // acted on (empty when the host could not be observed).
  model::Plan RunOnce(model::TimePoint now, std::chrono::system_clock::time_point wall_now);
  void SetPolicy(model::Policy policy);
  const model::Policy& policy() const { return cycle_.policy(); }
  void CountReload(bool ok);
  // Optional: every applied (or dry-run) action gets an intent and an outcome record.
  void SetDecisionLog(DecisionLog* log) { decisions_ = log; }
  // Optional: once *stop is true (SIGTERM), no further action is started; the one in flight
  // finishes (or times out) and its outcome is recorded.
  void SetStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }
  // libvirt's health as the last observation saw it (only with a libvirt URI): exported as
  // kvmem_controller_libvirt_up and _connection_errors_total. Thread-safe.
  void NoteLibvirt(bool up, uint64_t connection_errors);

  void Collect(MetricSink& out) const;
  static std::vector<const FamilyDesc*> Families();

 private:
  // CycleListener: the decision log's intent and outcome records, and the action metrics.
  void Starting(const model::Action& action) override;
  void Finished(const model::Action& action, const model::Outcome& outcome) override;
  void Stopped(const model::Action& first) override;
  void NoteSkipsAndBands(const model::Plan& plan);
  void Record(const model::Action& action, const model::Outcome& outcome, double wall_seconds);

  ObserveFn observe_;
  actuate::Actuator& actuator_;
  const bool dry_run_;
  ControlCycle cycle_;
  std::set<std::string> last_skips_;  // logged at info only when they change
  DecisionLog* decisions_ = nullptr;
  std::optional<std::string> pending_decision_;  // the intent record of the action in flight
  double wall_ = 0;                              // this cycle's wall time, for the metrics
  PoolPlacementMetrics pool_metrics_;            // hugepage pools and placement moves
  const std::atomic<bool>* stop_ = nullptr;

  mutable std::mutex mutex_;                                                       // guards everything below
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> actions_;  // actuator, rule, outcome
  std::map<std::string, uint64_t> skips_by_rule_;
  std::map<std::pair<std::string, std::string>, uint64_t> balloon_targets_;  // {name, uuid}
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> virtio_targets_;
  std::map<int, std::string> bands_;
  std::map<int, std::pair<double, double>> compaction_index_;  // before, after
  std::map<int, double> compaction_seconds_;
  uint64_t observe_failures_ = 0, cycles_ = 0, settle_timeouts_ = 0;
  uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  double last_run_ = 0, last_action_ = 0, last_duration_ = 0;
  std::optional<std::string> last_observe_error_;
  std::optional<std::pair<bool, uint64_t>> libvirt_;     // up, connection errors
  std::optional<std::pair<int, uint64_t>> limits_;       // actions per cycle, bytes per minute
  std::optional<double> ksm_pay_rate_, ksm_break_even_;  // bytes per ksmd CPU-second
};

}  // namespace kvmem::loop
