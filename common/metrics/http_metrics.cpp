// Families and values of the HTTP server's self-metrics.
#include "common/metrics/http_metrics.h"

#include <stdexcept>

namespace kvmem {

using prometheus::MetricType;

HttpServerMetrics::HttpServerMetrics(const std::string& prefix)
    : dropped_{prefix + "_http_connections_dropped_total",
               "Connections the HTTP server closed without an answer: evicted (the slowest client still sending its "
               "request, to admit a new one when full), refused (full, every connection busy), timeout (request or TLS "
               "handshake not complete within the read timeout).",
               MetricType::Counter,
               {"reason"}},
      unauthorized_{prefix + "_http_unauthorized_requests_total",
                    "Requests answered 401 because basic auth (basic_auth_users of the web config) failed.",
                    MetricType::Counter,
                    {}},
      reloads_{prefix + "_web_config_reloads_total",
               "Reloads of the --web.config.file after it or a certificate it names changed, by result.",
               MetricType::Counter,
               {"result"}},
      last_reload_ok_{prefix + "_web_config_last_reload_successful",
                      "1 when the last reload of the --web.config.file succeeded (or none was needed), 0 when the "
                      "previous config is still in force because the file on disk is bad.",
                      MetricType::Gauge,
                      {}} {
  for (const FamilyDesc* desc : Families()) {
    if (std::string err = ValidateFamily(*desc); !err.empty()) throw std::invalid_argument(err);
  }
}

void HttpServerMetrics::Collect(const http::ServerCounters& c, const http::WebConfigWatcher* web,
                                MetricSink& out) const {
  out.Add(dropped_, {"evicted"}, static_cast<double>(c.evicted.load()));
  out.Add(dropped_, {"refused"}, static_cast<double>(c.refused.load()));
  out.Add(dropped_, {"timeout"}, static_cast<double>(c.timed_out.load()));
  out.Add(unauthorized_, {}, static_cast<double>(c.unauthorized.load()));
  if (web == nullptr) return;
  const auto stats = web->stats();
  out.Add(reloads_, {"success"}, static_cast<double>(stats.reloads_success));
  out.Add(reloads_, {"failure"}, static_cast<double>(stats.reloads_failure));
  out.Add(last_reload_ok_, {}, stats.last_reload_ok ? 1.0 : 0.0);
}

std::vector<const FamilyDesc*> HttpServerMetrics::Families() const {
  return {&dropped_, &unauthorized_, &reloads_, &last_reload_ok_};
}

}  // namespace kvmem
