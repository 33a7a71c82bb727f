// kvmem_exporter's HTTP routes: / (landing page) and the telemetry path. The handler runs on
// the server's threads; the Scraper and the metrics it reads are thread-safe for that.
#pragma once

#include <string>
#include <vector>

#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/metrics/http_metrics.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::exporter {

// Pointers must outlive the server; `web_config` may be null.
struct Routes {
  std::string telemetry_path;
  std::vector<std::string> collectors;  // for the landing page
  Scraper* scraper = nullptr;
  const http::ServerCounters* counters = nullptr;
  const HttpServerMetrics* http_metrics = nullptr;
  const http::WebConfigWatcher* web_config = nullptr;
};

http::Handler MakeHandler(Routes routes);

}  // namespace kvmem::exporter
