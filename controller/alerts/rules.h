// The Prometheus rules generated from the policy: recording rules, alerts carrying the
// policy's own thresholds (so an alert and the controller never disagree), and the table that
// tells the webhook which alerts ask the controller to evaluate a policy rule now.
// Pure: Policy in, rules (and their YAML) out; links only kvmem::model.
// Thread-safe (no shared mutable state). Throws only std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/model/policy.h"
#include "controller/model/units.h"

namespace kvmem::alerts {

// Where the runbook lives; every alert's runbook_url is this plus "#<alertname in lower case>".
// Overridable with --alerts.runbook-url for forks and internal mirrors.
inline constexpr std::string_view kDefaultRunbookUrl = "https://github.com/kvmem/kvmem/blob/main/alerts/runbook.md";

// Thresholds the policy has no key for (the controller does not act on them). They are
// documented, with their reasons, in alerts/runbook.md.
inline constexpr double kNumaMissRatioAbove = 0.10;                 // of a node's allocations, over 5m
inline constexpr double kSwapThrashRateAbove = 10.0 * model::kMiB;  // bytes/s in AND out
inline constexpr double kKsmSharingRatioBelow = 0.10;               // pages_sharing / (sharing + unshared)
inline constexpr double kActionRateShareOfCap = 0.25;               // of max_actions_per_cycle per interval
// The controller gets this many cycles to fix what it acts on before people are told.
inline constexpr int kCyclesBeforeAlert = 10;
// A hugepage pool shortfall is news once the pool manager has retried this many times
// (hugepages.retry_after apart), and never before kMinPoolShortfallFor.
inline constexpr int kPoolRetriesBeforeAlert = 3;
inline constexpr model::Duration kMinPoolShortfallFor = std::chrono::minutes(10);
// Locality alerts never fire sooner than this: a VM's memory moves slowly, and automatic NUMA
// balancing needs minutes to pull it back on its own.
inline constexpr model::Duration kMinLocalityFor = std::chrono::minutes(15);
// Shortest rate() window the rules use: a policy window of 10s would hold no two samples at
// a common 15s scrape interval, and rate() would return nothing.
inline constexpr model::Duration kMinRateWindow = std::chrono::minutes(1);
// The fleet rules (docs/fleet.md). A VM without hugepages is backed by base pages (x86-64).
inline constexpr double kBasePageBytes = 4096;
// A host whose tasks stall on memory this share of the time (PSI some, avg300) scores as full
// for the balancers, however much memory looks available.
inline constexpr double kStallShareFullScale = 0.10;

// What an alert's labels name, for the webhook to scope the evaluation and its log line.
enum class Subject { kHost, kNode, kVm };

struct AlertRule {
  std::string name;      // "KvmemNodeMemoryLow"
  std::string severity;  // critical, warning or info
  std::string expr;
  model::Duration for_duration{0};
  std::string summary;      // static, ends with a full stop
  std::string description;  // a Prometheus template with $labels and $value
  // The controller rules (model::kRules) this alert asks it to evaluate; empty for alerts
  // the controller does not act on (they only inform people).
  std::vector<std::string> policy_rules;
  Subject subject = Subject::kHost;
};

struct RecordingRule {
  std::string record;
  std::string expr;
};

struct RuleGroup {
  std::string name;
  std::vector<RecordingRule> records;
  std::vector<AlertRule> alerts;
};

struct Options {
  std::string runbook_url{kDefaultRunbookUrl};
  // The flag that printed the file, named in its header comment.
  std::string printed_by{"--print-alert-rules"};
};

// Every group, in file order, with the policy's thresholds filled in.
std::vector<RuleGroup> BuildRules(const model::Policy& policy);
// The groups as a Prometheus rule file (YAML), deterministic byte for byte.
std::string RenderRules(const std::vector<RuleGroup>& groups, const Options& options = {});
// BuildRules + RenderRules: what --print-alert-rules prints.
std::string GenerateRules(const model::Policy& policy, const Options& options = {});

// The fleet rule file (recording rules only, no policy behind them): kvmem-fleet-host over each
// host's raw series, kvmem-fleet and kvmem-fleet-watcher over every host's kvmem:* series.
// kvmem-fleet-host is also in BuildRules, for each host's own Prometheus.
std::vector<RuleGroup> BuildFleetRules();
// RenderRules(BuildFleetRules()): what --print-fleet-rules prints.
std::string GenerateFleetRules();

// The runbook anchor of an alert: its name in lower case (GitHub's heading anchors).
std::string RunbookAnchor(std::string_view alertname);

// For the webhook: the rules an alert asks the controller to evaluate and what its labels
// name. nullopt for unknown alerts and for those the controller does not act on. Names and
// rules do not depend on thresholds, so no policy is needed.
struct Hint {
  std::vector<std::string> policy_rules;
  Subject subject = Subject::kHost;
};
std::optional<Hint> HintFor(std::string_view alertname);

// Prometheus' duration syntax, the largest exact unit: "1m", "90s", "500ms", "1h".
std::string PromDuration(model::Duration d);
// A PromQL number: integers without exponent, others the shortest round-trip form.
std::string PromNumber(double v);

}  // namespace kvmem::alerts
