// Reads the facts the host checks judge.
#include "exporter/checks/facts.h"

#include "host/procfs/keyvalue.h"
#include "host/procfs/node.h"
#include "host/procfs/read.h"
#include "host/procfs/swap.h"
#include "host/procfs/tiering.h"

namespace kvmem::checks {
namespace {

template <class T>
std::optional<T> Opt(Result<T> r) {
  return r ? std::optional<T>(std::move(*r)) : std::nullopt;
}

void GatherNodes(const procfs::Root& root, HostFacts& f) {
  auto nodes = procfs::ListNodes(root);
  if (!nodes) return;
  auto tiers = procfs::ReadMemoryTiers(root);
  const std::map<int, int> tier_of = tiers ? procfs::NodeTiers(*tiers) : std::map<int, int>{};
  for (int id : *nodes) {
    NodeFacts n{id, 0, std::nullopt};
    if (auto cpus = procfs::ReadNodeCpus(root, id)) n.cpus = cpus->size();
    if (auto it = tier_of.find(id); it != tier_of.end()) n.tier = it->second;
    f.nodes.push_back(n);
  }
}

}  // namespace

HostFacts GatherHostFacts(const procfs::Root& root) {
  HostFacts f;
  GatherNodes(root, f);
  f.zone_reclaim_mode = Opt(procfs::ReadI64File(root.Proc("sys/vm/zone_reclaim_mode")));
  f.numa_balancing = Opt(procfs::ReadI64File(root.Proc("sys/kernel/numa_balancing")));
  f.swappiness = Opt(procfs::ReadI64File(root.Proc("sys/vm/swappiness")));
  f.ksm_run = Opt(procfs::ReadI64File(root.Sys("kernel/mm/ksm/run")));
  f.ksm_merge_across_nodes = Opt(procfs::ReadI64File(root.Sys("kernel/mm/ksm/merge_across_nodes")));
  if (auto thp = procfs::ReadChoiceFile(root.Sys("kernel/mm/transparent_hugepage/enabled")))
    f.thp_enabled = thp->selected;
  f.dimms = Opt(procfs::ReadMemoryDevices(root));
  if (f.dimms && f.dimms->empty()) f.dimms.reset();
  if (auto swaps = procfs::ReadSwaps(root)) {
    for (const auto& s : *swaps) f.swap_on_zram |= s.filename.starts_with("/dev/zram");
  }
  return f;
}

std::optional<int64_t> ReadHintFaults(const procfs::Root& root) {
  auto vm = procfs::ReadVmstat(root);
  return vm ? vm->Get("numa_hint_faults") : std::nullopt;
}

std::vector<VmFacts> VmFactsOf(const virt::Snapshot& snap) {
  std::vector<VmFacts> out;
  for (const auto& d : snap.domains) {
    if (!d.xml_known) continue;
    out.push_back({d.name, d.xml.hugepages, virt::FreePageReportingEligible(d.xml), d.xml.free_page_reporting});
  }
  return out;
}

void DomainBoard::Publish(const virt::Snapshot& snap) {
  auto vms = VmFactsOf(snap);
  std::lock_guard lock(mu_);
  // A libvirt that never answered says nothing about VMs; an empty answer says "none".
  if (snap.up || !snap.domains.empty()) vms_ = std::move(vms);
}

std::optional<std::vector<VmFacts>> DomainBoard::Vms() const {
  std::lock_guard lock(mu_);
  return vms_;
}

}  // namespace kvmem::checks
