// Golden exposition per fixture host, and the metrics reference in docs/metrics.md.
// Regenerate both with KVMEM_UPDATE_GOLDEN=1 after an intended change, then review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "common/metrics/http_metrics.h"
#include "host/procfs/read.h"
#include "tests/support/exposition.h"

namespace kvmem::testing {

std::string StableExposition(Scraper& scraper) {
  std::istringstream in(scraper.ScrapeText());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("kvmem_scrape_collector_duration_seconds{")) continue;
    if (line.starts_with("kvmem_exporter_build_info{")) continue;
    // "# HELP name" / "# TYPE name" sort before "name{...}" when keyed as "name\x01...".
    std::string key = line;
    if (line.starts_with("# ")) {
      std::istringstream f(line.substr(2));
      std::string kind, name;
      f >> kind >> name;
      key = name + "\x01" + kind;
    }
    lines.push_back(key + "\x02" + line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l.substr(l.find('\x02') + 1) + "\n";
  return out;
}

double SampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nan("");
}

namespace {

bool UpdateGolden() { return std::getenv("KVMEM_UPDATE_GOLDEN") != nullptr; }

std::string ReadOrEmpty(const std::string& path) {
  auto text = procfs::ReadSmallFile(path);
  return text ? *text : std::string();
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::vector<std::string> Scenarios() {
  auto names = procfs::ListDir(std::string(KVMEM_FIXTURES) + "/hosts");
  std::vector<std::string> out;
  if (!names) return out;
  for (const auto& n : *names) {
    if (procfs::PathExists(FixtureHost(n) + "/proc")) out.push_back(n);
  }
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, ExpositionMatchesGoldenFile) {
  auto scraper = HostScraper(GetParam());
  std::string got = StableExposition(scraper);
  std::string path = std::string(KVMEM_GOLDEN) + "/" + GetParam() + ".prom";
  if (UpdateGolden()) WriteFile(path, got);
  std::string want = ReadOrEmpty(path);
  ASSERT_FALSE(want.empty()) << "no golden file " << path << "; run with KVMEM_UPDATE_GOLDEN=1";
  EXPECT_EQ(got, want) << "exposition for " << GetParam() << " changed; if intended, regenerate "
                       << "with KVMEM_UPDATE_GOLDEN=1 and review the diff";
}

TEST_P(GoldenTest, EveryEmittedFamilyIsDeclared) {
  auto scraper = HostScraper(GetParam());
  std::set<std::string> declared;
  for (const auto* d : scraper.Families()) declared.insert(d->name);
  for (const auto& family : scraper.Collect()) {
    EXPECT_TRUE(declared.contains(family.name)) << family.name << " is emitted but not declared";
  }
}

INSTANTIATE_TEST_SUITE_P(Hosts, GoldenTest, ::testing::ValuesIn(Scenarios()), [](const auto& param_info) {
  std::string n = param_info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

// docs/metrics.md lists every family: name, type, unit, labels, help. The table between the
// markers is generated from the declarations; prose around it is free.
std::string ReferenceTable() {
  auto scraper = HostScraper("this-host");
  auto families = scraper.Families();
  // The libvirt collector's families too; test:///default needs no daemon.
  collectors::CollectorContext ctx;
  ctx.libvirt_uri = "test:///default";
  for (const auto& c : collectors::AllCollectors()) {
    if (c.name != "libvirt") continue;
    static auto libvirt = c.make(ctx);
    auto more = libvirt->Families();
    families.insert(families.end(), more.begin(), more.end());
  }
  static const HttpServerMetrics http_metrics("kvmem_exporter");  // the HTTP server's, served with every scrape
  auto server = http_metrics.Families();
  families.insert(families.end(), server.begin(), server.end());
  std::sort(families.begin(), families.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string out = "| name | type | unit | labels | help |\n|---|---|---|---|---|\n";
  for (const auto* d : families) {
    std::string unit = "—";
    for (const char* u : {"bytes", "seconds", "ratio", "pages"}) {
      std::string suffix = std::string("_") + u;
      if (d->name.ends_with(suffix) || d->name.ends_with(suffix + "_total")) unit = u;
    }
    std::string labels;
    for (const auto& l : d->labels) labels += (labels.empty() ? "" : ", ") + l;
    std::string help = d->help;
    std::string escaped;
    for (char c : help) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
    out += "| `" + d->name + "` | " + (d->type == prometheus::MetricType::Counter ? "counter" : "gauge") + " | " +
           unit + " | " + labels + " | " + escaped + " |\n";
  }
  return out;
}

TEST(MetricsReference, DocsListEveryDeclaredFamily) {
  const std::string path = std::string(KVMEM_GOLDEN) + "/../../docs/metrics.md";
  const std::string begin = "<!-- BEGIN GENERATED TABLE -->\n", end = "<!-- END GENERATED TABLE -->";
  std::string doc = ReadOrEmpty(path);
  size_t b = doc.find(begin), e = doc.find(end);
  ASSERT_TRUE(b != std::string::npos && e != std::string::npos) << path << " lacks the table markers";
  std::string table = ReferenceTable();
  if (UpdateGolden()) {
    doc = doc.substr(0, b + begin.size()) + table + doc.substr(e);
    WriteFile(path, doc);
    e = doc.find(end);
  }
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), table)
      << "docs/metrics.md is out of date; regenerate with KVMEM_UPDATE_GOLDEN=1";
}

}  // namespace
}  // namespace kvmem::testing
