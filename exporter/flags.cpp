// kvmem_exporter's flags and their checks.
#include "exporter/flags.h"

#include "common/http/server.h"
#include "common/log.h"
#include "exporter/collectors/collectors.h"
#include "host/procfs/read.h"
#include "host/procfs/root.h"

namespace kvmem::exporter {

void RegisterFlags(FlagSet& flags, Config* cfg) {
  flags.String("web.listen-address", &cfg->listen_address, "Address to listen on for the web interface and telemetry.");
  flags.String("web.telemetry-path", &cfg->telemetry_path, "Path under which to expose metrics.");
  flags.String("web.config.file", &cfg->web_config_file,
               "Configuration file that can enable TLS or basic authentication (Prometheus exporter-toolkit format, "
               "re-read when it changes; see docs/security.md). Empty: plain HTTP.");
  flags.String("path.procfs", &cfg->procfs, "procfs mountpoint.");
  flags.String("path.sysfs", &cfg->sysfs, "sysfs mountpoint.");
  flags.String("log.level", &cfg->log_level,
               "Only log messages with the given severity or above: debug, info, warn, error.");
  flags.String("log.format", &cfg->log_format, "Output format of log messages: logfmt or json.");
  flags.String("libvirt.uri", &cfg->libvirt_uri,
               "libvirt connection URI, opened read-only (the exporter never writes).");
  flags.Duration("libvirt.timeout", &cfg->libvirt_timeout,
                 "Longest a scrape waits for libvirt; after it, cached values are served with their age.");
  flags.String("collector.libvirt.vm-detail", &cfg->vm_detail,
               "Per-VM metrics of the libvirt collector: full, or fleet for only those the fleet recording rules, "
               "the alerts and the fleet dashboard read (docs/metrics.md).");
  flags.Bool("check-host", &cfg->check_host,
             "Run the host configuration checks once, print the report and exit: 0 when no critical check fails, 3 "
             "when one does (docs/host-check.md).");
  flags.Bool("collector.disable-defaults", &cfg->disable_defaults, "Disable every collector not enabled explicitly.");
  for (const auto& c : collectors::AllCollectors()) {
    auto& slot = cfg->collectors[c.name];
    slot.first = c.enabled_by_default;
    flags.Bool("collector." + c.name, &slot.first, "Enable the " + c.name + " collector: " + c.description + ".",
               &slot.second);
  }
}

Result<void> CheckFlags(const Config& cfg) {
  log::Level level;
  log::Format format;
  if (!log::ParseLevel(cfg.log_level, &level)) {
    return Fail(ErrorKind::kConfig, "--log.level: expected debug, info, warn or error, got \"" + cfg.log_level + "\"");
  }
  if (!log::ParseFormat(cfg.log_format, &format)) {
    return Fail(ErrorKind::kConfig, "--log.format: expected logfmt or json, got \"" + cfg.log_format + "\"");
  }
  log::Configure(level, format);
  if (!collectors::ParseVmDetail(cfg.vm_detail)) {
    return Fail(ErrorKind::kConfig,
                "--collector.libvirt.vm-detail: expected full or fleet, got \"" + cfg.vm_detail + "\"");
  }
  if (cfg.telemetry_path.empty() || cfg.telemetry_path[0] != '/' || cfg.telemetry_path == "/") {
    return Fail(ErrorKind::kConfig,
                "--web.telemetry-path must start with / and not be /, got \"" + cfg.telemetry_path + "\"");
  }
  auto root = procfs::CheckRootFlags({cfg.procfs, cfg.sysfs});
  if (!root) return tl::unexpected(root.error());
  for (const auto& warning : *root) log::Warn(warning);
  if (auto addr = http::CheckListenAddressFlag(cfg.listen_address); !addr) return addr;
  return {};
}

std::vector<std::string> EnabledCollectors(const Config& cfg) {
  std::vector<std::string> names;
  for (const auto& c : collectors::AllCollectors()) {
    auto [on, set] = cfg.collectors.at(c.name);
    if (cfg.disable_defaults && !set) on = false;
    if (on) names.push_back(c.name);
  }
  return names;
}

}  // namespace kvmem::exporter
