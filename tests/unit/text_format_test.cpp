// Our text writer against prometheus-cpp's TextSerializer: same lines, same numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "common/metrics/text_format.h"
#include "tests/support/exposition.h"

namespace kvmem::testing {
namespace {

prometheus::MetricFamily Family(std::string name, prometheus::MetricType type,
                                std::vector<std::pair<std::string, double>> samples) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = "help with \\ backslash\nand newline";
  f.type = type;
  for (auto& [label, v] : samples) {
    prometheus::ClientMetric m;
    if (!label.empty()) m.label.push_back({"domain", label});
    if (type == prometheus::MetricType::Counter)
      m.counter.value = v;
    else
      m.gauge.value = v;
    f.metric.push_back(m);
  }
  return f;
}

TEST(TextFormat, ExactOutput) {
  auto f = Family("kvmem_x_bytes", prometheus::MetricType::Gauge,
                  {{"a \"quoted\" \\ name\nwith ünïcode", 1073741824},
                   {"", 0.0214},
                   {"neg", -3},
                   {"big", 1e300},
                   {"nan", std::nan("")},
                   {"inf", INFINITY}});
  EXPECT_EQ(SerializeText({f}),
            "# HELP kvmem_x_bytes help with \\\\ backslash\\nand newline\n"
            "# TYPE kvmem_x_bytes gauge\n"
            "kvmem_x_bytes{domain=\"a \\\"quoted\\\" \\\\ name\\nwith ünïcode\"} 1073741824\n"
            "kvmem_x_bytes 0.0214\n"
            "kvmem_x_bytes{domain=\"neg\"} -3\n"
            "kvmem_x_bytes{domain=\"big\"} 1e+300\n"
            "kvmem_x_bytes{domain=\"nan\"} NaN\n"
            "kvmem_x_bytes{domain=\"inf\"} +Inf\n");
}

// Splits "series value" lines; HELP/TYPE lines are compared as text.
std::vector<std::pair<std::string, double>> Samples(const std::string& text, std::vector<std::string>* meta) {
  std::vector<std::pair<std::string, double>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) {
      meta->push_back(line);
      continue;
    }
    auto space = line.rfind(' ');
    out.emplace_back(line.substr(0, space), std::stod(line.substr(space + 1)));
  }
  return out;
}

TEST(TextFormat, AgreesWithPrometheusCppOnEveryFixtureHost) {
  for (const char* host : {"two-node", "four-node-sparse", "this-host"}) {
    auto scraper = HostScraper(host);
    auto families = scraper.Collect();
    std::vector<std::string> meta_ours, meta_theirs;
    auto ours = Samples(SerializeText(families), &meta_ours);
    auto theirs = Samples(prometheus::TextSerializer().Serialize(families), &meta_theirs);
    EXPECT_EQ(meta_ours, meta_theirs) << host;
    ASSERT_EQ(ours.size(), theirs.size()) << host;
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_EQ(ours[i].first, theirs[i].first);
      EXPECT_DOUBLE_EQ(ours[i].second, theirs[i].second) << ours[i].first;
    }
  }
}

}  // namespace
}  // namespace kvmem::testing
