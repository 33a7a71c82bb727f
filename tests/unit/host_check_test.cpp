// The host configuration checks: a table of facts and the exact checks that fail, plus skips,
// the report and the exit code.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "exporter/checks/host_check.h"

namespace kvmem::checks {
namespace {

// A clean two-socket VM host: every check evaluates and passes.
HostFacts Clean() {
  HostFacts f;
  f.nodes = {{0, 8, 4}, {1, 8, 4}};
  f.zone_reclaim_mode = 0;
  f.numa_balancing = 0;
  f.swappiness = 60;
  f.ksm_run = 1;
  f.ksm_merge_across_nodes = 0;
  f.thp_enabled = "madvise";
  f.hint_faults_per_second = 0;
  procfs::MemoryDevice d;
  d.size_bytes = 32ull << 30;
  d.speed_mts = d.configured_speed_mts = 4800;
  f.dimms = {d, d, d, d};
  (*f.dimms)[2].array_handle = (*f.dimms)[3].array_handle = 1;
  f.vms = std::vector<VmFacts>{{"web", false, true, true}, {"db", true, false, false}};
  return f;
}

std::set<std::string> Failed(const HostFacts& f) {
  std::set<std::string> out;
  for (const auto& r : RunHostChecks(f)) {
    if (r.failed) out.insert(r.check);
  }
  return out;
}

struct Row {
  const char* name;
  std::function<void(HostFacts&)> change;
  std::set<std::string> failed;
};

TEST(HostCheck, Table) {
  const std::vector<Row> rows = {
      {"clean", [](HostFacts&) {}, {}},
      {"cpuless node in top tier",
       [](HostFacts& f) {
         f.nodes.push_back({6, 0, 4});
       },
       {"top_tier_cpuless_node"}},
      {"cpuless node in a lower tier",
       [](HostFacts& f) {
         f.nodes.push_back({6, 0, 22});
       },
       {}},
      {"zone reclaim on", [](HostFacts& f) { f.zone_reclaim_mode = 1; }, {"zone_reclaim_enabled"}},
      {"zone reclaim on, one node",
       [](HostFacts& f) {
         f.zone_reclaim_mode = 1;
         f.nodes.resize(1);
         f.dimms.reset();
       },
       {}},
      {"balancing with hugetlb VMs", [](HostFacts& f) { f.numa_balancing = 1; }, {"numa_balancing_hugetlb_vms"}},
      {"tiering-only balancing with hugetlb VMs", [](HostFacts& f) { f.numa_balancing = 2; }, {}},
      {"hint fault storm",
       [](HostFacts& f) {
         f.numa_balancing = 2;
         f.hint_faults_per_second = 50000;
       },
       {"numa_balancing_hint_fault_storm"}},
      {"faults while off", [](HostFacts& f) { f.hint_faults_per_second = 50000; }, {}},
      {"ksm across nodes", [](HostFacts& f) { f.ksm_merge_across_nodes = 1; }, {"ksm_merge_across_nodes"}},
      {"ksm across nodes, stopped",
       [](HostFacts& f) {
         f.ksm_merge_across_nodes = 1;
         f.ksm_run = 0;
       },
       {}},
      {"thp never", [](HostFacts& f) { f.thp_enabled = "never"; }, {"thp_never_with_thp_capable_vms"}},
      {"thp never, all hugetlb",
       [](HostFacts& f) {
         f.thp_enabled = "never";
         (*f.vms)[0].hugetlb = true;
       },
       {}},
      {"fpr off", [](HostFacts& f) { (*f.vms)[0].free_page_reporting = false; }, {"free_page_reporting_off"}},
      {"dimm slow", [](HostFacts& f) { (*f.dimms)[1].configured_speed_mts = 4400; }, {"dimm_below_rated_speed"}},
      {"dimms unbalanced", [](HostFacts& f) { (*f.dimms)[3].size_bytes = 0; }, {"dimms_unbalanced"}},
      {"dimm sizes differ", [](HostFacts& f) { (*f.dimms)[3].size_bytes = 16ull << 30; }, {"dimms_unbalanced"}},
      {"zram, swappiness 60", [](HostFacts& f) { f.swap_on_zram = true; }, {"zram_swappiness_low"}},
      {"zram, swappiness 100",
       [](HostFacts& f) {
         f.swap_on_zram = true;
         f.swappiness = kZramMinSwappiness;
       },
       {}},
  };
  for (const auto& row : rows) {
    HostFacts f = Clean();
    row.change(f);
    EXPECT_EQ(Failed(f), row.failed) << row.name;
  }
}

TEST(HostCheck, MissingFactsSkipNotFail) {
  HostFacts f;
  f.nodes = {{0, 2, std::nullopt}};
  auto results = RunHostChecks(f);
  EXPECT_EQ(results.size(), 10u);
  for (const auto& r : results) {
    EXPECT_FALSE(r.failed) << r.check;
    EXPECT_FALSE(r.fix.empty()) << r.check;
  }
  EXPECT_EQ(ExitCode(results), 0);
  std::string report = FormatReport(results);
  EXPECT_NE(report.find("SKIP  free_page_reporting_off: VMs unknown (no libvirt)"), std::string::npos) << report;
}

TEST(HostCheck, ReportAndExitCode) {
  HostFacts f = Clean();
  f.zone_reclaim_mode = 1;
  auto results = RunHostChecks(f);
  EXPECT_EQ(ExitCode(results), kExitCritical);
  std::string report = FormatReport(results);
  EXPECT_NE(report.find("FAIL  zone_reclaim_enabled [critical]: vm.zone_reclaim_mode=1"), std::string::npos) << report;
  EXPECT_NE(report.find("      fix: sysctl -w vm.zone_reclaim_mode=0\n"), std::string::npos) << report;
  EXPECT_NE(report.find("1 of 10 checks failed, 1 critical\n"), std::string::npos) << report;
  f = Clean();
  f.swap_on_zram = true;
  EXPECT_EQ(ExitCode(RunHostChecks(f)), 0);  // a warning alone exits 0
}

}  // namespace
}  // namespace kvmem::checks
