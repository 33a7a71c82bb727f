// --check-host: gather facts, run the checks, print the report.
#include "exporter/check_host.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "exporter/checks/facts.h"
#include "host/virt/source.h"

namespace kvmem::exporter {

int CheckHost(const Config& cfg) {
  const procfs::Root root{cfg.procfs, cfg.sysfs};
  const auto before = checks::ReadHintFaults(root);
  const auto started = std::chrono::steady_clock::now();
  checks::HostFacts facts = checks::GatherHostFacts(root);
  const auto names = EnabledCollectors(cfg);
  if (!cfg.libvirt_uri.empty() && std::find(names.begin(), names.end(), "libvirt") != names.end()) {
    virt::SourceOptions options;
    options.uri = cfg.libvirt_uri;
    options.root = root;
    virt::LibvirtSource source(options);
    if (auto snap = source.Get(cfg.libvirt_timeout); snap.up) facts.vms = checks::VmFactsOf(snap);
  }
  // A rate needs two samples; the libvirt round above counts toward the second.
  std::this_thread::sleep_until(started + std::chrono::seconds(1));
  const auto after = checks::ReadHintFaults(root);
  if (before && after && *after >= *before) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    facts.hint_faults_per_second = static_cast<double>(*after - *before) / seconds;
  }
  const auto results = checks::RunHostChecks(facts);
  std::fputs(checks::FormatReport(results).c_str(), stdout);
  return checks::ExitCode(results);
}

}  // namespace kvmem::exporter
