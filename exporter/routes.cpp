// The exporter's HTTP routes.
#include "exporter/routes.h"

#include "common/metrics/text_format.h"

namespace kvmem::exporter {
namespace {

std::string LandingPage(const std::string& telemetry_path, const std::vector<std::string>& enabled) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><title>kvmem exporter</title></head><body>\n"
      "<h1>kvmem exporter</h1>\n<p>Memory locality metrics for KVM hosts: NUMA nodes, hugepages, "
      "THP, KSM, swap, fragmentation and pressure.</p>\n<p><a href=\"" +
      telemetry_path + "\">Metrics</a></p>\n<h2>Enabled collectors</h2>\n<ul>\n";
  for (const auto& name : enabled) html += "<li>" + name + "</li>\n";
  html += "</ul>\n<p>Version " KVMEM_VERSION "</p>\n</body></html>\n";
  return html;
}

}  // namespace

http::Handler MakeHandler(Routes routes) {
  std::string landing = LandingPage(routes.telemetry_path, routes.collectors);
  return [r = std::move(routes), landing = std::move(landing)](const http::Request& req) {
    if (req.method != "GET" && req.method != "HEAD") {
      auto out = http::TextResponse(405, "method not allowed\n");
      out.headers.push_back({"Allow", "GET, HEAD"});
      return out;
    }
    if (req.path == r.telemetry_path) {
      http::Response out;
      out.content_type = "text/plain; version=0.0.4; charset=utf-8";
      out.body = r.scraper->ScrapeText();
      MetricSink server_sink;
      r.http_metrics->Collect(*r.counters, r.web_config, server_sink);
      out.body += SerializeText(server_sink.families());
      return out;
    }
    if (req.path == "/") {
      http::Response out;
      out.content_type = "text/html; charset=utf-8";
      out.body = landing;
      return out;
    }
    return http::TextResponse(404, "not found; metrics are at " + r.telemetry_path + "\n");
  };
}

}  // namespace kvmem::exporter
