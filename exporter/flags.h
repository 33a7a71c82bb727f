// kvmem_exporter's command line: every flag, its default and its check. Used once by main().
// Not thread-safe. Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "common/flags.h"
#include "common/result.h"

namespace kvmem::exporter {

struct Config {
  std::string listen_address = ":9848";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool disable_defaults = false;
  bool check_host = false;
  std::string libvirt_uri = "qemu:///system";
  std::chrono::milliseconds libvirt_timeout{2000};
  std::string vm_detail = "full";                           // --collector.libvirt.vm-detail: full or fleet
  std::map<std::string, std::pair<bool, bool>> collectors;  // name -> {enabled, set on command line}
};

// Registers every flag on `flags`, writing into `cfg`, which must outlive `flags`.
void RegisterFlags(FlagSet& flags, Config* cfg);
// Checks what needs more than its type, and configures logging. The error is the whole
// message for stderr (exit 2).
Result<void> CheckFlags(const Config& cfg);
// The collectors that are on, in registry order.
std::vector<std::string> EnabledCollectors(const Config& cfg);

}  // namespace kvmem::exporter
