// kvmem_controller: flags, wiring (observe, decide, act), the Asio loop, signals and the
// metrics endpoint. Everything else lives in the libraries.
#include <csignal>
#include <cstdio>
#include <memory>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>

#include "common/flags.h"
#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/log.h"
#include "controller/actuate/compaction.h"
#include "controller/actuate/libvirt.h"
#include "controller/actuate/hugepages.h"
#include "controller/actuate/libvirt_connection.h"
#include "controller/actuate/placement.h"
#include "controller/alerts/rules.h"
#include "controller/config/policy_yaml.h"
#include "controller/config/reference.h"
#include "controller/loop/controller.h"
#include "controller/actuate/deadline.h"
#include "controller/loop/decision_log.h"
#include "controller/loop/last_plan.h"
#include "controller/loop/signal_watcher.h"
#include "controller/observe/observe.h"
#include "controller/webhook/receiver.h"
#include "common/metrics/http_metrics.h"
#include "common/metrics/text_format.h"
#include "host/procfs/read.h"
#include "host/virt/source.h"

namespace {

using namespace kvmem;

struct Config {
  std::string policy_file;
  bool apply = false;
  bool once = false;
  bool print_policy = false;
  bool print_policy_example = false;
  bool print_policy_reference = false;
  bool print_alert_rules = false;
  std::string runbook_url{alerts::kDefaultRunbookUrl};
  bool webhook = true;
  std::string webhook_token_file;
  std::string listen_address = "127.0.0.1:9849";
  std::string web_config_file;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string libvirt_uri = "qemu:///system";
  std::chrono::milliseconds libvirt_timeout{2000};
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string decision_log_file;
  std::chrono::milliseconds actuate_timeout{30000};
  std::chrono::milliseconds backoff_initial{10000};
  std::chrono::milliseconds backoff_max{600000};
};

int Usage(const char* msg) {
  std::fprintf(stderr, "kvmem_controller: %s\n", msg);
  return 2;
}

int Run(int argc, char** argv) {
  Config cfg;
  FlagSet flags("kvmem_controller",
                "Feedback controller for VM memory on KVM hosts: balloon targets, virtio-mem sizes, "
                "per-node compaction, hugepage pools and NUMA placement, decided from a policy file. "
                "Dry-run unless --apply is given.");
  flags.String("policy", &cfg.policy_file, "Policy file (YAML); every key is optional (see docs/policy.md). Empty: the defaults.");
  flags.Bool("apply", &cfg.apply, "Apply actions. Without it the controller only logs and counts what it would do.");
  flags.Bool("once", &cfg.once, "Run one cycle, log its decisions and exit.");
  flags.Bool("print-policy", &cfg.print_policy, "Print the effective policy as YAML and exit.");
  flags.Bool("print-policy-example", &cfg.print_policy_example, "Print deploy/policy.yaml as the policy schema generates it and exit (for developers).");
  flags.Bool("print-policy-reference", &cfg.print_policy_reference, "Print the key tables of docs/policy.md as the policy schema generates them and exit (for developers).");
  flags.String("web.listen-address", &cfg.listen_address, "Address for the controller's metrics.");
  flags.String("web.config.file", &cfg.web_config_file, "Configuration file that can enable TLS or basic authentication for /metrics and /webhook (Prometheus exporter-toolkit format, re-read when it changes; see docs/security.md). Empty: plain HTTP.");
  flags.Bool("print-alert-rules", &cfg.print_alert_rules, "Print Prometheus alerting and recording rules carrying the policy's thresholds (YAML) and exit.");
  flags.String("alerts.runbook-url", &cfg.runbook_url, "Runbook the printed rules link to; each alert appends #<its name in lower case>.");
  flags.Bool("webhook", &cfg.webhook, "Serve the Alertmanager webhook at /webhook: a firing alert about a policy rule makes the controller evaluate now.");
  flags.String("webhook.bearer-token-file", &cfg.webhook_token_file, "File with the bearer token Alertmanager must send; beyond loopback the webhook needs it or basic_auth_users in --web.config.file.");
  flags.String("path.procfs", &cfg.procfs, "procfs mountpoint.");
  flags.String("path.sysfs", &cfg.sysfs, "sysfs mountpoint (compaction and hugepage pools write nodeN/compact and nodeN/hugepages/*/nr_hugepages here).");
  flags.String("libvirt.uri", &cfg.libvirt_uri, "libvirt URI (read-write: balloon, virtio-mem, vCPU pinning, hugepage demand); empty: no VMs, only compaction and pools.");
  flags.Duration("libvirt.timeout", &cfg.libvirt_timeout, "How long one observation waits for libvirt before using the last good values.");
  flags.String("log.level", &cfg.log_level, "Only log messages with the given severity or above: debug, info, warn, error.");
  flags.String("log.format", &cfg.log_format, "Output format of log messages: logfmt or json.");
  flags.String("decision-log.file", &cfg.decision_log_file, "Append an intent and an outcome record (JSON lines, fdatasync'd) for every action to this file, and report actions a previous run left unfinished; empty: off (see docs/controller.md).");
  flags.Duration("actuate.timeout", &cfg.actuate_timeout, "Longest one action (libvirt call, sysfs write) is waited for; then it counts as failed and SIGTERM is no longer held up by it.");
  flags.Duration("actuate.backoff", &cfg.backoff_initial, "Back-off after an action on a VM or node fails; doubles per consecutive failure.");
  flags.Duration("actuate.backoff-max", &cfg.backoff_max, "Cap of the doubled back-off.");
  if (auto parsed = flags.Parse(argc, argv); !parsed) return Usage(parsed.error().message.c_str());
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (flags.version_requested()) {
    std::puts("kvmem_controller " KVMEM_VERSION);
    return 0;
  }
  log::Level level;
  log::Format format;
  if (!log::ParseLevel(cfg.log_level, &level)) return Usage("--log.level: expected debug, info, warn or error");
  if (!log::ParseFormat(cfg.log_format, &format)) return Usage("--log.format: expected logfmt or json");
  log::Configure(level, format);

  // Generated documents: before loading, as they never depend on a policy file.
  if (cfg.print_policy_example || cfg.print_policy_reference) {
    std::fputs((cfg.print_policy_example ? config::PolicyExample() : config::PolicyReference()).c_str(), stdout);
    return 0;
  }
  auto load = [&]() -> Result<model::Policy> {
    if (cfg.policy_file.empty()) return model::Policy{};
    return config::LoadPolicyFile(cfg.policy_file);
  };
  auto policy = load();
  if (!policy) return Usage(policy.error().ToString().c_str());
  if (cfg.print_policy) {
    std::fputs(config::RenderPolicy(*policy).c_str(), stdout);
    return 0;
  }
  if (cfg.print_alert_rules) {
    std::fputs(alerts::GenerateRules(*policy, {cfg.runbook_url}).c_str(), stdout);
    return 0;
  }
  for (auto [flag, path] : {std::pair{"path.procfs", &cfg.procfs}, std::pair{"path.sysfs", &cfg.sysfs}}) {
    if (!procfs::ListDir(*path)) return Usage(("--" + std::string(flag) + "=" + *path + " is not a readable directory").c_str());
  }
  if (auto addr = http::ParseListenAddress(cfg.listen_address); !addr) return Usage(addr.error().message.c_str());

  for (auto [flag, d] : {std::pair{"actuate.timeout", cfg.actuate_timeout}, std::pair{"actuate.backoff", cfg.backoff_initial},
                         std::pair{"actuate.backoff-max", cfg.backoff_max}}) {
    if (d.count() <= 0) return Usage(("--" + std::string(flag) + " must be positive").c_str());
  }
  // Before any thread starts: every thread inherits the blocked SIGINT/SIGTERM/SIGHUP.
  loop::SignalWatcher signal_watcher;
  std::unique_ptr<loop::DecisionLog> decision_log;
  if (!cfg.decision_log_file.empty()) {
    auto opened = loop::DecisionLog::Open(cfg.decision_log_file);
    if (!opened) return Usage(opened.error().ToString().c_str());
    decision_log = std::move(*opened);
    decision_log->Recover();
  }

  procfs::Root root{cfg.procfs, cfg.sysfs};
  std::unique_ptr<virt::LibvirtSource> source;
  if (!cfg.libvirt_uri.empty()) {
    virt::SourceOptions so;
    so.uri = cfg.libvirt_uri;
    so.root = root;
    so.include_inactive = true;  // shut-off autostart VMs: hugepage demand the pools reserve ahead
    source = std::make_unique<virt::LibvirtSource>(so);
  }
  actuate::LibvirtConnection libvirt_connection(cfg.libvirt_uri);  // one read-write connection for every actuator
  actuate::LibvirtConnection* shared_libvirt = cfg.libvirt_uri.empty() ? nullptr : &libvirt_connection;
  actuate::LibvirtActuator libvirt_actuator(libvirt_connection);
  actuate::SysfsCompaction compaction(root);
  actuate::HugepagePoolActuator hugepages(root, shared_libvirt);  // virNodeAllocPages, else sysfs
  actuate::PlacementActuator placement({root, shared_libvirt});  // libvirt pinning, libnuma migration
  actuate::Router router(cfg.libvirt_uri.empty() ? nullptr : &libvirt_actuator, &compaction, &hugepages, &placement);
  actuate::DryRun dry_run;
  actuate::Deadline deadline(&router, cfg.actuate_timeout);  // a hung call cannot hold the loop
  actuate::Backoff backoff(cfg.apply ? static_cast<actuate::Actuator*>(&deadline) : &dry_run,
                           cfg.backoff_initial, cfg.backoff_max,
                           [] { return std::chrono::steady_clock::now(); });

  const uint64_t default_hugepage_bytes = observe::DefaultHugepageBytes(root);  // fixed at boot
  loop::Controller* controller_ptr = nullptr;
  auto observe = [&](model::TimePoint now) -> Result<model::Observation> {
    auto obs = observe::ObserveHost(root, now);
    if (!obs || !source) return obs;
    auto snapshot = source->Get(cfg.libvirt_timeout);
    controller_ptr->NoteLibvirt(snapshot.up, snapshot.connection_errors);
    obs->vms = observe::VmsFromSnapshot(snapshot, now, std::chrono::system_clock::now(),
                                        controller_ptr->policy().stale_after, default_hugepage_bytes);
    return obs;
  };
  loop::Controller controller(observe, backoff, *policy, !cfg.apply);
  controller_ptr = &controller;
  controller.SetStopFlag(&signal_watcher.stop_flag());
  if (decision_log) controller.SetDecisionLog(decision_log.get());

  loop::LastPlan last_plan(!cfg.apply);
  auto run_once = [&] {
    const auto wall = std::chrono::system_clock::now();
    model::Plan plan = controller.RunOnce(model::ToTimePoint(std::chrono::steady_clock::now()), wall);
    last_plan.Record(plan, wall);
    return plan;
  };
  if (cfg.once) {
    std::fputs((model::ToString(run_once()) + "\n").c_str(), stdout);
    return 0;
  }

  // The webhook queues an immediate cycle on the loop's io_context: a normal Decide, so
  // floors, cooldowns and limits apply (controller/webhook).
  boost::asio::io_context io;
  webhook::ReceiverOptions webhook_options;
  if (cfg.webhook && !cfg.webhook_token_file.empty()) {
    auto token = webhook::ReadBearerTokenFile(cfg.webhook_token_file);
    if (!token) return Usage(token.error().message.c_str());
    webhook_options.bearer_token = *token;
  }
  // TLS and basic auth for every path; /webhook keeps its bearer token when one is given.
  std::shared_ptr<http::WebConfigWatcher> web_config;
  if (!cfg.web_config_file.empty()) {
    auto opened = http::WebConfigWatcher::Open(cfg.web_config_file);
    if (!opened) return Usage(("--web.config.file: " + opened.error().ToString()).c_str());
    web_config = *opened;
  }
  const bool basic_auth = web_config && !web_config->Current()->config.basic_users.empty();
  auto http_counters = std::make_shared<http::ServerCounters>();
  const HttpServerMetrics http_metrics("kvmem_controller");
  if (auto exposed = webhook::CheckExposure(cfg.listen_address, !webhook_options.bearer_token.empty() || basic_auth); cfg.webhook && !exposed) {
    return Usage(exposed.error().message.c_str());
  }
  // Basic auth may leave the web config at runtime; a webhook beyond loopback without its own
  // token then refuses every request rather than run unauthenticated.
  if (web_config && webhook_options.bearer_token.empty() && !webhook::CheckExposure(cfg.listen_address, false)) {
    webhook_options.require_basic_user = true;
  }
  std::unique_ptr<webhook::Receiver> receiver;
  if (cfg.webhook) {
    receiver = std::make_unique<webhook::Receiver>(webhook_options, [&] {
      boost::asio::post(io, [&] { receiver->RunPending(run_once); });
    });
  }

  auto handler = [&](const http::Request& req) {
    if (receiver && req.path == webhook::kPath) return receiver->Handle(req);
    if (req.path == "/metrics") {
      MetricSink sink;
      controller.Collect(sink);
      hugepages.Collect(sink);
      if (receiver) receiver->Collect(sink);
      http_metrics.Collect(*http_counters, web_config.get(), sink);
      http::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = SerializeText(sink.families());
      return r;
    }
    if (req.path == "/plan") {
      http::Response r;
      r.content_type = "text/plain; charset=utf-8";
      r.body = last_plan.Render();
      return r;
    }
    if (req.path == "/") {
      http::Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = std::string("<!DOCTYPE html>\n<html><head><title>kvmem controller</title></head><body>\n"
                           "<h1>kvmem controller</h1>\n<p>Mode: ") +
               (cfg.apply ? "apply" : "dry-run") + "</p>\n<p><a href=\"/metrics\">Metrics</a></p>\n"
                 "<p><a href=\"/plan\">Last plan</a>: what the latest cycle decided, every action and skip with its reason</p>\n"
                 "</body></html>\n";
      return r;
    }
    return http::TextResponse(404, "not found\n");
  };
  http::ServerOptions options;
  options.listen_address = cfg.listen_address;
  options.threads = 1;
  options.web_config = web_config;
  options.counters = http_counters;
  if (!webhook_options.bearer_token.empty()) options.basic_auth_exempt_paths = {std::string(webhook::kPath)};
  options.on_reject = [&](int status, const http::Request& partial) {
    if (receiver && partial.path == webhook::kPath) receiver->NoteServerRefusal(status, partial);
  };
  auto server = http::Server::Start(options, handler);
  if (!server) {
    log::Error("cannot start the web server", {{"err", server.error().message}});
    return server.error().kind == ErrorKind::kConfig ? 2 : 1;
  }
  log::Info("kvmem_controller started",
            {{"version", KVMEM_VERSION}, {"mode", cfg.apply ? "apply" : "dry-run"},
             {"address", cfg.listen_address}, {"port", std::to_string((*server)->port())},
             {"policy", cfg.policy_file.empty() ? "(defaults)" : cfg.policy_file},
             {"libvirt", cfg.libvirt_uri}, {"interval_ms", std::to_string(policy->interval.count())},
             {"webhook", !receiver ? "off" : !webhook_options.bearer_token.empty() ? "/webhook (bearer token)" : basic_auth ? "/webhook (basic auth)" : "/webhook (no auth, loopback)"},
             {"tls", web_config && web_config->Current()->tls ? "on" : "off"}});

  boost::asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    run_once();
    timer.expires_after(controller.policy().interval);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  // Signals arrive on the watcher's thread: SIGTERM has already stopped further actions
  // (the stop flag); the rest runs on the loop, after the cycle in flight.
  signal_watcher.OnSignal([&](int sig) {
    boost::asio::post(io, [&, sig] {
      if (sig == SIGHUP) {
        auto reloaded = load();
        controller.CountReload(reloaded.has_value());
        if (reloaded) {
          controller.SetPolicy(*reloaded);
          log::Info("policy reloaded", {{"policy", cfg.policy_file}});
        } else {
          log::Error("policy reload failed; keeping the previous policy", {{"err", reloaded.error().ToString()}});
        }
        if (decision_log) decision_log->Reopen();
        return;
      }
      log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      timer.cancel();
      io.stop();
    });
  });
  boost::asio::post(io, tick);
  io.run();
  signal_watcher.OnSignal({});  // io and timer are about to go
  (*server)->Stop();
  if (deadline.stuck()) {
    // The worker is inside a call that cannot be cancelled and still uses the actuators on
    // this stack: leave without unwinding. Every decision record is already fdatasync'd.
    log::Warn("exiting with an action still running past --actuate.timeout; its effect is observed on the next start");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvmem_controller: fatal: %s\n", e.what());
    return 1;
  }
}
