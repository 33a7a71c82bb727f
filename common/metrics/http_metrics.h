// The HTTP server's self-metrics, the same for both daemons under their own prefix: what
// the server dropped (slow, refused, timed-out connections; failed basic auth) and, when a
// --web.config.file is in use, how its reloads went.
// Thread-safety: Collect() from any thread (it reads atomics and the watcher's locked stats).
// The constructor throws std::invalid_argument for a malformed prefix (start-up only).
#pragma once

#include <string>
#include <vector>

#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/metrics/sink.h"

namespace kvmem {

class HttpServerMetrics {
 public:
  // `prefix` is the daemon's, e.g. "kvmem_exporter".
  explicit HttpServerMetrics(const std::string& prefix);

  // `web` may be null (no web config): its families are then absent.
  void Collect(const http::ServerCounters& counters, const http::WebConfigWatcher* web, MetricSink& out) const;
  std::vector<const FamilyDesc*> Families() const;

 private:
  FamilyDesc dropped_, unauthorized_, reloads_, last_reload_ok_;
};

}  // namespace kvmem
