// The controller's HTTP routes.
#include "controller/daemon/routes.h"

#include "common/metrics/text_format.h"

namespace kvmem::daemon {
namespace {

http::Response Metrics(const Routes& r) {
  MetricSink sink;
  r.controller->Collect(sink);
  if (r.receiver) r.receiver->Collect(sink);
  r.http_metrics->Collect(*r.counters, r.web_config, sink);
  http::Response out;
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";
  out.body = SerializeText(sink.families());
  return out;
}

http::Response Landing(bool apply) {
  http::Response out;
  out.content_type = "text/html; charset=utf-8";
  out.body = std::string(
                 "<!DOCTYPE html>\n<html><head><title>kvmem controller</title></head><body>\n"
                 "<h1>kvmem controller</h1>\n<p>Mode: ") +
             (apply ? "apply" : "dry-run") +
             "</p>\n<p><a href=\"/metrics\">Metrics</a></p>\n"
             "<p><a href=\"/plan\">Last plan</a>: what the latest cycle decided, every action and skip with its "
             "reason</p>\n"
             "</body></html>\n";
  return out;
}

}  // namespace

http::Handler MakeHandler(Routes routes) {
  return [r = routes](const http::Request& req) {
    if (r.receiver && req.path == webhook::kPath) return r.receiver->Handle(req);
    if (req.path == "/metrics") return Metrics(r);
    if (req.path == "/plan") {
      http::Response out;
      out.content_type = "text/plain; charset=utf-8";
      out.body = r.last_plan->Render();
      return out;
    }
    if (req.path == "/") return Landing(r.apply);
    return http::TextResponse(404, "not found\n");
  };
}

}  // namespace kvmem::daemon
