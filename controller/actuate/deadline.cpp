// The deadline decorator: one worker thread, one call in flight, a bounded wait.
#include "controller/actuate/deadline.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "common/log.h"
#include "controller/model/units.h"

namespace kvmem::actuate {

struct Deadline::State {
  Actuator* inner = nullptr;
  std::chrono::milliseconds timeout{0};
  std::mutex mu;
  std::condition_variable cv;
  std::optional<model::Action> request;  // handed to the worker
  uint64_t started = 0, done = 0;        // call generations
  model::Outcome result;                 // of generation `done`
  bool busy = false;                     // the worker is inside inner->Apply
  bool timed_out = false;                // ... and the caller gave up on it
  std::string running;                   // Summary of the call in flight
  std::chrono::steady_clock::time_point since{};
  bool stop = false;
};

namespace {

void Work(const std::shared_ptr<Deadline::State>& st) {
  std::unique_lock lock(st->mu);
  for (;;) {
    st->cv.wait(lock, [&] { return st->stop || st->request.has_value(); });
    if (st->stop) return;
    model::Action action = std::move(*st->request);
    st->request.reset();
    lock.unlock();
    model::Outcome outcome = st->inner->Apply(action);
    lock.lock();
    if (st->timed_out) {
      log::Warn("an action that timed out has finished; the next observation shows its effect",
                {{"action", st->running},
                 {"outcome", model::ToString(outcome)},
                 {"after", model::FormatSeconds(std::chrono::duration_cast<model::Duration>(
                               std::chrono::steady_clock::now() - st->since))}});
    }
    st->result = std::move(outcome);
    st->done = st->started;
    st->busy = false;
    st->timed_out = false;
    st->cv.notify_all();
  }
}

model::Outcome Failed(std::string error, model::Duration took = model::Duration{0}) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  o.duration = took;
  return o;
}

}  // namespace

Deadline::Deadline(Actuator* inner, std::chrono::milliseconds timeout) : state_(std::make_shared<State>()) {
  state_->inner = inner;
  state_->timeout = timeout;
  worker_ = std::thread([st = state_] { Work(st); });
}

Deadline::~Deadline() {
  bool idle;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    idle = !state_->busy;
  }
  state_->cv.notify_all();
  if (idle)
    worker_.join();
  else
    worker_.detach();  // stuck in a call that cannot be cancelled; it holds the state
}

bool Deadline::stuck() const {
  std::lock_guard lock(state_->mu);
  return state_->busy;
}

model::Outcome Deadline::Apply(const model::Action& action) noexcept {
  try {
    std::unique_lock lock(state_->mu);
    const auto now = std::chrono::steady_clock::now();
    if (state_->busy) {
      return Failed("not started: the previous action (" + state_->running + ") timed out and has been running for " +
                    model::FormatSeconds(std::chrono::duration_cast<model::Duration>(now - state_->since)));
    }
    state_->request = action;
    state_->running = model::Summary(action);
    state_->since = now;
    state_->busy = true;
    const uint64_t gen = ++state_->started;
    state_->cv.notify_all();
    if (state_->cv.wait_for(lock, state_->timeout, [&] { return state_->done >= gen; })) return state_->result;
    state_->timed_out = true;
    return Failed("timed out after " + model::FormatSeconds(state_->timeout) +
                      "; the call goes on in the background and its effect is observed, never assumed",
                  std::chrono::duration_cast<model::Duration>(state_->timeout));
  } catch (const std::exception& e) {
    return Failed(e.what());
  }
}

}  // namespace kvmem::actuate
