// kvmem_controller's flags and their checks.
#include "controller/daemon/flags.h"

#include <utility>

#include "common/http/server.h"
#include "common/log.h"
#include "controller/alerts/rules.h"
#include "host/procfs/read.h"
#include "host/procfs/root.h"

namespace kvmem::daemon {

void RegisterFlags(FlagSet& flags, Config* cfg) {
  cfg->runbook_url = alerts::kDefaultRunbookUrl;
  flags.String("policy", &cfg->policy_file,
               "Policy file (YAML); every key is optional (see docs/policy.md). Empty: the defaults.");
  flags.Bool("apply", &cfg->apply, "Apply actions. Without it the controller only logs and counts what it would do.");
  flags.Bool("once", &cfg->once, "Run one cycle, log its decisions and exit.");
  flags.Bool("print-policy", &cfg->print_policy, "Print the effective policy as YAML and exit.");
  flags.Bool("print-policy-example", &cfg->print_policy_example,
             "Print deploy/policy.yaml as the policy schema generates it and exit (for developers).");
  flags.Bool("print-policy-reference", &cfg->print_policy_reference,
             "Print the key tables of docs/policy.md as the policy schema generates them and exit (for developers).");
  flags.String("web.listen-address", &cfg->listen_address, "Address for the controller's metrics.");
  flags.String("web.config.file", &cfg->web_config_file,
               "Configuration file that can enable TLS or basic authentication for /metrics and /webhook (Prometheus "
               "exporter-toolkit format, re-read when it changes; see docs/security.md). Empty: plain HTTP.");
  flags.Bool("print-alert-rules", &cfg->print_alert_rules,
             "Print Prometheus alerting and recording rules carrying the policy's thresholds (YAML) and exit.");
  flags.Bool("print-fleet-rules", &cfg->print_fleet_rules,
             "Print the recording rules for a central Prometheus or vmalert over many hosts (balancer scores, "
             "capacity, OpenStack Watcher's series; docs/fleet.md) and exit.");
  flags.String("alerts.runbook-url", &cfg->runbook_url,
               "Runbook the printed rules link to; each alert appends #<its name in lower case>.");
  flags.Bool("webhook", &cfg->webhook,
             "Serve the Alertmanager webhook at /webhook: a firing alert about a policy rule makes the controller "
             "evaluate now.");
  flags.String("webhook.bearer-token-file", &cfg->webhook_token_file,
               "File with the bearer token Alertmanager must send; beyond loopback the webhook needs it or "
               "basic_auth_users in --web.config.file.");
  flags.String("path.procfs", &cfg->procfs, "procfs mountpoint.");
  flags.String(
      "path.sysfs", &cfg->sysfs,
      "sysfs mountpoint (compaction and hugepage pools write nodeN/compact and nodeN/hugepages/*/nr_hugepages here).");
  flags.String("libvirt.uri", &cfg->libvirt_uri,
               "libvirt URI (read-write: balloon, virtio-mem, vCPU pinning, hugepage demand); empty: no VMs, only "
               "compaction and pools.");
  flags.Duration("libvirt.timeout", &cfg->libvirt_timeout,
                 "How long one observation waits for libvirt before using the last good values.");
  flags.String("log.level", &cfg->log_level,
               "Only log messages with the given severity or above: debug, info, warn, error.");
  flags.String("log.format", &cfg->log_format, "Output format of log messages: logfmt or json.");
  flags.String("decision-log.file", &cfg->decision_log_file,
               "Append an intent and an outcome record (JSON lines, fdatasync'd) for every action to this file, and "
               "report actions a previous run left unfinished; empty: off (see docs/controller.md).");
  flags.Duration("actuate.timeout", &cfg->actuate_timeout,
                 "Longest one action (libvirt call, sysfs write) is waited for; then it counts as failed and SIGTERM "
                 "is no longer held up by it.");
  flags.Duration("actuate.backoff", &cfg->backoff_initial,
                 "Back-off after an action on a VM or node fails; doubles per consecutive failure.");
  flags.Duration("actuate.backoff-max", &cfg->backoff_max, "Cap of the doubled back-off.");
}

Result<void> CheckFlags(const Config& cfg) {
  // Durations are checked as they are parsed (FlagSet::Duration): at least 1 ms, in both daemons.
  auto root = procfs::CheckRootFlags({cfg.procfs, cfg.sysfs});
  if (!root) return tl::unexpected(root.error());
  for (const auto& warning : *root) log::Warn(warning);
  if (auto addr = http::CheckListenAddressFlag(cfg.listen_address); !addr) return addr;
  return {};
}

}  // namespace kvmem::daemon
