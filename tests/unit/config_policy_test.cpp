// The policy file: defaults, the documented example, rendering round trips, and the exact text
// of every validation error (key path, line, column, what is allowed, what was found).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "controller/config/policy_yaml.h"
#include "tests/support/config_errors.h"

namespace kvmem::config {
namespace {

using model::kGiB;
using model::kMiB;
using std::chrono::seconds;

const std::string kRepo = KVMEM_FIXTURES "/../..";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigPolicy, EmptyDocumentsGiveTheDefaults) {
  for (const char* text : {"", "# nothing here\n", "{}\n", "balloon:\n"}) {
    auto p = ParsePolicy(text, "p.yaml");
    ASSERT_TRUE(p) << text << ": " << p.error().ToString();
    EXPECT_EQ(*p, model::Policy{}) << text;
  }
}

TEST(ConfigPolicy, DefaultsAreTheDocumentedOnes) {
  const model::Policy p;
  EXPECT_EQ(p.interval, seconds{2});
  EXPECT_EQ(p.stale_after, seconds{30});
  EXPECT_EQ(p.balloon.reclaim_below, model::NodeSize::Percent(10));
  EXPECT_EQ(p.balloon.release_above, model::NodeSize::Percent(20));
  EXPECT_EQ(p.balloon.max_step, 512 * kMiB);
  EXPECT_EQ(p.balloon.min_step, 16 * kMiB);
  EXPECT_EQ(p.balloon.min_guest, 512 * kMiB);
  EXPECT_EQ(p.balloon.min_free_ratio, 0.15);
  EXPECT_EQ(p.balloon.cooldown, seconds{10});
  EXPECT_EQ(p.balloon.pressure.usable_below_ratio, 0.10);
  EXPECT_EQ(p.balloon.pressure.swap_in_rate_above, 1.0 * kMiB);
  EXPECT_EQ(p.balloon.pressure.major_fault_rate_above, 100);
  EXPECT_EQ(p.balloon.pressure.rate_window, seconds{10});
  EXPECT_EQ(p.virtio_mem.sustain, 3);
  EXPECT_EQ(p.virtio_mem.step, 256 * kMiB);
  EXPECT_EQ(p.virtio_mem.shrink_unused_above_ratio, 0.5);
  EXPECT_EQ(p.virtio_mem.shrink_after, seconds{300});
  EXPECT_EQ(p.virtio_mem.settle_timeout, seconds{30});
  EXPECT_EQ(p.compaction.compact_above, 0.5);
  EXPECT_EQ(p.compaction.thp_fallback_rate_above, 10);
  EXPECT_EQ(p.compaction.sustain_for, seconds{60});
  EXPECT_EQ(p.compaction.quiet_below, 0.05);
  EXPECT_EQ(p.compaction.cooldown, seconds{300});
  EXPECT_EQ(p.compaction.max_backoff, seconds{3600});
  EXPECT_EQ(p.limits.max_actions_per_cycle, 0);  // no cap: the limit scales with the VMs
  EXPECT_EQ(p.limits.max_share_per_minute, 0.10);
  EXPECT_EQ(p.limits.max_bytes_per_minute, 0u);  // no cap: 10 % of the host per minute
  EXPECT_EQ(p.balloon.trend_window, seconds{60});
  EXPECT_TRUE(p.balloon.enabled && p.virtio_mem.enabled && p.compaction.enabled);
}

TEST(ConfigPolicy, TheDeployExampleIsValidAndEqualsTheDefaults) {
  auto p = LoadPolicyFile(kRepo + "/deploy/policy.yaml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(*p, model::Policy{});
}

TEST(ConfigPolicy, DocsNameEveryKey) {
  const std::string docs = Slurp(kRepo + "/docs/policy.md");
  const std::string example = Slurp(kRepo + "/deploy/policy.yaml");
  std::istringstream rendered(RenderPolicy({}));
  std::vector<std::string> path;
  for (std::string line; std::getline(rendered, line);) {
    const size_t indent = line.find_first_not_of(' ') / 2;
    const std::string key = line.substr(indent * 2, line.find(':') - indent * 2);
    path.resize(indent);
    path.push_back(key);
    std::string dotted;
    for (const auto& part : path) dotted += (dotted.empty() ? "" : ".") + part;
    if (line.back() == ':') continue;  // a section, not a key with a value
    EXPECT_NE(docs.find("`" + dotted + "`"), std::string::npos) << dotted << " is not in docs/policy.md";
    EXPECT_NE(example.find(key + ":"), std::string::npos) << key << " is not in deploy/policy.yaml";
  }
}

TEST(ConfigPolicy, RendersEveryKeyAndRoundTrips) {
  EXPECT_EQ(RenderPolicy({}),
            "interval: 2s\nstale_after: 30s\n"
            "balloon:\n  enabled: true\n  reclaim_below: 10%\n  release_above: 20%\n  max_step: 512MiB\n"
            "  min_step: 16MiB\n  min_guest: 512MiB\n  min_free_ratio: 0.15\n  cooldown: 10s\n  trend_window: 1m\n"
            "  pressure:\n"
            "    usable_below_ratio: 0.1\n    swap_in_rate_above: 1MiB/s\n    major_fault_rate_above: 100/s\n"
            "    rate_window: 10s\n"
            "virtio_mem:\n  enabled: true\n  sustain: 3\n  step: 256MiB\n  shrink_unused_above_ratio: 0.5\n"
            "  shrink_after: 5m\n  settle_timeout: 30s\n"
            "compaction:\n  enabled: true\n  compact_above: 0.5\n  thp_fallback_rate_above: 10/s\n  for: 1m\n"
            "  quiet_below: 0.05\n  cooldown: 5m\n  max_backoff: 1h\n"
            "hugepages:\n  enabled: true\n  headroom: 0\n  reclaim: false\n  reclaim_after: 10m\n"
            "  min_normal_memory: 10%\n  max_step: 8GiB\n  retry_after: 1m\n"
            "placement:\n  enabled: true\n  locality_below: 0.8\n  for: 5m\n  max_bytes_per_second: 64MiB/s\n"
            "  cooldown: 30m\n"
            "ksm:\n  enabled: true\n  merge_below: 20%\n  payback: 1h\n  window: 1m\n  min_pages_to_scan: 100\n"
            "  max_pages_to_scan: 1250\n  sleep_millisecs: 20\n  never_merge: []\n"
            "offload:\n  enabled: true\n  psi_target: 0.001\n  max_refault_ratio: 0.002\n  step_ratio: 0.01\n"
            "  step_interval: 30s\n  backoff: 5m\n  max_ratio: 0.5\n  allow_disk_swap: false\n  exclude: []\n"
            "limits:\n  max_actions_per_cycle: 0\n  max_share_per_minute: 0.1\n  max_bytes_per_minute: 0\n");
  model::Policy odd;
  odd.interval = model::Duration{1500};
  odd.balloon.reclaim_below = model::NodeSize::Bytes(3 * kGiB + 5);
  odd.balloon.release_above = model::NodeSize::Bytes(7 * kGiB);
  odd.balloon.min_free_ratio = 0.123456789;
  odd.balloon.pressure.swap_in_rate_above = 1234.5;
  odd.virtio_mem.enabled = false;
  odd.compaction.sustain_for = seconds{61};
  odd.limits.max_actions_per_cycle = 17;
  auto back = ParsePolicy(RenderPolicy(odd), "rendered");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, odd);
}

TEST(ConfigPolicy, ParsesUnitsAndPercentages) {
  auto p = ParsePolicy(
      "interval: 500ms\nstale_after: 1m\nballoon:\n  reclaim_below: 4GiB\n  release_above: 8GiB\n"
      "  min_free_ratio: 20%\n  pressure:\n    swap_in_rate_above: 512KiB/s\n    major_fault_rate_above: 50\n"
      "compaction:\n  for: 90s\n  quiet_below: 2%\nlimits:\n  max_bytes_per_minute: 1.5GiB\n",
      "p.yaml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->interval, model::Duration{500});
  EXPECT_EQ(p->stale_after, seconds{60});
  EXPECT_EQ(p->balloon.reclaim_below, model::NodeSize::Bytes(4 * kGiB));
  EXPECT_EQ(p->balloon.release_above, model::NodeSize::Bytes(8 * kGiB));
  EXPECT_DOUBLE_EQ(p->balloon.min_free_ratio, 0.2);
  EXPECT_EQ(p->balloon.pressure.swap_in_rate_above, 512.0 * 1024);
  EXPECT_EQ(p->balloon.pressure.major_fault_rate_above, 50);
  EXPECT_EQ(p->compaction.sustain_for, seconds{90});
  EXPECT_DOUBLE_EQ(p->compaction.quiet_below, 0.02);
  EXPECT_EQ(p->limits.max_bytes_per_minute, 1536 * kMiB);
}

TEST(ConfigPolicy, EveryErrorNamesKeyPositionAndWhatIsAllowed) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"intervall: 2s\n",
       "unknown key intervall at line 1, column 1; allowed: interval, stale_after, balloon, virtio_mem, "
       "compaction, hugepages, placement, ksm, offload, limits"},
      {"balloon:\n  reclaim_belw: 10%\n",
       "unknown key balloon.reclaim_belw at line 2, column 3; allowed: enabled, reclaim_below, "
       "release_above, "
       "max_step, min_step, min_guest, min_free_ratio, cooldown, trend_window, pressure"},
      {"balloon:\n  pressure:\n    swap: 1\n",
       "unknown key balloon.pressure.swap at line 3, column 5; allowed: usable_below_ratio, "
       "swap_in_rate_above, "
       "major_fault_rate_above, rate_window"},
      {"virtio_mem:\n  steps: 1GiB\n",
       "unknown key virtio_mem.steps at line 2, column 3; allowed: enabled, sustain, step, "
       "shrink_unused_above_ratio, shrink_after, settle_timeout"},
      {"compaction:\n  after: 1m\n",
       "unknown key compaction.after at line 2, column 3; allowed: enabled, compact_above, "
       "thp_fallback_rate_above, for, quiet_below, cooldown, max_backoff"},
      {"limits:\n  max_actions: 1\n",
       "unknown key limits.max_actions at line 2, column 3; allowed: max_actions_per_cycle, "
       "max_share_per_minute, max_bytes_per_minute"},
      {"interval: 2s\ninterval: 3s\n", "duplicate key interval at line 2, column 1; first at line 1, column 1"},
      {"balloon:\n  max_step: 512MB\n",
       "balloon.max_step at line 2, column 13: unknown unit \"MB\" in \"512MB\"; use B, KiB, MiB, GiB or TiB "
       "(powers of 1024)"},
      {"interval: 2\n",
       "interval at line 1, column 11: expected a duration: a whole number with ms, s, m or h, e.g. "
       "\"500ms\", "
       "\"10s\", \"2m\", got \"2\""},
      {"balloon:\n  enabled: yes\n", "balloon.enabled at line 2, column 12: expected true or false, got \"yes\""},
      {"balloon:\n  min_free_ratio: 1.5\n",
       "balloon.min_free_ratio at line 2, column 19: must be at least 0 and below 1, got \"1.5\""},
      {"compaction:\n  quiet_below: 100%\n",
       "compaction.quiet_below at line 2, column 16: must be at least 0 and below 1, got \"100%\""},
      {"balloon:\n  reclaim_below: 20%\n  release_above: 10%\n",
       "balloon.release_above at line 3, column 18: must be above balloon.reclaim_below (20%), got \"10%\""},
      {"balloon:\n  reclaim_below: 25%\n",
       "balloon.reclaim_below at line 2, column 18: must be below balloon.release_above (20%, the default), "
       "got \"25%\""},
      {"balloon:\n  release_above: 12GiB\n",
       "balloon.release_above at line 2, column 18: must be in the same form (both percentages or both "
       "sizes) as "
       "balloon.reclaim_below (10%, the default), got \"12GiB\""},
      {"balloon:\n  reclaim_below: 0%\n",
       "balloon.reclaim_below at line 2, column 18: percentage must be above 0% and below 100%, got \"0%\""},
      {"balloon:\n  min_step: 1GiB\n",
       "balloon.min_step at line 2, column 13: must be at most balloon.max_step (512MiB, the default), got "
       "\"1GiB\""},
      {"balloon:\n  max_step: 512KiB\n",
       "balloon.max_step at line 2, column 13: must be at least 1MiB, got \"512KiB\""},
      {"interval: 0s\n", "interval at line 1, column 11: must be above 0s, got \"0s\""},
      {"interval: 10s\nstale_after: 5s\n",
       "stale_after at line 2, column 14: must be at least interval (10s), got \"5s\""},
      {"interval: 20s\nstale_after: 30s\n",
       "interval at line 1, column 11: must be at most balloon.pressure.rate_window (10s, the default), got "
       "\"20s\""},
      {"compaction:\n  cooldown: 2h\n",
       "compaction.cooldown at line 2, column 13: must be at most compaction.max_backoff (1h, the default), "
       "got \"2h\""},
      {"virtio_mem:\n  sustain: 0\n",
       "virtio_mem.sustain at line 2, column 12: must be from 1 to 1000 cycles, got \"0\""},
      {"virtio_mem:\n  step: 0\n", "virtio_mem.step at line 2, column 9: must be above 0, got \"0\""},
      {"limits:\n  max_actions_per_cycle: four\n",
       "limits.max_actions_per_cycle at line 2, column 26: expected a whole number, got \"four\""},
      {"limits:\n  max_actions_per_cycle: -1\n",
       "limits.max_actions_per_cycle at line 2, column 26: must be from 0 to 1000, got \"-1\""},
      {"limits:\n  max_share_per_minute: 0\n",
       "limits.max_share_per_minute at line 2, column 25: must be above 0 and at most 1, got \"0\""},
      {"limits:\n  max_share_per_minute: 150%\n",
       "limits.max_share_per_minute at line 2, column 25: must be above 0 and at most 1, got \"150%\""},
      {"balloon:\n  trend_window: -1s\n",
       "balloon.trend_window at line 2, column 17: expected a duration: a whole number with ms, s, m or h, e.g. "
       "\"500ms\", \"10s\", \"2m\", got \"-1s\""},
      {"balloon: on\n", "balloon at line 1, column 10: expected a mapping of keys, got a single value"},
      {"- a\n- b\n", "the policy at line 1, column 1: expected a mapping of keys, got a list"},
      {"interval:\n  x: 1\n", "interval at line 2, column 3: expected a single value, got a mapping"},
      {"interval:\n", "interval at line 1, column 1: expected a single value, got nothing"},
      {"balloon:\n  max_step: [1\n", "YAML syntax error at line 3, column 1: end of sequence flow not found"},
      {"a: b: c\n", "YAML syntax error at line 1, column 5: illegal map value"},
  };
  ExpectConfigErrors(rows);
}

// The pool manager's and the placement's keys, one row per kind of mistake each can hold.
TEST(ConfigPolicy, HugepagesAndPlacementErrorsNameKeyPositionAndWhatIsAllowed) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"hugepages:\n  headrom: 1GiB\n",
       "unknown key hugepages.headrom at line 2, column 3; allowed: enabled, headroom, reclaim, reclaim_after, "
       "min_normal_memory, max_step, retry_after"},
      {"hugepages: yes\n", "hugepages at line 1, column 12: expected a mapping of keys, got a single value"},
      {"hugepages:\n  enabled: 1\n", "hugepages.enabled at line 2, column 12: expected true or false, got \"1\""},
      {"hugepages:\n  headroom: 1GB\n",
       "hugepages.headroom at line 2, column 13: unknown unit \"GB\" in \"1GB\"; use B, KiB, MiB, GiB or TiB "
       "(powers of 1024)"},
      {"hugepages:\n  headroom: -1GiB\n",
       "hugepages.headroom at line 2, column 13: expected a size in bytes or with an IEC unit (B, KiB, MiB, GiB, "
       "TiB), e.g. \"512MiB\", got \"-1GiB\""},
      {"hugepages:\n  reclaim: maybe\n",
       "hugepages.reclaim at line 2, column 12: expected true or false, got \"maybe\""},
      {"hugepages:\n  reclaim_after: 0s\n",
       "hugepages.reclaim_after at line 2, column 18: must be above 0s, got \"0s\""},
      {"hugepages:\n  min_normal_memory: 32MiB\n",
       "hugepages.min_normal_memory at line 2, column 22: must be at least 64MiB, got \"32MiB\""},
      {"hugepages:\n  min_normal_memory: 100%\n",
       "hugepages.min_normal_memory at line 2, column 22: percentage must be above 0% and below 100%, got "
       "\"100%\""},
      {"hugepages:\n  max_step: 1MiB\n",
       "hugepages.max_step at line 2, column 13: must be at least 2MiB, got \"1MiB\""},
      {"hugepages:\n  retry_after: 5\n",
       "hugepages.retry_after at line 2, column 16: expected a duration: a whole number with ms, s, m or h, "
       "e.g. \"500ms\", \"10s\", \"2m\", got \"5\""},
      {"placement:\n  moves: 1\n",
       "unknown key placement.moves at line 2, column 3; allowed: enabled, locality_below, for, "
       "max_bytes_per_second, cooldown"},
      {"placement:\n  - a\n", "placement at line 2, column 3: expected a mapping of keys, got a list"},
      {"placement:\n  enabled: on\n", "placement.enabled at line 2, column 12: expected true or false, got \"on\""},
      {"placement:\n  locality_below: 1.5\n",
       "placement.locality_below at line 2, column 19: must be above 0 and at most 1, got \"1.5\""},
      {"placement:\n  locality_below: 0\n",
       "placement.locality_below at line 2, column 19: must be above 0 and at most 1, got \"0\""},
      {"placement:\n  for: 0s\n", "placement.for at line 2, column 8: must be above 0s, got \"0s\""},
      {"placement:\n  max_bytes_per_second: 512KiB/s\n",
       "placement.max_bytes_per_second at line 2, column 25: must be at least 1MiB/s, got \"512KiB/s\""},
      {"placement:\n  cooldown: -1s\n",
       "placement.cooldown at line 2, column 13: expected a duration: a whole number with ms, s, m or h, e.g. "
       "\"500ms\", \"10s\", \"2m\", got \"-1s\""},
  };
  ExpectConfigErrors(rows);
}

TEST(ConfigPolicy, OffloadErrorsNameKeyPositionAndWhatIsAllowed) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"offload:\n  psi: 0.1\n",
       "unknown key offload.psi at line 2, column 3; allowed: enabled, psi_target, max_refault_ratio, step_ratio, "
       "step_interval, backoff, max_ratio, allow_disk_swap, exclude"},
      {"offload:\n  psi_target: 1\n",
       "offload.psi_target at line 2, column 15: must be at least 0 and below 1, got \"1\""},
      {"offload:\n  max_refault_ratio: -0.1\n",
       "offload.max_refault_ratio at line 2, column 22: must be at least 0 and below 1, got \"-0.1\""},
      {"offload:\n  step_ratio: 0\n",
       "offload.step_ratio at line 2, column 15: must be above 0 and at most 1, got \"0\""},
      {"offload:\n  step_interval: 0s\n", "offload.step_interval at line 2, column 18: must be above 0s, got \"0s\""},
      {"offload:\n  step_interval: 1s\n",
       "offload.step_interval at line 2, column 18: must be at least interval (2s, the default), got \"1s\""},
      {"offload:\n  backoff: soon\n",
       "offload.backoff at line 2, column 12: expected a duration: a whole number with ms, s, m or h, e.g. "
       "\"500ms\", \"10s\", \"2m\", got \"soon\""},
      {"offload:\n  max_ratio: 2\n",
       "offload.max_ratio at line 2, column 14: must be above 0 and at most 1, got \"2\""},
      {"offload:\n  allow_disk_swap: yes\n",
       "offload.allow_disk_swap at line 2, column 20: expected true or false, got \"yes\""},
      {"offload:\n  exclude: web-1\n", "offload.exclude at line 2, column 12: expected a list, got a single value"},
      {"offload:\n  exclude: [web-1, [db]]\n",
       "offload.exclude at line 2, column 20: expected a list of single values, got a list in it"},
      {"offload:\n  exclude: [web-1, \"\"]\n",
       "offload.exclude at line 2, column 12: must be a list of distinct, non-empty names, got \"[\"web-1\", \"\"]\""},
  };
  ExpectConfigErrors(rows);
}

TEST(ConfigPolicy, OffloadExcludeReadsAListAndRendersIt) {
  auto p = ParsePolicy("offload:\n  exclude: [web-1, 0f3e]\n  step_ratio: 0.02\n", "t.yaml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->offload.exclude, (std::vector<std::string>{"web-1", "0f3e"}));
  EXPECT_DOUBLE_EQ(p->offload.step_ratio, 0.02);
  auto block = ParsePolicy("offload:\n  exclude:\n    - web-1\n", "t.yaml");
  ASSERT_TRUE(block) << block.error().ToString();
  EXPECT_EQ(block->offload.exclude, std::vector<std::string>{"web-1"});
  const std::string text = RenderPolicy(*p);
  EXPECT_NE(text.find("  exclude: [\"web-1\", \"0f3e\"]\n"), std::string::npos) << text;
  EXPECT_EQ(ParsePolicy(text, "rendered.yaml").value(), *p);
}

TEST(ConfigPolicy, UnreadableFileIsAConfigError) {
  auto p = LoadPolicyFile("/nonexistent/policy.yaml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, ErrorKind::kConfig);
  EXPECT_EQ(p.error().ToString(), "/nonexistent/policy.yaml: cannot open the policy file");
  // A directory reads as empty: it must not pass for an empty policy (all defaults).
  auto dir = LoadPolicyFile(kRepo + "/deploy");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().message, "is a directory, not a policy file");
}

}  // namespace
}  // namespace kvmem::config
