// Flags, durations, listen addresses and gzip negotiation.
#include <gtest/gtest.h>

#include "common/flags.h"
#include "common/http/gzip.h"
#include "common/http/server.h"
#include "common/metrics/sink.h"

namespace kvmem {
namespace {

Result<void> ParseArgs(FlagSet& f, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("prog")};
  for (auto& a : args) argv.push_back(a.data());
  return f.Parse(static_cast<int>(argv.size()), argv.data());
}

TEST(Flags, ParsesNodeExporterStyle) {
  std::string addr = ":9848";
  bool numa = true, ksm = false, ksm_set = false;
  std::chrono::milliseconds timeout{1000};
  FlagSet f("prog", "test");
  f.String("web.listen-address", &addr, "a");
  f.Bool("collector.numa", &numa, "n");
  f.Bool("collector.ksm", &ksm, "k", &ksm_set);
  f.Duration("libvirt.timeout", &timeout, "t");
  ASSERT_TRUE(ParseArgs(
      f, {"--web.listen-address", "127.0.0.1:1", "--no-collector.numa", "--collector.ksm", "--libvirt.timeout=250ms"}));
  EXPECT_EQ(addr, "127.0.0.1:1");
  EXPECT_FALSE(numa);
  EXPECT_TRUE(ksm);
  EXPECT_TRUE(ksm_set);
  EXPECT_EQ(timeout.count(), 250);
}

TEST(Flags, ErrorsNameTheFlag) {
  std::string s;
  bool b = false;
  std::chrono::milliseconds d{};
  FlagSet f("prog", "test");
  f.String("a", &s, "a");
  f.Bool("b", &b, "b");
  f.Duration("d", &d, "d");
  EXPECT_EQ(ParseArgs(f, {"--nope"}).error().message, "unknown flag --nope; see --help for the list");
  EXPECT_EQ(ParseArgs(f, {"--a"}).error().message, "--a needs a value");
  EXPECT_EQ(ParseArgs(f, {"--d=soon"}).error().message,
            "--d: expected a duration such as 10s, 500ms or 2m, got \"soon\"");
  EXPECT_EQ(ParseArgs(f, {"--d=0s"}).error().message, "--d: must be at least 1ms, got \"0s\"");
  EXPECT_EQ(ParseArgs(f, {"--d=0.0004s"}).error().message, "--d: must be at least 1ms, got \"0.0004s\"");
  EXPECT_EQ(ParseArgs(f, {"--b=maybe"}).error().message, "--b expects true or false, got \"maybe\"");
  EXPECT_EQ(ParseArgs(f, {"stray"}).error().kind, ErrorKind::kConfig);
}

TEST(Flags, Durations) {
  std::chrono::milliseconds d{};
  ASSERT_TRUE(ParseDuration("1.5s", &d));
  EXPECT_EQ(d.count(), 1500);
  ASSERT_TRUE(ParseDuration("2m", &d));
  EXPECT_EQ(d.count(), 120000);
  ASSERT_TRUE(ParseDuration("30", &d));
  EXPECT_EQ(d.count(), 30000);
  EXPECT_FALSE(ParseDuration("-1s", &d));
  EXPECT_FALSE(ParseDuration("1d", &d));
}

TEST(ListenAddress, AcceptsHostPortForms) {
  EXPECT_EQ(http::ParseListenAddress("127.0.0.1:9848").value(), (std::pair<std::string, uint16_t>{"127.0.0.1", 9848}));
  EXPECT_EQ(http::ParseListenAddress(":9848").value(), (std::pair<std::string, uint16_t>{"", 9848}));
  EXPECT_EQ(http::ParseListenAddress("[::1]:80").value(), (std::pair<std::string, uint16_t>{"::1", 80}));
  EXPECT_FALSE(http::ParseListenAddress("9848"));
  EXPECT_FALSE(http::ParseListenAddress("host:70000"));
  EXPECT_FALSE(http::ParseListenAddress("example.com:80"));
}

TEST(Gzip, NegotiatesAndRoundTripsSize) {
  EXPECT_TRUE(http::AcceptsGzip("gzip"));
  EXPECT_TRUE(http::AcceptsGzip("deflate, gzip;q=1.0"));
  EXPECT_FALSE(http::AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(http::AcceptsGzip("identity"));
  std::string data(10000, 'a');
  auto z = http::Gzip(data);
  ASSERT_TRUE(z);
  EXPECT_LT(z->size(), 200u);
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b);
}

TEST(FamilyValidation, EnforcesConventions) {
  using prometheus::MetricType;
  EXPECT_EQ(ValidateFamily({"kvmem_x_total", "h", MetricType::Counter, {"node"}}), "");
  EXPECT_EQ(ValidateFamily({"kvmem_x", "h", MetricType::Counter, {}}), "kvmem_x: counters must end in _total");
  EXPECT_EQ(ValidateFamily({"kvmem_x_total", "h", MetricType::Gauge, {}}),
            "kvmem_x_total: only counters may end in _total");
  EXPECT_EQ(ValidateFamily({"kvmem-x", "h", MetricType::Gauge, {}}), "invalid metric name kvmem-x");
  EXPECT_EQ(ValidateFamily({"kvmem_x", "", MetricType::Gauge, {}}), "kvmem_x has no help text");
  EXPECT_EQ(ValidateFamily({"kvmem_x", "h", MetricType::Gauge, {"__bad"}}), "kvmem_x: invalid label name __bad");
}

}  // namespace
}  // namespace kvmem
