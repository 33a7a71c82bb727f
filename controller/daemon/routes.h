// kvmem_controller's HTTP routes: / (landing page), /metrics, /plan and, when on, /webhook.
// The handler runs on the server's threads; everything it reads is thread-safe for readers
// (see each type's header). Throws only std::bad_alloc.
#pragma once

#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/metrics/http_metrics.h"
#include "controller/loop/controller.h"
#include "controller/loop/last_plan.h"
#include "controller/webhook/receiver.h"

namespace kvmem::daemon {

// Pointers must outlive the server; `receiver` and `web_config` may be null.
struct Routes {
  bool apply = false;
  const loop::Controller* controller = nullptr;
  const loop::LastPlan* last_plan = nullptr;
  webhook::Receiver* receiver = nullptr;
  const http::ServerCounters* counters = nullptr;
  const HttpServerMetrics* http_metrics = nullptr;
  const http::WebConfigWatcher* web_config = nullptr;
};

http::Handler MakeHandler(Routes routes);

}  // namespace kvmem::daemon
