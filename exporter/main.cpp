// kvmem_exporter: the command line, the collectors it enables, the HTTP server and signals.
// Everything else lives in the libraries.
#include <algorithm>
#include <csignal>
#include <cstdio>

#include "common/flags.h"
#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/log.h"
#include "common/metrics/http_metrics.h"
#include "common/signals.h"
#include "exporter/check_host.h"
#include "exporter/collectors/collectors.h"
#include "exporter/exposition/scrape.h"
#include "exporter/flags.h"
#include "exporter/routes.h"

namespace {

using namespace kvmem;

int Usage(const std::string& msg) {
  std::fprintf(stderr, "kvmem_exporter: %s\n", msg.c_str());
  return 2;
}

std::vector<NamedCollector> MakeCollectors(const exporter::Config& cfg, const std::vector<std::string>& names) {
  collectors::CollectorContext ctx;
  ctx.root = {cfg.procfs, cfg.sysfs};
  ctx.libvirt_uri = cfg.libvirt_uri;
  ctx.libvirt_timeout = cfg.libvirt_timeout;
  ctx.vm_detail =
      collectors::ParseVmDetail(cfg.vm_detail).value_or(collectors::VmDetail::kFull);  // CheckFlags rejects the rest
  std::vector<NamedCollector> out;
  for (const auto& c : collectors::AllCollectors()) {
    if (std::find(names.begin(), names.end(), c.name) != names.end()) out.push_back({c.name, c.make(ctx)});
  }
  return out;
}

// Blocks until SIGTERM or SIGINT; SIGHUP is logged and ignored.
void WaitForShutdown() {
  for (;;) {
    const int sig = WaitForSignal();
    if (sig != SIGHUP) {
      log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      return;
    }
    log::Info("SIGHUP received; nothing to reload (a --web.config.file is re-read when it changes)");
  }
}

int Run(int argc, char** argv) {
  exporter::Config cfg;
  FlagSet flags("kvmem_exporter",
                "Prometheus exporter for memory locality on KVM hosts: per NUMA node hugepages, THP, "
                "KSM, swap, fragmentation and pressure.");
  exporter::RegisterFlags(flags, &cfg);
  if (auto parsed = flags.Parse(argc, argv); !parsed) return Usage(parsed.error().message);
  if (flags.help_requested()) return std::fputs(flags.Usage().c_str(), stdout) < 0;
  if (flags.version_requested()) return std::puts("kvmem_exporter " KVMEM_VERSION) < 0;
  if (auto checked = exporter::CheckFlags(cfg); !checked) return Usage(checked.error().message);
  if (cfg.check_host) return exporter::CheckHost(cfg);
  std::shared_ptr<http::WebConfigWatcher> web_config;
  if (!cfg.web_config_file.empty()) {
    auto opened = http::WebConfigWatcher::Open(cfg.web_config_file);
    if (!opened) return Usage("--web.config.file: " + opened.error().ToString());
    web_config = *opened;
  }
  auto http_counters = std::make_shared<http::ServerCounters>();
  const HttpServerMetrics http_metrics("kvmem_exporter");
  const std::vector<std::string> names = exporter::EnabledCollectors(cfg);
  Scraper scraper(MakeCollectors(cfg, names), "kvmem_exporter", KVMEM_VERSION);

  http::ServerOptions options;
  options.listen_address = cfg.listen_address;
  options.web_config = web_config;
  options.counters = http_counters;
  auto server = http::Server::Start(options, exporter::MakeHandler({.telemetry_path = cfg.telemetry_path,
                                                                    .collectors = names,
                                                                    .scraper = &scraper,
                                                                    .counters = http_counters.get(),
                                                                    .http_metrics = &http_metrics,
                                                                    .web_config = web_config.get()}));
  if (!server) {
    log::Error("cannot start the web server", {{"err", server.error().message}});
    return server.error().kind == ErrorKind::kConfig ? 2 : 1;
  }
  std::string collectors_list;
  for (const auto& n : names) collectors_list += (collectors_list.empty() ? "" : ",") + n;
  log::Info("kvmem_exporter started", {{"version", KVMEM_VERSION},
                                       {"address", cfg.listen_address},
                                       {"port", std::to_string((*server)->port())},
                                       {"tls", web_config && web_config->Current()->tls ? "on" : "off"},
                                       {"collectors", collectors_list},
                                       {"procfs", cfg.procfs},
                                       {"sysfs", cfg.sysfs}});
  WaitForShutdown();
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
