// The Alertmanager webhook receiver, served on the controller's HTTP server at kPath: it
// checks method, bearer token, size and content type, parses the payload, and queues one
// immediate evaluation for the firing alerts that name a policy rule. The evaluation is a
// normal cycle on the controller's loop thread, so floors, cooldowns and limits all apply:
// an alert is a hint to look now, never a bypass.
// Thread-safety: Handle() and Collect() from any thread; RunPending() from the loop thread.
// Throws only std::bad_alloc (and whatever run_cycle throws; the controller's never does).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"
#include "common/metrics/sink.h"
#include "common/result.h"
#include "controller/model/action.h"
#include "controller/webhook/payload.h"

namespace kvmem::webhook {

inline constexpr std::string_view kPath = "/webhook";
// Alertmanager sends about 1.5 KiB per alert; with max_alerts: 100 (deploy/alertmanager) a
// payload stays far below this. The HTTP server's own cap (1 MiB) answers 413 beyond it.
inline constexpr size_t kDefaultMaxBodyBytes = 512 * 1024;

struct ReceiverOptions {
  std::string bearer_token;  // empty: no authentication (CheckExposure allows that on loopback only)
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  // Without a token on a non-loopback address, basic auth from the web config is what guards
  // the webhook, and that file can change at runtime: with this set, a request the HTTP server
  // did not authenticate (Request::user empty, i.e. the file has no basic_auth_users now) gets
  // 403 ("unprotected") until basic auth is back.
  bool require_basic_user = false;
  // For rate-limiting the rejection log (one line per result per 10 s); tests inject a clock.
  std::function<std::chrono::steady_clock::time_point()> clock = [] { return std::chrono::steady_clock::now(); };
};

// Reads a token file: its content without surrounding whitespace. kConfig error when it
// cannot be read or holds nothing.
Result<std::string> ReadBearerTokenFile(const std::string& path);

// A webhook without a token may only listen on loopback: anyone who can reach it could make
// the controller evaluate (harmless, but load). kConfig error otherwise, naming the fix.
Result<void> CheckExposure(const std::string& listen_address, bool has_token);

// One line for the log: what the cycle decided about the trigger's node or VM, e.g.
// "band reclaim; balloon web-1: 4 GiB -> 3.5 GiB" or "band reclaim; no action; skipped: ...".
std::string DescribeOutcome(const Trigger& trigger, const model::Plan& plan);

class Receiver {
 public:
  // `schedule` is called (on an HTTP thread, without locks held) when the first trigger of a
  // batch arrives; it must arrange for RunPending() to run on the loop thread.
  Receiver(ReceiverOptions options, std::function<void()> schedule);

  http::Response Handle(const http::Request& request);

  // Runs one cycle for every queued trigger, then logs and counts one evaluation per trigger.
  void RunPending(const std::function<model::Plan()>& run_cycle);

  // Counts and logs a request to the webhook path that the HTTP server refused itself (a body
  // above the server's own limit; 401 from the web config's basic auth), as if the receiver
  // had refused it.
  void NoteServerRefusal(int status, const http::Request& partial);

  void Collect(MetricSink& out) const;
  static std::vector<const FamilyDesc*> Families();

 private:
  http::Response Reject(int status, std::string_view result, const std::string& why, const http::Request& request);
  void Count(std::string_view result);

  ReceiverOptions options_;
  std::function<void()> schedule_;

  mutable std::mutex mutex_;  // guards everything below
  std::vector<Trigger> pending_;
  bool scheduled_ = false;
  std::map<std::string, uint64_t, std::less<>> requests_;     // by result
  std::map<std::string, uint64_t, std::less<>> evaluations_;  // by alertname
  struct LogGate {
    std::chrono::steady_clock::time_point last{};
    uint64_t suppressed = 0;
  };
  std::map<std::string, LogGate, std::less<>> log_gates_;  // by result
};

}  // namespace kvmem::webhook
