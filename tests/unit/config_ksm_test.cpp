// The policy's ksm section: parsing (a list of names included), rendering round trips, and the
// exact text of every validation error (key, line, column, what is allowed, what was found).
#include <gtest/gtest.h>

#include "controller/config/policy_yaml.h"
#include "tests/support/config_errors.h"

namespace kvmem::config {
namespace {

TEST(ConfigKsm, ParsesEveryKey) {
  auto p = ParsePolicy(
      "ksm:\n  enabled: false\n  merge_below: 16GiB\n  payback: 30m\n  window: 10s\n  min_pages_to_scan: 50\n"
      "  max_pages_to_scan: 5000\n  sleep_millisecs: 10\n  never_merge: [secret, "
      "1b4e28ba-2fa1-11d2-883f-0016d3cca427]\n",
      "p.yaml");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_FALSE(p->ksm.enabled);
  EXPECT_EQ(p->ksm.merge_below, model::NodeSize::Bytes(16 * model::kGiB));
  EXPECT_EQ(p->ksm.payback, std::chrono::minutes{30});
  EXPECT_EQ(p->ksm.window, std::chrono::seconds{10});
  EXPECT_EQ(p->ksm.min_pages_to_scan, 50u);
  EXPECT_EQ(p->ksm.max_pages_to_scan, 5000u);
  EXPECT_EQ(p->ksm.sleep_millisecs, 10u);
  EXPECT_EQ(p->ksm.never_merge, (std::vector<std::string>{"secret", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}));
  auto block = ParsePolicy("ksm:\n  never_merge:\n    - a\n    - 'b c'\n", "p.yaml");
  ASSERT_TRUE(block) << block.error().ToString();
  EXPECT_EQ(block->ksm.never_merge, (std::vector<std::string>{"a", "b c"}));
  auto empty = ParsePolicy("ksm:\n  never_merge: []\n", "p.yaml");
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->ksm.never_merge.empty());
}

TEST(ConfigKsm, RendersAndRoundTrips) {
  model::Policy p;
  p.ksm.never_merge = {"secret", "odd \"name\""};
  p.ksm.min_pages_to_scan = 7;
  p.ksm.window = std::chrono::seconds{90};
  const std::string text = RenderPolicy(p);
  EXPECT_NE(text.find("ksm:\n  enabled: true\n  merge_below: 20%\n  payback: 1h\n  window: 90s\n"
                      "  min_pages_to_scan: 7\n  max_pages_to_scan: 1250\n  sleep_millisecs: 20\n"
                      "  never_merge: [\"secret\", \"odd \\\"name\\\"\"]\n"),
            std::string::npos)
      << text;
  auto back = ParsePolicy(text, "rendered");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, p);
}

TEST(ConfigKsm, ErrorsNameKeyPositionAndWhatIsAllowed) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"ksm:\n  pages: 1\n",
       "unknown key ksm.pages at line 2, column 3; allowed: enabled, merge_below, payback, window, "
       "min_pages_to_scan, max_pages_to_scan, sleep_millisecs, never_merge"},
      {"ksm:\n  enabled: yes\n", "ksm.enabled at line 2, column 12: expected true or false, got \"yes\""},
      {"ksm:\n  payback: 0s\n", "ksm.payback at line 2, column 12: must be above 0s, got \"0s\""},
      {"ksm:\n  window: 1s\n",
       "ksm.window at line 2, column 11: must be at least interval (2s, the default), got \"1s\""},
      {"ksm:\n  min_pages_to_scan: 0\n",
       "ksm.min_pages_to_scan at line 2, column 22: must be from 1 to 100000 pages, got \"0\""},
      {"ksm:\n  max_pages_to_scan: 100001\n",
       "ksm.max_pages_to_scan at line 2, column 22: must be from 1 to 100000 pages, got \"100001\""},
      {"ksm:\n  max_pages_to_scan: 50\n",
       "ksm.max_pages_to_scan at line 2, column 22: must be at least ksm.min_pages_to_scan (100, the default), "
       "got \"50\""},
      {"ksm:\n  min_pages_to_scan: 2000\n",
       "ksm.min_pages_to_scan at line 2, column 22: must be at most ksm.max_pages_to_scan (1250, the default), "
       "got \"2000\""},
      {"ksm:\n  sleep_millisecs: 0\n",
       "ksm.sleep_millisecs at line 2, column 20: must be from 1 to 60000 ms, got \"0\""},
      {"ksm:\n  never_merge: secret\n", "ksm.never_merge at line 2, column 16: expected a list, got a single value"},
      {"ksm:\n  never_merge: [a, [b]]\n",
       "ksm.never_merge at line 2, column 20: expected a list of single values, got a list in it"},
      {"ksm:\n  never_merge: [a, a]\n",
       "ksm.never_merge at line 2, column 16: must be a list of distinct, non-empty names, got \"[\"a\", \"a\"]\""},
      {"ksm:\n  never_merge: [a, '']\n",
       "ksm.never_merge at line 2, column 16: must be a list of distinct, non-empty names, got \"[\"a\", \"\"]\""},
  };
  ExpectConfigErrors(rows);
}

}  // namespace
}  // namespace kvmem::config
