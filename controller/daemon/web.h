// The controller's web side: the web config (TLS, basic auth), the Alertmanager webhook with
// its guards, and the HTTP server with the routes. Started once by main(); the server's
// threads then call into the controller (see routes.h for what they read).
#pragma once

#include <functional>
#include <memory>

#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/metrics/http_metrics.h"
#include "common/result.h"
#include "controller/daemon/flags.h"
#include "controller/loop/controller.h"
#include "controller/loop/last_plan.h"
#include "controller/webhook/receiver.h"

namespace kvmem::daemon {

class Web {
 public:
  // Reads the bearer token and web config files and checks the webhook's exposure. Errors
  // (kConfig) are messages for stderr, exit 2. `evaluate_now` is what a firing alert queues.
  static Result<std::unique_ptr<Web>> Prepare(const Config& cfg, std::function<void()> evaluate_now);
  // Starts serving. `controller` and `last_plan` must outlive the Web.
  Result<void> Start(const Config& cfg, const loop::Controller& controller, const loop::LastPlan& last_plan);
  void Stop();

  webhook::Receiver* receiver() { return receiver_.get(); }
  int port() const { return server_ ? server_->port() : 0; }
  // "off", "/webhook (bearer token)", "/webhook (basic auth)" or "/webhook (no auth, loopback)".
  const char* WebhookMode() const;
  bool tls() const;

 private:
  Web() = default;
  webhook::ReceiverOptions webhook_options_;
  std::shared_ptr<http::WebConfigWatcher> web_config_;
  bool basic_auth_ = false;
  std::shared_ptr<http::ServerCounters> counters_ = std::make_shared<http::ServerCounters>();
  HttpServerMetrics http_metrics_{"kvmem_controller"};
  std::unique_ptr<webhook::Receiver> receiver_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace kvmem::daemon
