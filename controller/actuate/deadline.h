// Deadline: bounds how long one Apply() may take, for any action. A blocking libvirt call
// (virConnectOpen to a daemon that accepts but never answers waits forever; keepalive only
// starts after the open) or a slow sysfs write (a large nr_hugepages, compaction of a big
// node) cannot be cancelled, so the inner actuator runs on one worker thread and Apply() waits
// at most `timeout` for it. An overrun is a failed outcome ("timed out after 30 s") and the
// call is left to finish in the background; until it returns every further Apply() fails at
// once without starting anything, so calls never pile up. The late result is logged; the
// next observation shows what it did (the controller never assumes).
// Apply() never throws. Not thread-safe for callers (the control loop is the one caller).
// The destructor joins an idle worker and detaches a stuck one: the inner actuator must then
// outlive the process, so the daemon ends with _Exit when stuck() (see controller/main.cpp).
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "controller/actuate/actuator.h"

namespace kvmem::actuate {

class Deadline final : public Actuator {
 public:
  // Throws std::system_error when the worker thread cannot start.
  Deadline(Actuator* inner, std::chrono::milliseconds timeout);
  ~Deadline() override;
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  model::Outcome Apply(const model::Action& action) noexcept override;
  // True while a call that timed out is still running.
  bool stuck() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread worker_;
};

}  // namespace kvmem::actuate
