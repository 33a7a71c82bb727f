// LastPlan: the most recent cycle's plan as `kvmem_controller --once` prints it, served at
// /plan so an operator can ask a running controller what it decided and why (every action and
// every skip with its reason) without raising the log level.
// Thread-safety: Record from the loop thread, Render from HTTP threads.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "controller/loop/decision_log.h"
#include "controller/model/action.h"

namespace kvmem::loop {

class LastPlan {
 public:
  explicit LastPlan(bool dry_run) : dry_run_(dry_run) {}

  void Record(const model::Plan& plan, std::chrono::system_clock::time_point at) {
    std::string text = model::ToString(plan);
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
    at_ = Rfc3339Millis(at);
    ++cycles_;
  }

  std::string Render() const {
    std::lock_guard lock(mutex_);
    if (cycles_ == 0) return "no cycle has run yet\n";
    return "cycle " + std::to_string(cycles_) + " at " + at_ + " (" + (dry_run_ ? "dry-run" : "apply") + ")\n" + text_ +
           "\n";
  }

 private:
  const bool dry_run_;
  mutable std::mutex mutex_;
  std::string text_, at_;
  uint64_t cycles_ = 0;
};

}  // namespace kvmem::loop
