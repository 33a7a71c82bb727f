// kvmem_controller: the command line, then the layers wired together (daemon/) and run on
// one Asio loop: a timer for cycles, the webhook's early cycles, signals. Everything else
// lives in the libraries.
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>

#include "common/flags.h"
#include "common/log.h"
#include "controller/alerts/rules.h"
#include "controller/config/policy_yaml.h"
#include "controller/config/reference.h"
#include "controller/daemon/actuators.h"
#include "controller/daemon/flags.h"
#include "controller/daemon/observer.h"
#include "controller/daemon/web.h"
#include "controller/loop/controller.h"
#include "controller/loop/decision_log.h"
#include "controller/loop/last_plan.h"
#include "controller/loop/signal_watcher.h"

namespace {

using namespace kvmem;

int Usage(const std::string& msg) {
  std::fprintf(stderr, "kvmem_controller: %s\n", msg.c_str());
  return 2;
}

// Parses the flags and configures logging; an exit code when the program should stop here
// (--help, --version, a usage error).
std::optional<int> ParseCommandLine(int argc, char** argv, daemon::Config* cfg) {
  FlagSet flags("kvmem_controller",
                "Feedback controller for VM memory on KVM hosts: balloon targets, virtio-mem sizes, "
                "per-node compaction, hugepage pools and NUMA placement, decided from a policy file. "
                "Dry-run unless --apply is given.");
  daemon::RegisterFlags(flags, cfg);
  if (auto parsed = flags.Parse(argc, argv); !parsed) return Usage(parsed.error().message);
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
  if (!log::ParseLevel(cfg->log_level, &level)) return Usage("--log.level: expected debug, info, warn or error");
  if (!log::ParseFormat(cfg->log_format, &format)) return Usage("--log.format: expected logfmt or json");
  log::Configure(level, format);
  return std::nullopt;
}

Result<model::Policy> LoadPolicy(const daemon::Config& cfg) {
  if (cfg.policy_file.empty()) return model::Policy{};
  return config::LoadPolicyFile(cfg.policy_file);
}

// SIGHUP re-reads the policy (keeping the old one when the new one is bad) and reopens the
// decision log.
void Reload(const daemon::Config& cfg, loop::Controller& controller, loop::DecisionLog* decision_log) {
  auto reloaded = LoadPolicy(cfg);
  controller.CountReload(reloaded.has_value());
  if (reloaded) {
    controller.SetPolicy(*reloaded);
    log::Info("policy reloaded", {{"policy", cfg.policy_file}});
  } else {
    log::Error("policy reload failed; keeping the previous policy", {{"err", reloaded.error().ToString()}});
  }
  if (decision_log) decision_log->Reopen();
}

// Runs cycles every policy interval until SIGTERM or SIGINT. Signals arrive on the watcher's
// thread: SIGTERM has already stopped further actions (the stop flag); the rest runs on the
// loop, after the cycle in flight.
void Serve(boost::asio::io_context& io, loop::SignalWatcher& signals, const std::function<void()>& run_once,
           const std::function<void()>& reload, const loop::Controller& controller) {
  boost::asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    run_once();
    timer.expires_after(controller.policy().interval);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  signals.OnSignal([&](int sig) {
    boost::asio::post(io, [&, sig] {
      if (sig == SIGHUP) return reload();
      log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      timer.cancel();
      io.stop();
    });
  });
  boost::asio::post(io, tick);
  io.run();
  signals.OnSignal({});  // io and timer are about to go
}

int Run(int argc, char** argv) {
  daemon::Config cfg;
  if (auto exit = ParseCommandLine(argc, argv, &cfg)) return *exit;
  // Generated documents: before loading, as they never depend on a policy file.
  if (cfg.print_policy_example) return std::fputs(config::PolicyExample().c_str(), stdout) < 0;
  if (cfg.print_policy_reference) return std::fputs(config::PolicyReference().c_str(), stdout) < 0;
  if (cfg.print_fleet_rules) return std::fputs(alerts::GenerateFleetRules().c_str(), stdout) < 0;
  auto policy = LoadPolicy(cfg);
  if (!policy) return Usage(policy.error().ToString());
  if (cfg.print_policy) return std::fputs(config::RenderPolicy(*policy).c_str(), stdout) < 0;
  if (cfg.print_alert_rules) return std::fputs(alerts::GenerateRules(*policy, {cfg.runbook_url}).c_str(), stdout) < 0;
  if (auto checked = daemon::CheckFlags(cfg); !checked) return Usage(checked.error().message);

  loop::SignalWatcher signal_watcher;  // before any thread: all inherit the blocked signals
  std::unique_ptr<loop::DecisionLog> decision_log;
  if (!cfg.decision_log_file.empty()) {
    auto opened = loop::DecisionLog::Open(cfg.decision_log_file);
    if (!opened) return Usage(opened.error().ToString());
    decision_log = std::move(*opened);
    decision_log->Recover();
  }
  const procfs::Root root{cfg.procfs, cfg.sysfs};
  daemon::ActuatorStack actuators(cfg, root);
  daemon::Observer observer(cfg, root);
  loop::Controller controller([&](model::TimePoint now) { return observer.Observe(now, controller); }, actuators.top(),
                              *policy, !cfg.apply);
  controller.SetStopFlag(&signal_watcher.stop_flag());
  if (decision_log) controller.SetDecisionLog(decision_log.get());
  loop::LastPlan last_plan(!cfg.apply);
  auto run_once = [&] {
    const auto wall = std::chrono::system_clock::now();
    model::Plan plan = controller.RunOnce(model::ToTimePoint(std::chrono::steady_clock::now()), wall);
    last_plan.Record(plan, wall);
    return plan;
  };
  if (cfg.once) return std::fputs((model::ToString(run_once()) + "\n").c_str(), stdout) < 0;

  // The webhook queues an immediate cycle on the loop: a normal Decide, so floors, cooldowns
  // and limits apply (controller/webhook).
  boost::asio::io_context io;
  webhook::Receiver* receiver = nullptr;
  auto web = daemon::Web::Prepare(cfg, [&] { boost::asio::post(io, [&] { receiver->RunPending(run_once); }); });
  if (!web) return Usage(web.error().message);
  receiver = (*web)->receiver();
  if (auto started = (*web)->Start(cfg, controller, last_plan); !started) {
    log::Error("cannot start the web server", {{"err", started.error().message}});
    return started.error().kind == ErrorKind::kConfig ? 2 : 1;
  }
  log::Info("kvmem_controller started", {{"version", KVMEM_VERSION},
                                         {"mode", cfg.apply ? "apply" : "dry-run"},
                                         {"address", cfg.listen_address},
                                         {"port", std::to_string((*web)->port())},
                                         {"policy", cfg.policy_file.empty() ? "(defaults)" : cfg.policy_file},
                                         {"libvirt", cfg.libvirt_uri},
                                         {"interval_ms", std::to_string(policy->interval.count())},
                                         {"webhook", (*web)->WebhookMode()},
                                         {"tls", (*web)->tls() ? "on" : "off"}});
  Serve(
      io, signal_watcher, run_once, [&] { Reload(cfg, controller, decision_log.get()); }, controller);
  (*web)->Stop();
  if (actuators.stuck()) {
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
