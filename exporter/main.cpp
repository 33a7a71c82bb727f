// kvmem_exporter: flags, the HTTP server and signals. Everything else lives in the libraries.
#include <csignal>
#include <cstdio>
#include <map>

#include "common/flags.h"
#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/log.h"
#include "common/signals.h"
#include "exporter/collectors/collectors.h"
#include "common/metrics/http_metrics.h"
#include "exporter/exposition/scrape.h"
#include "common/metrics/text_format.h"
#include "host/procfs/read.h"

namespace {

using namespace kvmem;

struct Config {
  std::string listen_address = ":9848";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool disable_defaults = false;
  std::string libvirt_uri = "qemu:///system";
  std::chrono::milliseconds libvirt_timeout{2000};
  std::map<std::string, std::pair<bool, bool>> collectors;  // name -> {enabled, set on command line}
};

std::string LandingPage(const Config& cfg, const std::vector<std::string>& enabled) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><title>kvmem exporter</title></head><body>\n"
      "<h1>kvmem exporter</h1>\n<p>Memory locality metrics for KVM hosts: NUMA nodes, hugepages, "
      "THP, KSM, swap, fragmentation and pressure.</p>\n<p><a href=\"" +
      cfg.telemetry_path + "\">Metrics</a></p>\n<h2>Enabled collectors</h2>\n<ul>\n";
  for (const auto& name : enabled) html += "<li>" + name + "</li>\n";
  html += "</ul>\n<p>Version " KVMEM_VERSION "</p>\n</body></html>\n";
  return html;
}

int Run(int argc, char** argv) {
  Config cfg;
  FlagSet flags("kvmem_exporter",
                "Prometheus exporter for memory locality on KVM hosts: per NUMA node hugepages, THP, "
                "KSM, swap, fragmentation and pressure.");
  flags.String("web.listen-address", &cfg.listen_address, "Address to listen on for the web interface and telemetry.");
  flags.String("web.telemetry-path", &cfg.telemetry_path, "Path under which to expose metrics.");
  flags.String("web.config.file", &cfg.web_config_file, "Configuration file that can enable TLS or basic authentication (Prometheus exporter-toolkit format, re-read when it changes; see docs/security.md). Empty: plain HTTP.");
  flags.String("path.procfs", &cfg.procfs, "procfs mountpoint.");
  flags.String("path.sysfs", &cfg.sysfs, "sysfs mountpoint.");
  flags.String("log.level", &cfg.log_level, "Only log messages with the given severity or above: debug, info, warn, error.");
  flags.String("log.format", &cfg.log_format, "Output format of log messages: logfmt or json.");
  flags.String("libvirt.uri", &cfg.libvirt_uri, "libvirt connection URI, opened read-only (the exporter never writes).");
  flags.Duration("libvirt.timeout", &cfg.libvirt_timeout, "Longest a scrape waits for libvirt; after it, cached values are served with their age.");
  flags.Bool("collector.disable-defaults", &cfg.disable_defaults, "Disable every collector not enabled explicitly.");
  for (const auto& c : collectors::AllCollectors()) {
    auto& slot = cfg.collectors[c.name];
    slot.first = c.enabled_by_default;
    flags.Bool("collector." + c.name, &slot.first, "Enable the " + c.name + " collector: " + c.description + ".", &slot.second);
  }

  if (auto parsed = flags.Parse(argc, argv); !parsed) {
    std::fprintf(stderr, "kvmem_exporter: %s\n", parsed.error().message.c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (flags.version_requested()) {
    std::puts("kvmem_exporter " KVMEM_VERSION);
    return 0;
  }
  log::Level level;
  log::Format format;
  if (!log::ParseLevel(cfg.log_level, &level)) {
    std::fprintf(stderr, "kvmem_exporter: --log.level: expected debug, info, warn or error, got \"%s\"\n", cfg.log_level.c_str());
    return 2;
  }
  if (!log::ParseFormat(cfg.log_format, &format)) {
    std::fprintf(stderr, "kvmem_exporter: --log.format: expected logfmt or json, got \"%s\"\n", cfg.log_format.c_str());
    return 2;
  }
  log::Configure(level, format);
  if (cfg.telemetry_path.empty() || cfg.telemetry_path[0] != '/' || cfg.telemetry_path == "/") {
    std::fprintf(stderr, "kvmem_exporter: --web.telemetry-path must start with / and not be /, got \"%s\"\n", cfg.telemetry_path.c_str());
    return 2;
  }
  for (auto [flag, path] : {std::pair{"path.procfs", &cfg.procfs}, std::pair{"path.sysfs", &cfg.sysfs}}) {
    if (procfs::ListDir(*path).has_value()) continue;
    std::fprintf(stderr, "kvmem_exporter: --%s=%s is not a readable directory\n", flag, path->c_str());
    return 2;
  }
  if (cfg.libvirt_timeout.count() <= 0) {
    std::fprintf(stderr, "kvmem_exporter: --libvirt.timeout must be positive\n");
    return 2;
  }
  if (auto addr = http::ParseListenAddress(cfg.listen_address); !addr) {
    std::fprintf(stderr, "kvmem_exporter: --web.listen-address: %s\n", addr.error().message.c_str());
    return 2;
  }

  std::shared_ptr<http::WebConfigWatcher> web_config;
  if (!cfg.web_config_file.empty()) {
    auto opened = http::WebConfigWatcher::Open(cfg.web_config_file);
    if (!opened) {
      std::fprintf(stderr, "kvmem_exporter: --web.config.file: %s\n", opened.error().ToString().c_str());
      return 2;
    }
    web_config = *opened;
  }
  auto http_counters = std::make_shared<http::ServerCounters>();
  const HttpServerMetrics http_metrics("kvmem_exporter");

  collectors::CollectorContext ctx;
  ctx.root = {cfg.procfs, cfg.sysfs};
  ctx.libvirt_uri = cfg.libvirt_uri;
  ctx.libvirt_timeout = cfg.libvirt_timeout;
  std::vector<NamedCollector> enabled;
  std::vector<std::string> names;
  for (const auto& c : collectors::AllCollectors()) {
    auto [on, set] = cfg.collectors[c.name];
    if (cfg.disable_defaults && !set) on = false;
    if (!on) continue;
    enabled.push_back({c.name, c.make(ctx)});
    names.push_back(c.name);
  }
  Scraper scraper(std::move(enabled), "kvmem_exporter", KVMEM_VERSION);
  const std::string landing = LandingPage(cfg, names);

  auto handler = [&](const http::Request& req) {
    if (req.method != "GET" && req.method != "HEAD") {
      auto r = http::TextResponse(405, "method not allowed\n");
      r.headers.push_back({"Allow", "GET, HEAD"});
      return r;
    }
    if (req.path == cfg.telemetry_path) {
      http::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = scraper.ScrapeText();
      MetricSink server_sink;
      http_metrics.Collect(*http_counters, web_config.get(), server_sink);
      r.body += SerializeText(server_sink.families());
      return r;
    }
    if (req.path == "/") {
      http::Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = landing;
      return r;
    }
    return http::TextResponse(404, "not found; metrics are at " + cfg.telemetry_path + "\n");
  };

  http::ServerOptions options;
  options.listen_address = cfg.listen_address;
  options.web_config = web_config;
  options.counters = http_counters;
  auto server = http::Server::Start(options, handler);
  if (!server) {
    log::Error("cannot start the web server", {{"err", server.error().message}});
    return server.error().kind == ErrorKind::kConfig ? 2 : 1;
  }
  std::string collectors_list;
  for (const auto& n : names) collectors_list += (collectors_list.empty() ? "" : ",") + n;
  log::Info("kvmem_exporter started", {{"version", KVMEM_VERSION}, {"address", cfg.listen_address},
                                       {"port", std::to_string((*server)->port())},
                                       {"tls", web_config && web_config->Current()->tls ? "on" : "off"},
                                       {"collectors", collectors_list},
                                       {"procfs", cfg.procfs}, {"sysfs", cfg.sysfs}});
  for (;;) {
    int sig = WaitForSignal();
    if (sig == SIGHUP) {
      log::Info("SIGHUP received; nothing to reload (a --web.config.file is re-read when it changes)");
      continue;
    }
    log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  (*server)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kvmem::BlockShutdownSignals();
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvmem_exporter: fatal: %s\n", e.what());
    return 1;
  }
}
