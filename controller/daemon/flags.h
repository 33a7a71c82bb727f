// kvmem_controller's command line: every flag, its default and its check. Used once by main().
// Not thread-safe. Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <string>

#include "common/flags.h"
#include "common/result.h"

namespace kvmem::daemon {

struct Config {
  std::string policy_file;
  bool apply = false;
  bool once = false;
  bool print_policy = false;
  bool print_policy_example = false;
  bool print_policy_reference = false;
  bool print_alert_rules = false;
  bool print_fleet_rules = false;
  std::string runbook_url;
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

// Registers every flag on `flags`, writing into `cfg`, which must outlive `flags`.
void RegisterFlags(FlagSet& flags, Config* cfg);
// Checks the values that need more than their type: paths, the listen address, durations.
// The error is the whole message for stderr (exit 2).
Result<void> CheckFlags(const Config& cfg);

}  // namespace kvmem::daemon
