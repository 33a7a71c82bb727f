// Per-VM cgroup metrics: the libvirt collector on libvirt's test driver with a QEMU process and
// its cgroup in a throwaway tree (a v2 host, and a v1 host with what v1 lacks absent), and the
// root and shared-cgroup rules on hand-made samples.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/domain_cgroup.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const std::string kUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // test:///default's "test"
const std::string kVm = R"(domain="test",uuid=")" + kUuid + "\"";

struct Host {
  fs::path dir = fs::temp_directory_path() / ("kvmem-domcg-" + std::to_string(::getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Host() {
    fs::remove_all(dir);
    Write("proc/321/cmdline", "/usr/bin/qemu-system-x86_64\0-uuid\0"s + kUuid + "\0"s);
  }
  ~Host() { fs::remove_all(dir); }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary) << text;
  }
  std::string Scrape() const {
    CollectorContext ctx;
    ctx.libvirt_uri = "test:///default";
    ctx.root = {(dir / "proc").string(), (dir / "sys").string()};
    std::vector<NamedCollector> collectors;
    collectors.push_back({"libvirt", MakeLibvirtCollector(ctx)});
    return Scraper(std::move(collectors), "kvmem_exporter", "test").ScrapeText();
  }
};

void ExpectLines(const std::string& text, const std::vector<std::string>& lines) {
  for (const auto& line : lines)
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
}

TEST(DomainCgroupMetrics, CgroupV2Host) {
  Host h;
  h.Write("proc/321/cgroup", "0::/machine.slice/machine-qemu\\x2d1\\x2dtest.scope/libvirt/emulator\n");
  h.Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  const std::string scope = "sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dtest.scope/libvirt";
  h.Write(scope + "/emulator/cgroup.type", "threaded\n");
  h.Write(scope + "/memory.stat",
          "anon 1073741824\nfile 8388608\nzswap 1048576\nzswapped 4194304\nworkingset_refault_anon 9\n"
          "pswpin 3\nzswpin 40\n");
  h.Write(scope + "/memory.current", "1090519040\n");
  h.Write(scope + "/memory.swap.current", "6291456\n");
  h.Write(
      scope + "/memory.pressure",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n");
  const std::string text = h.Scrape();
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
  Host h;
  h.Write("proc/321/cgroup", "10:memory:/machine/qemu-1-test.libvirt-qemu\n0::/\n");
  h.Write("sys/fs/cgroup/unified/cgroup.controllers", "\n");
  const std::string dir = "sys/fs/cgroup/memory/machine/qemu-1-test.libvirt-qemu";
  h.Write(dir + "/memory.stat", "cache 4096\nrss 8192\nswap 12288\n");
  h.Write(dir + "/memory.usage_in_bytes", "16384\n");
  const std::string text = h.Scrape();
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
