// The reconcile cycle and the controller's metrics.
#include "controller/loop/controller.h"

#include <chrono>

#include "common/log.h"
#include "controller/policy/decide.h"
#include "controller/policy/ksm.h"

namespace kvmem::loop {
namespace {

using prometheus::MetricType;
const FamilyDesc kActions{"kvmem_controller_actions_total",
                          "Actions decided, by actuator, rule and outcome (applied, dry_run, failed).",
                          MetricType::Counter,
                          {"actuator", "reason", "outcome"}};
const FamilyDesc kSkips{"kvmem_controller_skips_total",
                        "Decisions not to act, by rule (dead band, cooldown, floor, stale stats, limits...).",
                        MetricType::Counter,
                        {"reason"}};
const FamilyDesc kBalloonTarget{"kvmem_controller_balloon_target_bytes",
                                "Balloon target the controller last set (or would have set, in dry-run) for the VM.",
                                MetricType::Gauge,
                                {"domain", "uuid"}};
const FamilyDesc kVirtioTarget{"kvmem_controller_virtio_mem_requested_bytes",
                               "virtio-mem requested size the controller last set (or would have set) for the device.",
                               MetricType::Gauge,
                               {"domain", "uuid", "device"}};
const FamilyDesc kNodeState{"kvmem_controller_node_state",
                            "The node's balloon band: reclaim (available below reclaim_below), steady, or release "
                            "(above release_above); 1 for the current one.",
                            MetricType::Gauge,
                            {"node", "state"}};
const FamilyDesc kDuration{"kvmem_controller_reconcile_duration_seconds",
                           "Time the last cycle took: observe, decide and act.",
                           MetricType::Gauge,
                           {}};
const FamilyDesc kCycles{"kvmem_controller_cycles_total", "Reconcile cycles run.", MetricType::Counter, {}};
const FamilyDesc kObserveFailures{"kvmem_controller_observe_failures_total",
                                  "Cycles skipped because the host could not be observed.",
                                  MetricType::Counter,
                                  {}};
const FamilyDesc kDryRun{"kvmem_controller_dry_run",
                         "1 when the controller only records actions (started without --apply).",
                         MetricType::Gauge,
                         {}};
const FamilyDesc kActionsLimit{
    "kvmem_controller_actions_per_cycle_limit",
    "Actions the last cycle could take: scaled to the running VMs (limits.max_actions_per_cycle caps it).",
    MetricType::Gauge,
    {}};
const FamilyDesc kBytesLimit{"kvmem_controller_move_budget_bytes",
                             "Balloon and virtio-mem bytes the controller may move in any 60 s: "
                             "limits.max_share_per_minute of the host's memory (limits.max_bytes_per_minute caps it).",
                             MetricType::Gauge,
                             {}};
const FamilyDesc kKsmPayRate{"kvmem_controller_ksm_saved_bytes_per_cpu_second",
                             "What KSM merging paid over the last ksm.window: the saving's growth per second of ksmd "
                             "CPU (negative when pages were unmerged); absent until a window is measured.",
                             MetricType::Gauge,
                             {}};
const FamilyDesc kKsmBreakEven{"kvmem_controller_ksm_break_even_bytes_per_cpu_second",
                               "The pay rate at which merging pays: (host memory / online CPUs) / ksm.payback.",
                               MetricType::Gauge,
                               {}};
const FamilyDesc kLastRun{
    "kvmem_controller_last_run_timestamp_seconds", "When the last cycle finished.", MetricType::Gauge, {}};
const FamilyDesc kLastAction{"kvmem_controller_last_action_timestamp_seconds",
                             "When the controller last applied or recorded an action; 0 before the first.",
                             MetricType::Gauge,
                             {}};
const FamilyDesc kReloads{"kvmem_controller_policy_reloads_total",
                          "Policy reloads (SIGHUP), by result; a failed reload keeps the old policy.",
                          MetricType::Counter,
                          {"result"}};
const FamilyDesc kSettleTimeouts{"kvmem_controller_virtio_mem_settle_timeouts_total",
                                 "virtio-mem changes the guest did not complete within settle_timeout.",
                                 MetricType::Counter,
                                 {}};
const FamilyDesc kCompactionIndex{
    "kvmem_controller_compaction_fragmentation_index",
    "The node's fragmentation index for the THP order before and after the controller's last compaction.",
    MetricType::Gauge,
    {"node", "when"}};
const FamilyDesc kLibvirtUp{"kvmem_controller_libvirt_up",
                            "1 when the last observation got fresh values from libvirt, 0 when it used the last good "
                            "ones (libvirt down, hung or reconnecting).",
                            MetricType::Gauge,
                            {}};
const FamilyDesc kLibvirtErrors{
    "kvmem_controller_libvirt_connection_errors_total",
    "Failed libvirt connection attempts and dropped connections of the controller's observer.",
    MetricType::Counter,
    {}};
const FamilyDesc kCompactionSeconds{"kvmem_controller_compaction_duration_seconds",
                                    "How long the controller's last compaction of the node took.",
                                    MetricType::Gauge,
                                    {"node"}};

std::string Observed(const model::Reason& r) {
  std::string out;
  for (const auto& [k, v] : r.observed) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s=%.6g", k.c_str(), v);
    out += (out.empty() ? "" : " ") + std::string(buf);
  }
  return out;
}

}  // namespace

Controller::Controller(ObserveFn observe, actuate::Actuator& actuator, model::Policy policy, bool dry_run)
    : observe_(std::move(observe)), actuator_(actuator), dry_run_(dry_run), cycle_(std::move(policy)) {}

void Controller::SetPolicy(model::Policy policy) { cycle_.SetPolicy(std::move(policy)); }

void Controller::NoteLibvirt(bool up, uint64_t connection_errors) {
  std::lock_guard lock(mutex_);
  libvirt_ = {up, connection_errors};
}

void Controller::CountReload(bool ok) {
  std::lock_guard lock(mutex_);
  (ok ? reloads_ok_ : reloads_failed_)++;
}

model::Plan Controller::RunOnce(model::TimePoint now, std::chrono::system_clock::time_point wall_now) {
  model::Plan plan;
  auto start = std::chrono::steady_clock::now();
  wall_ = std::chrono::duration<double>(wall_now.time_since_epoch()).count();
  try {
    auto obs = observe_(now);
    if (!obs) {
      std::lock_guard lock(mutex_);
      ++observe_failures_;
      std::string msg = obs.error().ToString();
      if (last_observe_error_ != msg)
        log::Error("cannot observe the host; skipping cycles until it can", {{"err", msg}});
      last_observe_error_ = msg;
      return plan;
    }
    if (last_observe_error_) {
      log::Info("observing the host again");
      std::lock_guard lock(mutex_);
      last_observe_error_.reset();
    }
    plan = cycle_.Step(std::move(*obs), actuator_, this, stop_);
    NoteSkipsAndBands(plan);
    if (plan.actions_per_cycle > 0) {
      std::lock_guard lock(mutex_);
      limits_ = {plan.actions_per_cycle, plan.bytes_per_minute};
    }
    pool_metrics_.Update(plan, cycle_.state());
    const auto& ksm = cycle_.policy().ksm;
    auto pay = policy::MeasureKsm(cycle_.window(), ksm, std::nullopt);
    std::lock_guard lock(mutex_);
    settle_timeouts_ = cycle_.state().settle_timeouts_total;
    ksm_break_even_ = policy::KsmBreakEven(cycle_.window().Latest(), ksm);
    ksm_pay_rate_ = pay ? std::optional(pay->pay_rate) : std::nullopt;
  } catch (const std::exception& e) {
    log::Error("reconcile cycle failed", {{"err", e.what()}});
  } catch (...) {
    log::Error("reconcile cycle failed", {{"err", "unknown exception"}});
  }
  std::lock_guard lock(mutex_);
  ++cycles_;
  last_run_ = wall_;
  last_duration_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return plan;
}

void Controller::NoteSkipsAndBands(const model::Plan& plan) {
  std::set<std::string> skips;
  for (const auto& s : plan.skips) skips.insert(s.ToString());
  if (skips != last_skips_) {
    for (const auto& s : skips) {
      if (!last_skips_.contains(s)) log::Debug("skip", {{"what", s}});
    }
    last_skips_ = std::move(skips);
  }
  std::lock_guard lock(mutex_);
  for (const auto& s : plan.skips) ++skips_by_rule_[s.rule];
  bands_.clear();
  for (const auto& [node, band] : plan.bands) bands_[node] = std::string(model::BandName(band));
}

void Controller::Starting(const model::Action& action) {
  pending_decision_ = decisions_ ? decisions_->Intent(action, dry_run_, std::chrono::system_clock::now()) : "";
}

void Controller::Finished(const model::Action& action, const model::Outcome& outcome) {
  if (decisions_ && pending_decision_)
    decisions_->Finish(*pending_decision_, action, outcome, dry_run_, std::chrono::system_clock::now());
  pending_decision_.reset();
  Record(action, outcome, wall_);
}

void Controller::Stopped(const model::Action& first) {
  log::Info("shutting down: actions of this cycle not started", {{"first", model::Summary(first)}});
}

void Controller::Record(const model::Action& action, const model::Outcome& outcome, double wall) {
  const auto& reason = model::ReasonOf(action);
  std::string result = !outcome.ok ? "failed" : outcome.dry_run ? "dry_run" : "applied";
  log::Write(outcome.ok ? log::Level::kInfo : log::Level::kWarn, "action",
             {{"action", model::Summary(action)},
              {"rule", reason.rule},
              {"threshold", reason.threshold},
              {"threshold_value", std::to_string(reason.threshold_value)},
              {"inputs", Observed(reason)},
              {"why", reason.text},
              {"outcome", result},
              {"error", outcome.error},
              {"duration_ms", std::to_string(outcome.duration.count())}});
  pool_metrics_.Record(action, outcome);
  std::lock_guard lock(mutex_);
  ++actions_[{std::string(model::ActuatorOf(action)), reason.rule, result}];
  if (!outcome.ok) return;
  last_action_ = wall;
  if (const auto* b = std::get_if<model::SetBalloon>(&action)) {
    balloon_targets_[{b->vm.name, b->vm.uuid}] = b->to_bytes;
  } else if (const auto* v = std::get_if<model::ResizeVirtioMem>(&action)) {
    virtio_targets_[{v->vm.name, v->vm.uuid, v->alias}] = v->to_requested_bytes;
  } else if (const auto* c = std::get_if<model::CompactNode>(&action)) {
    if (outcome.index_before && outcome.index_after)
      compaction_index_[c->node] = {*outcome.index_before, *outcome.index_after};
    compaction_seconds_[c->node] = model::Seconds(outcome.duration);
  }
}

std::vector<const FamilyDesc*> Controller::Families() {
  std::vector<const FamilyDesc*> all = {
      &kActions,         &kSkips,           &kBalloonTarget,     &kVirtioTarget, &kNodeState,   &kDuration,   &kCycles,
      &kObserveFailures, &kDryRun,          &kActionsLimit,      &kBytesLimit,   &kLastRun,     &kLastAction, &kReloads,
      &kSettleTimeouts,  &kCompactionIndex, &kCompactionSeconds, &kKsmPayRate,   &kKsmBreakEven};
  for (const auto* f : PoolPlacementMetrics::Families()) all.push_back(f);
  return all;
}

void Controller::Collect(MetricSink& out) const {
  pool_metrics_.Collect(out);
  std::lock_guard lock(mutex_);
  for (const auto& [key, n] : actions_) {
    out.Add(kActions, {std::get<0>(key), std::get<1>(key), std::get<2>(key)}, static_cast<double>(n));
  }
  for (const auto& [rule, n] : skips_by_rule_) out.Add(kSkips, {rule}, static_cast<double>(n));
  for (const auto& [vm, bytes] : balloon_targets_)
    out.Add(kBalloonTarget, {vm.first, vm.second}, static_cast<double>(bytes));
  for (const auto& [dev, bytes] : virtio_targets_) {
    out.Add(kVirtioTarget, {std::get<0>(dev), std::get<1>(dev), std::get<2>(dev)}, static_cast<double>(bytes));
  }
  for (const auto& [node, band] : bands_) {
    for (const char* s : {"reclaim", "steady", "release"})
      out.Add(kNodeState, {std::to_string(node), s}, band == s ? 1 : 0);
  }
  for (const auto& [node, idx] : compaction_index_) {
    out.Add(kCompactionIndex, {std::to_string(node), "before"}, idx.first);
    out.Add(kCompactionIndex, {std::to_string(node), "after"}, idx.second);
  }
  for (const auto& [node, s] : compaction_seconds_) out.Add(kCompactionSeconds, {std::to_string(node)}, s);
  out.Add(kDuration, {}, last_duration_);
  out.Add(kCycles, {}, static_cast<double>(cycles_));
  out.Add(kObserveFailures, {}, static_cast<double>(observe_failures_));
  out.Add(kDryRun, {}, dry_run_ ? 1 : 0);
  if (limits_) {
    out.Add(kActionsLimit, {}, limits_->first);
    out.Add(kBytesLimit, {}, static_cast<double>(limits_->second));
  }
  if (ksm_pay_rate_) out.Add(kKsmPayRate, {}, *ksm_pay_rate_);
  if (ksm_break_even_) out.Add(kKsmBreakEven, {}, *ksm_break_even_);
  out.Add(kLastRun, {}, last_run_);
  out.Add(kLastAction, {}, last_action_);
  out.Add(kReloads, {"ok"}, static_cast<double>(reloads_ok_));
  out.Add(kReloads, {"error"}, static_cast<double>(reloads_failed_));
  out.Add(kSettleTimeouts, {}, static_cast<double>(settle_timeouts_));
  if (decisions_) decisions_->Collect(out);
  if (libvirt_) {
    out.Add(kLibvirtUp, {}, libvirt_->first ? 1 : 0);
    out.Add(kLibvirtErrors, {}, static_cast<double>(libvirt_->second));
  }
}

}  // namespace kvmem::loop
