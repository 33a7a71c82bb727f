// The rule generator: the policy's thresholds reach the PromQL, every alert is complete (severity,
// summary, description with $labels and $value, runbook link), the YAML parses, and the
// webhook's table names only real policy rules. promtool tests of the rendered file are in
// alerts/tests (run by tests/e2e/monitoring_rules.sh).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "controller/alerts/rules.h"
#include "controller/model/action.h"

namespace kvmem::alerts {
namespace {

using namespace std::chrono_literals;

const AlertRule& Find(const std::vector<RuleGroup>& groups, const std::string& name) {
  for (const auto& g : groups) {
    for (const auto& a : g.alerts) {
      if (a.name == name) return a;
    }
  }
  throw std::runtime_error("no alert " + name);
}

bool HasRecord(const std::vector<RuleGroup>& groups, const std::string& record, const std::string& expr_part) {
  for (const auto& g : groups) {
    for (const auto& r : g.records) {
      if (r.record == record && r.expr.find(expr_part) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(AlertRules, EveryAlertIsComplete) {
  const auto groups = BuildRules(model::Policy{});
  std::set<std::string> names;
  size_t count = 0;
  for (const auto& g : groups) {
    for (const auto& a : g.alerts) {
      SCOPED_TRACE(a.name);
      ++count;
      EXPECT_TRUE(names.insert(a.name).second) << "duplicate alert name";
      EXPECT_EQ(a.name.rfind("Kvmem", 0), 0u);
      EXPECT_TRUE(a.severity == "critical" || a.severity == "warning" || a.severity == "info");
      ASSERT_FALSE(a.summary.empty());
      EXPECT_EQ(a.summary.back(), '.');
      EXPECT_EQ(a.summary.find("{{"), std::string::npos) << "summary must be static";
      EXPECT_NE(a.description.find("$labels."), std::string::npos);
      EXPECT_NE(a.description.find("$value"), std::string::npos);
      EXPECT_EQ(a.description.back(), '.');
      EXPECT_GT(a.for_duration.count(), 0);
      for (const auto& r : a.policy_rules) {
        EXPECT_NE(std::find(model::kRules.begin(), model::kRules.end(), r), model::kRules.end()) << r;
      }
    }
  }
  EXPECT_EQ(count, 22u);
}

TEST(AlertRules, DefaultPolicyThresholds) {
  const auto g = BuildRules(model::Policy{});
  EXPECT_EQ(Find(g, "KvmemNodeMemoryLow").expr, "kvmem:node_memory_available:ratio < 0.1");
  EXPECT_EQ(Find(g, "KvmemNodeMemoryLow").for_duration, 20s);  // ten 2s cycles
  EXPECT_EQ(Find(g, "KvmemNodeFragmentationHigh").expr, "kvmem_node_fragmentation_index > 0.5");
  EXPECT_EQ(Find(g, "KvmemNodeFragmentationHigh").for_duration, 60s);
  EXPECT_EQ(Find(g, "KvmemThpFallbackRateHigh").expr.rfind("kvmem:thp_fault_fallback:rate1m > 10\n", 0), 0u);
  EXPECT_TRUE(HasRecord(g, "kvmem:thp_fault_fallback:rate1m", "[1m]"));
  EXPECT_EQ(Find(g, "KvmemGuestSwapInHigh").expr.rfind("kvmem:domain_guest_swap_in_bytes:rate1m > 1048576 and", 0), 0u);
  EXPECT_EQ(Find(g, "KvmemGuestStatsStale")
                .expr.rfind("time() - kvmem_domain_guest_stats_last_update_timestamp_seconds > 30\n", 0),
            0u);
  EXPECT_EQ(Find(g, "KvmemControllerStuck").expr, "time() - kvmem_controller_last_run_timestamp_seconds > 60");
  // A quarter of the live limit per 2 s cycle: the limit scales with the VMs.
  EXPECT_NE(Find(g, "KvmemControllerActingTooOften").expr.find("> 0.125 * kvmem_controller_actions_per_cycle_limit"),
            std::string::npos);
  // placement.for 5m + ten 2s cycles is below the 15m floor.
  const auto& locality = Find(g, "KvmemVmNumaLocalityLow");
  EXPECT_EQ(locality.expr, "kvmem_domain_numa_locality_ratio < 0.8");
  EXPECT_EQ(locality.for_duration, 15min);
  EXPECT_EQ(locality.description,
            "Only {{ $value | humanizePercentage }} of the memory of VM {{ $labels.domain }} on {{ $labels.instance }} "
            "sits on the NUMA nodes its vCPUs run on, below placement.locality_below (80%) for 15m: its memory "
            "accesses cross the interconnect. The controller pins its vCPUs to its memory or migrates its memory to "
            "its vCPUs (placement.vcpus, placement.memory), unless its domain XML fixes its placement.");
  // Three 1m retries + ten 2s cycles is below the 10m floor.
  const auto& pool = Find(g, "KvmemHugepagePoolShortfall");
  EXPECT_EQ(pool.expr, "kvmem_controller_hugepage_pool_shortfall_pages > 0");
  EXPECT_EQ(pool.for_duration, 10min);
  EXPECT_EQ(pool.severity, "warning");
  EXPECT_EQ(pool.description,
            "Node {{ $labels.node }} of {{ $labels.instance }} lacks {{ $value }} free {{ $labels.size | "
            "humanize1024 }}B hugepages that the autostart VMs pinned to it and hugepages.headroom (0 B) need, for "
            "10m: hugepage-backed VMs set to autostart may fail to start there. The controller grows the pool "
            "(hugepages.grow) and retries every 1m (hugepages.retry_after); the cause label of "
            "kvmem_controller_hugepage_reservation_failures_total says why its reservations fell short.");
}

TEST(AlertRules, PolicyThresholdsReachThePromQL) {
  model::Policy p;
  p.interval = 500ms;
  p.stale_after = 45s;
  p.balloon.reclaim_below = model::NodeSize::Bytes(8 * model::kGiB);
  p.balloon.release_above = model::NodeSize::Bytes(16 * model::kGiB);
  p.balloon.pressure.usable_below_ratio = 0.2;
  p.balloon.pressure.swap_in_rate_above = 2.0 * model::kMiB;
  p.balloon.pressure.major_fault_rate_above = 250;
  p.balloon.pressure.rate_window = 5min;
  p.compaction.compact_above = 0.7;
  p.compaction.sustain_for = 2min;
  p.compaction.thp_fallback_rate_above = 25;
  p.limits.max_actions_per_cycle = 8;
  p.placement.locality_below = 0.65;
  p.placement.sustain_for = 20min;
  p.hugepages.retry_after = 5min;
  p.hugepages.headroom = 2 * model::kGiB;
  const auto g = BuildRules(p);

  const auto& low = Find(g, "KvmemNodeMemoryLow");
  EXPECT_EQ(low.expr, "kvmem_node_memory_available_bytes < 8589934592");
  EXPECT_NE(low.description.find("{{ $value | humanize1024 }}B available"), std::string::npos);
  EXPECT_NE(low.description.find("balloon.reclaim_below (8 GiB)"), std::string::npos);
  EXPECT_EQ(low.for_duration, 5s);
  EXPECT_EQ(Find(g, "KvmemNodeFragmentationHigh").expr, "kvmem_node_fragmentation_index > 0.7");
  EXPECT_EQ(Find(g, "KvmemNodeFragmentationHigh").for_duration, 2min);
  EXPECT_EQ(Find(g, "KvmemThpFallbackRateHigh").expr.rfind("kvmem:thp_fault_fallback:rate2m > 25\n", 0), 0u);
  EXPECT_TRUE(HasRecord(g, "kvmem:thp_fault_fallback:rate2m", "[2m]"));
  EXPECT_EQ(Find(g, "KvmemGuestMemoryPressure").expr.rfind("kvmem:domain_guest_usable:ratio < 0.2 and", 0), 0u);
  EXPECT_EQ(Find(g, "KvmemGuestSwapInHigh").expr.rfind("kvmem:domain_guest_swap_in_bytes:rate5m > 2097152 and", 0), 0u);
  EXPECT_TRUE(HasRecord(g, "kvmem:domain_guest_swap_in_bytes:rate5m", "[5m]"));
  EXPECT_EQ(Find(g, "KvmemGuestMajorFaultsHigh").expr.rfind("kvmem:domain_guest_major_faults:rate5m > 250 and", 0), 0u);
  EXPECT_NE(Find(g, "KvmemGuestStatsStale").expr.find("> 45\n"), std::string::npos);
  // Ten half-second cycles is 5s, but "stuck" never means less than a minute.
  EXPECT_EQ(Find(g, "KvmemControllerStuck").expr, "time() - kvmem_controller_last_run_timestamp_seconds > 60");
  // A quarter of the live limit per 0.5 s cycle.
  EXPECT_NE(Find(g, "KvmemControllerActingTooOften").expr.find("> 0.5 * kvmem_controller_actions_per_cycle_limit"),
            std::string::npos);
  // placement.for 20m + ten 0.5 s cycles: past the 15m floor.
  const auto& locality = Find(g, "KvmemVmNumaLocalityLow");
  EXPECT_EQ(locality.expr, "kvmem_domain_numa_locality_ratio < 0.65");
  EXPECT_EQ(locality.for_duration, 20min + 5s);
  EXPECT_NE(locality.description.find("below placement.locality_below (65%) for 1205s:"), std::string::npos);
  // Three 5m retries + ten 0.5 s cycles: past the 10m floor.
  const auto& pool = Find(g, "KvmemHugepagePoolShortfall");
  EXPECT_EQ(pool.for_duration, 15min + 5s);
  EXPECT_NE(pool.description.find("hugepages.headroom (2 GiB) need, for 905s:"), std::string::npos);
  EXPECT_NE(pool.description.find("retries every 5m (hugepages.retry_after)"), std::string::npos);
}

TEST(AlertRules, ShortPolicyWindowsAreWidenedForPrometheus) {
  model::Policy p;
  p.balloon.pressure.rate_window = 10s;
  p.compaction.sustain_for = 20s;
  const auto g = BuildRules(p);
  EXPECT_TRUE(HasRecord(g, "kvmem:domain_guest_major_faults:rate1m", "[1m]"));
  EXPECT_TRUE(HasRecord(g, "kvmem:thp_fault_fallback:rate1m", "[1m]"));
  EXPECT_EQ(Find(g, "KvmemNodeFragmentationHigh").for_duration, 20s);  // the policy's own duration
}

TEST(AlertRules, DisabledControllerPartsSayTheControllerWillNotAct) {
  model::Policy p;
  p.compaction.enabled = false;
  p.placement.enabled = false;
  p.hugepages.enabled = false;
  const auto g = BuildRules(p);
  EXPECT_NE(Find(g, "KvmemNodeFragmentationHigh").description.find("will not act on it: compaction.enabled is false"),
            std::string::npos);
  const std::string locality = Find(g, "KvmemVmNumaLocalityLow").description;
  EXPECT_NE(locality.find("interconnect. The controller will not act on it: placement.enabled is false."),
            std::string::npos);
  EXPECT_EQ(locality.find("pins its vCPUs"), std::string::npos);
  const std::string pool = Find(g, "KvmemHugepagePoolShortfall").description;
  EXPECT_NE(pool.find("start there. The controller will not act on it: hugepages.enabled is false."),
            std::string::npos);
  EXPECT_EQ(pool.find("retries every"), std::string::npos);
  EXPECT_NE(Find(g, "KvmemNodeMemoryLow").description.find("The controller is taking memory back"), std::string::npos);
}

TEST(AlertRules, RenderedYamlParsesAndCarriesEveryAnnotation) {
  const std::string text = GenerateRules(model::Policy{}, {"https://example.org/runbook.md"});
  // The exact rendering of the start and of one alert, default policy: reclaim_below 10 % and
  // its 20 s `for`, literal here so a change to the policy defaults or the YAML emitter shows.
  EXPECT_NE(text.find("\ngroups:\n  - name: kvmem-host\n    rules:\n"
                      "      - record: kvmem:node_memory_available:ratio\n"
                      "        expr: kvmem_node_memory_available_bytes / kvmem_node_memory_total_bytes\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("      - alert: KvmemNodeMemoryLow\n"
                "        expr: kvmem:node_memory_available:ratio < 0.1\n"
                "        for: 20s\n"
                "        labels:\n"
                "          severity: warning\n"
                "        annotations:\n"
                "          summary: \"A NUMA node has less memory available than the policy's reclaim threshold.\"\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("          runbook_url: \"https://example.org/runbook.md#kvmemnodememorylow\"\n"),
            std::string::npos);
  YAML::Node doc = YAML::Load(text);
  ASSERT_TRUE(doc["groups"].IsSequence());
  size_t alerts = 0, records = 0;
  const auto built = BuildRules(model::Policy{});
  for (const auto& g : doc["groups"]) {
    for (const auto& r : g["rules"]) {
      if (r["record"]) {
        ++records;
        continue;
      }
      ++alerts;
      const std::string name = r["alert"].as<std::string>();
      const AlertRule& a = Find(built, name);
      EXPECT_EQ(r["expr"].as<std::string>(), a.expr) << name;  // quoting and blocks round-trip
      EXPECT_EQ(r["labels"]["severity"].as<std::string>(), a.severity);
      EXPECT_EQ(r["annotations"]["summary"].as<std::string>(), a.summary);
      EXPECT_EQ(r["annotations"]["description"].as<std::string>(), a.description);
      EXPECT_EQ(r["annotations"]["runbook_url"].as<std::string>(),
                "https://example.org/runbook.md#" + RunbookAnchor(name));
      EXPECT_EQ(r["for"].as<std::string>(), PromDuration(a.for_duration));
    }
  }
  EXPECT_EQ(alerts, 22u);
  EXPECT_EQ(records, 21u);  // 11 of them in kvmem-fleet-host
}

// --print-fleet-rules: recording rules only, no policy behind them, and its own header.
TEST(AlertRules, FleetRulesAreRecordingOnly) {
  const std::string text = GenerateFleetRules();
  EXPECT_NE(text.find("#   kvmem_controller --print-fleet-rules\n"), std::string::npos);
  YAML::Node doc = YAML::Load(text);
  std::vector<std::string> groups;
  size_t records = 0;
  for (const auto& g : doc["groups"]) {
    groups.push_back(g["name"].as<std::string>());
    for (const auto& r : g["rules"]) {
      EXPECT_FALSE(r["alert"]) << r["record"];
      ++records;
    }
  }
  EXPECT_EQ(groups, (std::vector<std::string>{"kvmem-fleet", "kvmem-fleet-watcher"}));
  EXPECT_EQ(records, 6u);
}

TEST(AlertRules, WebhookHints) {
  auto low = HintFor("KvmemNodeMemoryLow");
  ASSERT_TRUE(low);
  EXPECT_EQ(low->policy_rules, std::vector<std::string>{"balloon.reclaim"});
  EXPECT_EQ(low->subject, Subject::kNode);
  auto pressure = HintFor("KvmemGuestSwapInHigh");
  ASSERT_TRUE(pressure);
  EXPECT_EQ(pressure->subject, Subject::kVm);
  EXPECT_EQ(pressure->policy_rules,
            (std::vector<std::string>{"balloon.release", "balloon.rebalance", "virtio_mem.grow"}));
  EXPECT_EQ(HintFor("KvmemThpFallbackRateHigh")->subject, Subject::kHost);
  auto locality = HintFor("KvmemVmNumaLocalityLow");
  ASSERT_TRUE(locality);
  EXPECT_EQ(locality->policy_rules, (std::vector<std::string>{"placement.vcpus", "placement.memory"}));
  EXPECT_EQ(locality->subject, Subject::kVm);
  auto pool = HintFor("KvmemHugepagePoolShortfall");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->policy_rules, std::vector<std::string>{"hugepages.grow"});
  EXPECT_EQ(pool->subject, Subject::kNode);
  EXPECT_FALSE(HintFor("KvmemHugePagesExhausted"));  // a full pool in use is the steady state: people only
  EXPECT_FALSE(HintFor("KvmemSwapThrashing"));       // informs people; the controller does not act on it
  EXPECT_FALSE(HintFor("Watchdog"));
  EXPECT_FALSE(HintFor(""));
}

// Exactly these alerts ask the controller to act (deploy/alertmanager/alertmanager.yml routes
// them to its webhook), in file order.
TEST(AlertRules, AlertsTheControllerActsOn) {
  std::vector<std::string> acting;
  for (const auto& g : BuildRules(model::Policy{})) {
    for (const auto& a : g.alerts) {
      if (HintFor(a.name)) acting.push_back(a.name);
    }
  }
  EXPECT_EQ(acting,
            (std::vector<std::string>{"KvmemNodeMemoryLow", "KvmemNodeFragmentationHigh", "KvmemThpFallbackRateHigh",
                                      "KvmemVmNumaLocalityLow", "KvmemGuestMemoryPressure", "KvmemGuestSwapInHigh",
                                      "KvmemGuestMajorFaultsHigh", "KvmemHugepagePoolShortfall"}));
}

TEST(AlertRules, PromFormats) {
  EXPECT_EQ(PromDuration(2s), "2s");
  EXPECT_EQ(PromDuration(90s), "90s");
  EXPECT_EQ(PromDuration(120s), "2m");
  EXPECT_EQ(PromDuration(1h), "1h");
  EXPECT_EQ(PromDuration(1500ms), "1500ms");
  EXPECT_EQ(PromNumber(1048576), "1048576");
  EXPECT_EQ(PromNumber(0.1), "0.1");
  EXPECT_EQ(PromNumber(-1), "-1");
  EXPECT_EQ(PromNumber(1e20), "1e+20");
  EXPECT_EQ(RunbookAnchor("KvmemNodeMemoryLow"), "kvmemnodememorylow");
}

}  // namespace
}  // namespace kvmem::alerts
