// The host checks, one function each; each returns what it found in plain words.
#include "exporter/checks/host_check.h"

#include <functional>
#include <map>

namespace kvmem::checks {
namespace {

using Found = std::optional<std::string>;  // a finding, or nullopt when the check passes

struct Check {
  const char* name;
  const char* severity;
  const char* fix;
  // Returns nullopt in `skip` when it could run; then the result is the finding or nullopt.
  std::function<Found(const HostFacts&, std::string& skip)> run;
};

std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 5; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > 5) out += " and " + std::to_string(items.size() - 5) + " more";
  return out;
}

bool MultiNode(const HostFacts& f) { return f.nodes.size() > 1; }

Found TopTierCpuless(const HostFacts& f, std::string& skip) {
  std::optional<int> top;
  for (const auto& n : f.nodes) {
    if (n.tier && (!top || *n.tier < *top)) top = n.tier;
  }
  if (!top) return skip = "no memory tiers", std::nullopt;
  bool any_cpus = false;
  for (const auto& n : f.nodes) any_cpus |= n.cpus > 0;
  std::vector<std::string> bad;
  for (const auto& n : f.nodes) {
    if (any_cpus && n.cpus == 0 && n.tier == top) bad.push_back("node " + std::to_string(n.id));
  }
  if (bad.empty()) return std::nullopt;
  return "CPU-less " + List(bad) + " in the top tier " + std::to_string(*top) +
         ": VMs get slow memory as if it were DRAM, and nothing can be demoted to it";
}

Found ZoneReclaim(const HostFacts& f, std::string& skip) {
  if (!f.zone_reclaim_mode) return skip = "vm.zone_reclaim_mode unreadable", std::nullopt;
  if (!MultiNode(f)) return skip = "one node", std::nullopt;
  if (*f.zone_reclaim_mode == 0) return std::nullopt;
  return "vm.zone_reclaim_mode=" + std::to_string(*f.zone_reclaim_mode) +
         ": VMs reclaim their own node's page cache while other nodes have free memory";
}

Found BalancingHugetlb(const HostFacts& f, std::string& skip) {
  if (!f.numa_balancing) return skip = "kernel.numa_balancing unreadable", std::nullopt;
  if (!f.vms) return skip = "VMs unknown (no libvirt)", std::nullopt;
  if ((*f.numa_balancing & 1) == 0) return std::nullopt;
  std::vector<std::string> huge;
  for (const auto& v : *f.vms)
    if (v.hugetlb) huge.push_back(v.name);
  if (huge.empty()) return std::nullopt;
  return "kernel.numa_balancing=" + std::to_string(*f.numa_balancing) + " with hugetlb-backed VMs (" + List(huge) +
         "), whose memory it can never move but still scans";
}

Found HintFaultStorm(const HostFacts& f, std::string& skip) {
  if (!f.numa_balancing) return skip = "kernel.numa_balancing unreadable", std::nullopt;
  if (!f.hint_faults_per_second) return skip = "no hint-fault rate yet (needs two samples)", std::nullopt;
  if (*f.numa_balancing == 0 || *f.hint_faults_per_second <= kHintFaultStormPerSecond) return std::nullopt;
  return std::to_string(static_cast<int64_t>(*f.hint_faults_per_second)) + " NUMA hint faults/s (more than " +
         std::to_string(static_cast<int64_t>(kHintFaultStormPerSecond)) +
         "): balancing's scanning costs more than it gains";
}

Found KsmAcrossNodes(const HostFacts& f, std::string& skip) {
  if (!f.ksm_run || !f.ksm_merge_across_nodes) return skip = "no KSM", std::nullopt;
  if (!MultiNode(f) || *f.ksm_run != 1 || *f.ksm_merge_across_nodes != 1) return std::nullopt;
  return "KSM runs with merge_across_nodes=1 on a " + std::to_string(f.nodes.size()) +
         "-node host: merged pages end up remote for some VMs";
}

Found ThpNever(const HostFacts& f, std::string& skip) {
  if (!f.thp_enabled) return skip = "no THP", std::nullopt;
  if (!f.vms) return skip = "VMs unknown (no libvirt)", std::nullopt;
  if (*f.thp_enabled != "never") return std::nullopt;
  std::vector<std::string> plain;
  for (const auto& v : *f.vms)
    if (!v.hugetlb) plain.push_back(v.name);
  if (plain.empty()) return std::nullopt;
  return "THP enabled=never while VMs without hugetlb (" + List(plain) + ") run on 4 KiB pages only";
}

Found FprOff(const HostFacts& f, std::string& skip) {
  if (!f.vms) return skip = "VMs unknown (no libvirt)", std::nullopt;
  std::vector<std::string> off;
  for (const auto& v : *f.vms)
    if (v.free_page_reporting_eligible && !v.free_page_reporting) off.push_back(v.name);
  if (off.empty()) return std::nullopt;
  return "free page reporting off for VMs that could use it: " + List(off);
}

const char* const kNoSmbios = "no SMBIOS memory devices readable (/sys/firmware/dmi/entries absent, or not root)";

Found DimmSlow(const HostFacts& f, std::string& skip) {
  if (!f.dimms) return skip = kNoSmbios, std::nullopt;
  std::vector<std::string> slow;
  for (const auto& d : *f.dimms) {
    if (d.Populated() && d.speed_mts && d.configured_speed_mts && *d.configured_speed_mts < *d.speed_mts) {
      slow.push_back(d.locator + " " + std::to_string(*d.configured_speed_mts) + "/" + std::to_string(*d.speed_mts) +
                     " MT/s");
    }
  }
  if (slow.empty()) return std::nullopt;
  return "DIMMs below their rated speed: " + List(slow);
}

Found DimmsUnbalanced(const HostFacts& f, std::string& skip) {
  if (!f.dimms) return skip = kNoSmbios, std::nullopt;
  std::map<uint16_t, std::pair<uint64_t, uint64_t>> arrays;  // array -> {populated, bytes}
  for (const auto& d : *f.dimms) {
    auto& a = arrays[d.array_handle];
    a.first += d.Populated() ? 1u : 0u;
    a.second += d.size_bytes;
  }
  if (arrays.size() < 2) return std::nullopt;
  bool same = true;
  for (const auto& [h, a] : arrays) same &= a == arrays.begin()->second;
  if (same) return std::nullopt;
  std::string counts;
  for (const auto& [h, a] : arrays)
    counts +=
        (counts.empty() ? "" : ", ") + std::to_string(a.first) + " DIMMs/" + std::to_string(a.second >> 30) + " GiB";
  return "memory arrays (sockets) populated unevenly: " + counts;
}

Found ZramSwappiness(const HostFacts& f, std::string& skip) {
  if (!f.swappiness) return skip = "vm.swappiness unreadable", std::nullopt;
  if (!f.swap_on_zram || *f.swappiness >= kZramMinSwappiness) return std::nullopt;
  return "swap on zram with vm.swappiness=" + std::to_string(*f.swappiness) + " (below " +
         std::to_string(kZramMinSwappiness) +
         "): the cheap compressed swap is barely used and page cache is dropped first";
}

const std::vector<Check>& Checks() {
  static const std::vector<Check> kChecks = {
      {"top_tier_cpuless_node", "critical",
       "give the slow node's memory its own abstract distance (CXL/HMAT or dax kmem) so it lands in a lower tier, and "
       "keep VMs off it with <numatune>",
       TopTierCpuless},
      {"zone_reclaim_enabled", "critical", "sysctl -w vm.zone_reclaim_mode=0", ZoneReclaim},
      {"numa_balancing_hugetlb_vms", "warning",
       "sysctl -w kernel.numa_balancing=0 and place hugetlb VMs with <numatune>", BalancingHugetlb},
      {"numa_balancing_hint_fault_storm", "warning",
       "sysctl -w kernel.numa_balancing=0 and pin VMs with <numatune> and vCPU pinning", HintFaultStorm},
      {"ksm_merge_across_nodes", "warning",
       "echo 2 > /sys/kernel/mm/ksm/run; echo 0 > /sys/kernel/mm/ksm/merge_across_nodes; echo 1 > "
       "/sys/kernel/mm/ksm/run",
       KsmAcrossNodes},
      {"thp_never_with_thp_capable_vms", "warning",
       "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (QEMU madvises guest RAM)", ThpNever},
      {"free_page_reporting_off", "info",
       "add freePageReporting='on' to the VM's <memballoon model='virtio'> (applies at its next start)", FprOff},
      {"dimm_below_rated_speed", "warning",
       "check the firmware's memory speed setting and the board's population rules (two DIMMs per channel often lower "
       "the speed)",
       DimmSlow},
      {"dimms_unbalanced", "warning", "populate every socket's memory channels with the same DIMMs", DimmsUnbalanced},
      {"zram_swappiness_low", "warning", "sysctl -w vm.swappiness=100 (up to 200 for zram-only swap)", ZramSwappiness},
  };
  return kChecks;
}

}  // namespace

std::vector<CheckResult> RunHostChecks(const HostFacts& facts) {
  std::vector<CheckResult> out;
  for (const auto& c : Checks()) {
    std::string skip;
    Found found = c.run(facts, skip);
    out.push_back({c.name, c.severity, skip.empty(), found.has_value(), found ? *found : skip, c.fix});
  }
  return out;
}

std::string FormatReport(const std::vector<CheckResult>& results) {
  std::string out;
  size_t failed = 0, critical = 0;
  for (const auto& r : results) {
    if (!r.evaluated) {
      out += "SKIP  " + r.check + ": " + r.detail + "\n";
    } else if (!r.failed) {
      out += "ok    " + r.check + "\n";
    } else {
      ++failed;
      critical += r.severity == "critical";
      out += "FAIL  " + r.check + " [" + r.severity + "]: " + r.detail + "\n      fix: " + r.fix + "\n";
    }
  }
  out += std::to_string(failed) + " of " + std::to_string(results.size()) + " checks failed, " +
         std::to_string(critical) + " critical\n";
  return out;
}

int ExitCode(const std::vector<CheckResult>& results) {
  for (const auto& r : results) {
    if (r.failed && r.severity == "critical") return kExitCritical;
  }
  return 0;
}

}  // namespace kvmem::checks
