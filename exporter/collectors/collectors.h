// Factories for every host collector, and the one table that names them.
// The table is built explicitly (no static self-registration). Thread-safe to read.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/checks/facts.h"
#include "exporter/exposition/collector.h"
#include "host/procfs/root.h"

namespace kvmem::collectors {

std::unique_ptr<Collector> MakeNumaCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeHugepagesCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeThpCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeKsmCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeSwapCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeFragmentationCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakePressureCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeMemoryBlocksCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeTieringCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeSettingsCollector(const procfs::Root& root);
std::unique_ptr<Collector> MakeDimmsCollector(const procfs::Root& root);

// How much the libvirt collector serves per VM (--collector.libvirt.vm-detail): everything, or
// only what the fleet recording rules, the alerts and a fleet dashboard read.
enum class VmDetail { kFull, kFleet };
// "full" or "fleet"; nullopt for anything else.
std::optional<VmDetail> ParseVmDetail(std::string_view text);

// What a collector may need to know at construction.
struct CollectorContext {
  procfs::Root root;
  std::string libvirt_uri = "qemu:///system";
  std::chrono::milliseconds libvirt_timeout{2000};
  VmDetail vm_detail = VmDetail::kFull;
  // The libvirt collector's latest VMs, for the host checks.
  std::shared_ptr<checks::DomainBoard> domains = std::make_shared<checks::DomainBoard>();
};

// Per-VM memory through libvirt (read-only); starts its own worker thread and connection.
std::unique_ptr<Collector> MakeLibvirtCollector(const CollectorContext& ctx);
// Host configuration checks; VM facts from ctx.domains (so after libvirt in the table).
std::unique_ptr<Collector> MakeHostCheckCollector(const CollectorContext& ctx);

struct CollectorEntry {
  std::string name;
  bool enabled_by_default;
  std::string description;
  std::function<std::unique_ptr<Collector>(const CollectorContext&)> make;
};

// Every collector, in exposition order.
const std::vector<CollectorEntry>& AllCollectors();

}  // namespace kvmem::collectors
