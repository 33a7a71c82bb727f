// sigwait() on a dedicated thread.
#include "controller/loop/signal_watcher.h"

#include <pthread.h>
#include <signal.h>

#include <utility>

#include "common/signals.h"

namespace kvmem::loop {

SignalWatcher::SignalWatcher() {
  BlockShutdownSignals();
  thread_ = std::thread([this] { Run(); });
}

SignalWatcher::~SignalWatcher() {
  exiting_ = true;
  pthread_kill(thread_.native_handle(), SIGHUP);  // wakes sigwait; ignored once exiting_
  thread_.join();
}

void SignalWatcher::OnSignal(std::function<void(int)> fn) {
  std::lock_guard lock(mu_);
  fn_ = std::move(fn);
  if (pending_ != 0 && fn_) fn_(std::exchange(pending_, 0));
}

void SignalWatcher::Run() {
  for (;;) {
    const int sig = WaitForSignal();
    if (exiting_) return;
    if (sig == SIGINT || sig == SIGTERM) stop_ = true;
    // Called under the lock, so that after OnSignal({}) returns no handler is still running.
    std::lock_guard lock(mu_);
    if (!fn_) {
      if (sig != SIGHUP) pending_ = sig;
      continue;
    }
    try {
      fn_(sig);
    } catch (...) {  // only std::bad_alloc; the stop flag is already set
    }
  }
}

}  // namespace kvmem::loop
