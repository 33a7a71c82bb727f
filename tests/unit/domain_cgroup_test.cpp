// Per-VM cgroup metrics: the libvirt collector on libvirt's test driver with a QEMU process and
// its cgroup in fixture trees (tests/fixtures/vm-cgroups: a v2 host, and a v1 host with what v1
// lacks absent), exact values and golden expositions, and the root and shared-cgroup rules on
// hand-made samples.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/domain_cgroup.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::collectors {
namespace {

const std::string kUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // test:///default's "test"
const std::string kVm = R"(domain="test",uuid=")" + kUuid + "\"";

// A fixture tree (tests/fixtures/vm-cgroups/<name>) scraped by the libvirt collector.
std::string Scrape(const std::string& name) {
  const std::string dir = std::string(KVMEM_FIXTURES) + "/vm-cgroups/" + name;
  CollectorContext ctx;
  ctx.libvirt_uri = "test:///default";
  ctx.root = {dir + "/proc", dir + "/sys"};
  std::vector<NamedCollector> collectors;
  collectors.push_back({"libvirt", MakeLibvirtCollector(ctx)});
  return Scraper(std::move(collectors), "kvmem_exporter", "test").ScrapeText();
}

// The per-VM cgroup lines of a scrape (HELP, TYPE and samples), compared with
// tests/golden/vm-cgroups-<name>.prom; KVMEM_UPDATE_GOLDEN=1 rewrites it.
void ExpectGolden(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string got;
  for (std::string line; std::getline(in, line);) {
    for (const char* family : {"kvmem_domain_cgroup_", "kvmem_domain_memory_pressure_"}) {
      if (line.find(family) != std::string::npos) got += line + "\n";
    }
  }
  const std::string path = std::string(KVMEM_GOLDEN) + "/vm-cgroups-" + name + ".prom";
  if (std::getenv("KVMEM_UPDATE_GOLDEN")) std::ofstream(path, std::ios::trunc) << got;
  std::ifstream f(path);
  const std::string want((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(got, want) << path << " differs; regenerate with KVMEM_UPDATE_GOLDEN=1 and review the diff";
}

void ExpectLines(const std::string& text, const std::vector<std::string>& lines) {
  for (const auto& line : lines)
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
}

TEST(DomainCgroupMetrics, CgroupV2Host) {
  const std::string text = Scrape("v2");
  ExpectGolden(text, "v2");
  ExpectLines(text, {"kvmem_domain_memory_pressure_stalled_seconds_total{" + kVm + ",kind=\"some\"} 2.5",
                     "kvmem_domain_memory_pressure_stalled_seconds_total{" + kVm + ",kind=\"full\"} 0.5",
                     "kvmem_domain_cgroup_memory_bytes{" + kVm + ",type=\"anon\"} 1073741824",
                     "kvmem_domain_cgroup_memory_bytes{" + kVm + ",type=\"file\"} 8388608",
                     "kvmem_domain_cgroup_usage_bytes{" + kVm + "} 1090519040",
                     "kvmem_domain_cgroup_swap_bytes{" + kVm + "} 6291456",
                     "kvmem_domain_cgroup_zswap_bytes{" + kVm + "} 1048576",
                     "kvmem_domain_cgroup_zswapped_bytes{" + kVm + "} 4194304",
                     "kvmem_domain_cgroup_swap_refaults_total{" + kVm + "} 43",
                     "kvmem_domain_cgroup_info{" + kVm +
                         ",path=\"/machine.slice/machine-qemu\\\\x2d1\\\\x2dtest.scope/libvirt\",version=\"2\"} 1"});
}

TEST(DomainCgroupMetrics, CgroupV1HostPublishesWhatV1Has) {
  const std::string text = Scrape("v1");
  ExpectGolden(text, "v1");
  ExpectLines(
      text, {"kvmem_domain_cgroup_memory_bytes{" + kVm + ",type=\"anon\"} 8192",
             "kvmem_domain_cgroup_memory_bytes{" + kVm + ",type=\"file\"} 4096",
             "kvmem_domain_cgroup_usage_bytes{" + kVm + "} 16384", "kvmem_domain_cgroup_swap_bytes{" + kVm + "} 12288",
             "kvmem_domain_cgroup_info{" + kVm + ",path=\"/machine/qemu-1-test.libvirt-qemu\",version=\"1\"} 1"});
  for (const char* absent : {"kvmem_domain_memory_pressure_stalled_seconds_total{", "kvmem_domain_cgroup_zswap_bytes{",
                             "kvmem_domain_cgroup_zswapped_bytes{", "kvmem_domain_cgroup_swap_refaults_total{"}) {
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << " on a v1 host";
  }
}

virt::DomainSample Sample(const std::string& name, const std::string& dir, bool root = false) {
  virt::DomainSample d;
  d.name = name;
  d.uuid = "uuid-" + name;
  d.placement.cgroup = procfs::CgroupLocation{dir, "/" + name, 2, root};
  d.placement.cgroup_memory = procfs::CgroupMemory{};
  d.placement.cgroup_memory->anon_bytes = 4096;
  return d;
}

TEST(DomainCgroupMetrics, RootAndSharedCgroupsAreNotTheVms) {
  MetricSink sink;
  std::set<std::string> logged;
  AddDomainCgroups(sink,
                   {Sample("own", "/sys/fs/cgroup/vm1"), Sample("a", "/sys/fs/cgroup/system.slice/libvirtd.service"),
                    Sample("b", "/sys/fs/cgroup/system.slice/libvirtd.service"), Sample("r", "/sys/fs/cgroup", true)},
                   logged);
  std::set<std::string> domains;
  for (const auto& f : sink.families()) {
    for (const auto& m : f.metric) domains.insert(m.label[0].value);
  }
  EXPECT_EQ(domains, std::set<std::string>{"own"});
  EXPECT_EQ(logged.size(), 3U);  // a and b shared, r root: logged once each
  AddDomainCgroups(sink, {Sample("r", "/sys/fs/cgroup", true)}, logged);
  EXPECT_EQ(logged.size(), 3U);
}

}  // namespace
}  // namespace kvmem::collectors

namespace kvmem::collectors {
namespace {

// kvmem_zswap_enabled on the vm-cgroups v2 fixture (Y), and absent on the v1 one (no zswap).
TEST(SwapCollector, ZswapEnabledWhereTheKernelHasZswap) {
  auto value = [](const std::string& name) -> std::optional<double> {
    const std::string dir = std::string(KVMEM_FIXTURES) + "/vm-cgroups/" + name;
    MetricSink sink;
    MakeSwapCollector({dir + "/proc", dir + "/sys"})->Collect(sink);
    for (const auto& f : sink.families()) {
      if (f.name == "kvmem_zswap_enabled" && !f.metric.empty()) return f.metric[0].gauge.value;
    }
    return std::nullopt;
  };
  EXPECT_EQ(value("v2"), 1.0);
  EXPECT_EQ(value("v1"), std::nullopt);
}

}  // namespace
}  // namespace kvmem::collectors
