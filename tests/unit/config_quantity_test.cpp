// The policy file's scalar syntax: sizes, node percentages, durations, ratios, rates, and the
// canonical forms they render back to.
#include <gtest/gtest.h>

#include "controller/config/quantity.h"

namespace kvmem::config {
namespace {

using model::kGiB;
using model::kMiB;
using std::chrono::seconds;

const std::string kSizeExpect = "expected a size in bytes or with an IEC unit (B, KiB, MiB, GiB, TiB), e.g. \"512MiB\"";
const std::string kDurationExpect =
    "expected a duration: a whole number with ms, s, m or h, e.g. \"500ms\", \"10s\", \"2m\"";

TEST(ConfigUnits, Sizes) {
  const std::vector<std::pair<std::string, uint64_t>> ok = {
      {"512MiB", 512 * kMiB},  {"4GiB", 4 * kGiB},
      {"1024", 1024},          {"0", 0},
      {"1.5GiB", 1536 * kMiB}, {"2 GiB", 2 * kGiB},
      {" 8KiB ", 8192},        {"3B", 3},
      {"1TiB", 1024 * kGiB},   {"18446744073709551615", UINT64_MAX}};
  for (const auto& [text, want] : ok) EXPECT_EQ(ParseSize(text), want) << text;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"512MB", "unknown unit \"MB\" in \"512MB\"; use B, KiB, MiB, GiB or TiB (powers of 1024)"},
      {"4g", "unknown unit \"g\" in \"4g\"; use B, KiB, MiB, GiB or TiB (powers of 1024)"},
      {"-1GiB", kSizeExpect + ", got \"-1GiB\""},
      {"", kSizeExpect + ", got \"\""},
      {"abc", kSizeExpect + ", got \"abc\""},
      {"1.2.3MiB", kSizeExpect + ", got \"1.2.3MiB\""},
      {"17179869184GiB", "size \"17179869184GiB\" is too large"},
      {"18446744073709551616", "size \"18446744073709551616\" is too large"},
  };
  for (const auto& [text, want] : bad) EXPECT_EQ(ParseSize(text).error(), want) << text;
}

TEST(ConfigUnits, NodeSizes) {
  EXPECT_EQ(ParseNodeSize("10%"), model::NodeSize::Percent(10));
  EXPECT_EQ(ParseNodeSize("12.5 %"), model::NodeSize::Percent(12.5));
  EXPECT_EQ(ParseNodeSize("6GiB"), model::NodeSize::Bytes(6 * kGiB));
  EXPECT_EQ(ParseNodeSize("0%").error(), "percentage must be above 0% and below 100%, got \"0%\"");
  EXPECT_EQ(ParseNodeSize("100%").error(), "percentage must be above 0% and below 100%, got \"100%\"");
  EXPECT_EQ(ParseNodeSize("x%").error(),
            "expected a size in bytes or with an IEC unit (B, KiB, MiB, GiB, TiB), or a percentage of the node's "
            "total memory, e.g. \"4GiB\" or \"10%\", got \"x%\"");
  EXPECT_EQ(model::NodeSize::Percent(10).Resolve(64 * kGiB), 6871947673u);
  EXPECT_EQ(model::NodeSize::Bytes(kGiB).Resolve(64 * kGiB), kGiB);
}

TEST(ConfigUnits, Durations) {
  EXPECT_EQ(ParseDuration("500ms"), model::Duration{500});
  EXPECT_EQ(ParseDuration("10s"), seconds{10});
  EXPECT_EQ(ParseDuration("2m"), seconds{120});
  EXPECT_EQ(ParseDuration("1h"), seconds{3600});
  EXPECT_EQ(ParseDuration("10 s"), seconds{10});
  EXPECT_EQ(ParseDuration("0s"), seconds{0});
  for (const char* bad : {"2", "1.5s", "-1s", "10sec", "s", ""}) {
    EXPECT_EQ(ParseDuration(bad).error(), kDurationExpect + ", got \"" + bad + "\"") << bad;
  }
  EXPECT_FALSE(ParseDuration("99999999999999999h"));
}

TEST(ConfigUnits, RatiosAndRates) {
  EXPECT_EQ(ParseRatio("0.15"), 0.15);
  EXPECT_EQ(ParseRatio("15%"), 0.15);
  EXPECT_EQ(ParseRatio("abc").error(), "expected a number or a percentage, e.g. \"0.15\" or \"15%\", got \"abc\"");
  EXPECT_EQ(ParseRate("100"), 100.0);
  EXPECT_EQ(ParseRate("100/s"), 100.0);
  EXPECT_EQ(ParseRate("fast/s").error(), "expected a rate per second, e.g. \"100\" or \"100/s\", got \"fast/s\"");
  EXPECT_EQ(ParseByteRate("1MiB/s"), 1.0 * kMiB);
  EXPECT_EQ(ParseByteRate("4096"), 4096.0);
  EXPECT_EQ(ParseByteRate("1234.5/s"), 1234.5);  // a fraction of a byte per second is kept
  EXPECT_EQ(ParseByteRate("0.5KiB/s"), 512.0);
  EXPECT_EQ(ParseByteRate("-1/s").error(), "expected bytes per second, e.g. \"1MiB/s\", got \"-1/s\"");
  EXPECT_EQ(ParseByteRate("1MB/s").error(),
            "unknown unit \"MB\" in \"1MB/s\"; use B, KiB, MiB, GiB or TiB (powers of 1024)");
  EXPECT_EQ(ParseByteRate("/s").error(), "expected bytes per second, e.g. \"1MiB/s\", got \"/s\"");
  EXPECT_EQ(ParseInteger(" 42 "), 42);
  EXPECT_EQ(ParseInteger("4.2").error(), "expected a whole number, got \"4.2\"");
}

TEST(ConfigUnits, CanonicalRendering) {
  EXPECT_EQ(RenderSize(512 * kMiB), "512MiB");
  EXPECT_EQ(RenderSize(1536 * kMiB), "1536MiB");
  EXPECT_EQ(RenderSize(8 * kGiB), "8GiB");
  EXPECT_EQ(RenderSize(1000), "1000");
  EXPECT_EQ(RenderSize(0), "0");
  EXPECT_EQ(RenderDuration(seconds{2}), "2s");
  EXPECT_EQ(RenderDuration(seconds{300}), "5m");
  EXPECT_EQ(RenderDuration(seconds{90}), "90s");
  EXPECT_EQ(RenderDuration(seconds{3600}), "1h");
  EXPECT_EQ(RenderDuration(model::Duration{500}), "500ms");
  EXPECT_EQ(RenderNumber(0.15), "0.15");
  EXPECT_EQ(RenderNumber(100), "100");
  EXPECT_EQ(RenderNodeSize(model::NodeSize::Percent(12.5)), "12.5%");
  EXPECT_EQ(RenderByteRate(1.0 * kMiB), "1MiB/s");
  EXPECT_EQ(RenderByteRate(0.5), "0.5/s");
}

}  // namespace
}  // namespace kvmem::config
