// SignalWatcher: SIGINT, SIGTERM and SIGHUP for the controller, seen even while the loop
// thread is busy in an action. The constructor blocks the three signals in the calling thread
// (construct it before any other thread starts, so every thread inherits the mask) and waits
// for them with sigwait() on a thread of its own. SIGINT/SIGTERM set stop_flag() at once, so
// the loop starts no further action; then the handler runs (on the watcher thread).
// Thread-safe. The constructor throws std::system_error when the thread cannot start.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace kvmem::loop {

class SignalWatcher {
 public:
  SignalWatcher();
  ~SignalWatcher();  // stops and joins the watcher thread
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Runs `fn(signal)` on the watcher thread for every later signal; a SIGINT/SIGTERM that came
  // before it was set is replayed to it at once. OnSignal({}) stops the calls: when it returns,
  // no call is running. `fn` must not call OnSignal.
  void OnSignal(std::function<void(int)> fn);
  const std::atomic<bool>& stop_flag() const { return stop_; }

 private:
  void Run();

  std::atomic<bool> stop_{false};
  std::atomic<bool> exiting_{false};
  std::mutex mu_;  // guards fn_ and pending_; held while fn_ runs
  std::function<void(int)> fn_;
  int pending_ = 0;  // a stop signal seen before OnSignal
  std::thread thread_;
};

}  // namespace kvmem::loop
