// The libvirt collector through the real Scraper and prometheus-cpp's text serializer, on
// the test-driver fixture host: exact series, label escaping, declared families only.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "exporter/collectors/collectors.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::collectors {
namespace {

std::string ScrapeFixtureHost() {
  CollectorContext ctx;
  ctx.libvirt_uri = "test://" + std::string(KVMEM_FIXTURES) + "/libvirt/host.xml";
  ctx.root = {std::string(KVMEM_FIXTURES) + "/hosts/this-host/proc",
              std::string(KVMEM_FIXTURES) + "/hosts/this-host/sys"};
  std::vector<NamedCollector> collectors;
  collectors.push_back({"libvirt", MakeLibvirtCollector(ctx)});
  Scraper scraper(std::move(collectors), "kvmem_exporter", "test");
  return scraper.ScrapeText();
}

TEST(LibvirtCollector, EmitsExactSeriesWithEscapedNames) {
  std::string text = ScrapeFixtureHost();
  const std::string q = R"(domain="vm \"quoted\" \\ back é 日本",uuid="a0000000-0000-4000-8000-000000000005")";
  for (
      const std::string& line : {
          std::string("kvmem_libvirt_up 1"),
          std::string("kvmem_libvirt_domains 5"),
          std::string("kvmem_libvirt_timeouts_total 0"),
          "kvmem_domain_balloon_current_bytes{" + q + "} 268435456",
          "kvmem_domain_guest_stats_state{" + q + ",state=\"stale\"} 1",
          "kvmem_domain_stats_age_seconds{" + q + "} 0",
          std::string(
              R"(kvmem_domain_info{domain="huge-strict",uuid="a0000000-0000-4000-8000-000000000002",hugepages="true",hugepage_size_bytes="1073741824",numatune_mode="strict",numatune_nodeset="0-1",pinned="true",balloon_model="virtio",balloon_stats_period_seconds="10",autodeflate="true",free_page_reporting="false"} 1)"),
          std::string(
              R"(kvmem_domain_info{domain="plain",uuid="a0000000-0000-4000-8000-000000000001",hugepages="false",hugepage_size_bytes="",numatune_mode="none",numatune_nodeset="",pinned="false",balloon_model="virtio",balloon_stats_period_seconds="0",autodeflate="false",free_page_reporting="false"} 1)"),
          std::string(
              R"(kvmem_domain_guest_stats_state{domain="plain",uuid="a0000000-0000-4000-8000-000000000001",state="disabled"} 1)"),
          std::string(
              R"(kvmem_domain_guest_stats_state{domain="preferred-noballoon",uuid="a0000000-0000-4000-8000-000000000003",state="missing"} 1)"),
          std::string(
              R"(kvmem_domain_memory_min_guarantee_bytes{domain="huge-strict",uuid="a0000000-0000-4000-8000-000000000002"} 2147483648)"),
          std::string(
              R"(kvmem_domain_virtio_mem_requested_bytes{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004",device="virtio-mem0",node="0"} 1073741824)"),
          std::string(
              R"(kvmem_domain_virtio_mem_block_size_bytes{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004",device="virtio-mem0",node="0"} 2097152)"),
          std::string(
              R"(kvmem_domain_guest_swap_in_bytes_total{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004"} 0)"),
          std::string(R"(kvmem_scrape_collector_success{collector="libvirt"} 1)"),
          // plain: virtio balloon, no hugetlb, no hostdev, reporting off; vmem has it on.
          std::string(
              R"(kvmem_domain_free_page_reporting_missing{domain="plain",uuid="a0000000-0000-4000-8000-000000000001"} 1)"),
          std::string(
              R"(kvmem_domain_free_page_reporting_missing{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004"} 0)"),
      }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
  }
  EXPECT_NE(text.find("# TYPE kvmem_domain_guest_major_faults_total counter"), std::string::npos);
  EXPECT_EQ(text.find("kvmem_domain_numa_memory_bytes{"), std::string::npos);  // no QEMU process
  EXPECT_EQ(text.find("kvmem_domain_thp_anon_bytes{"), std::string::npos);
  EXPECT_EQ(text.find(R"(kvmem_domain_free_page_reporting_missing{domain="huge-strict")"),
            std::string::npos);  // hugetlb: not eligible
}

TEST(LibvirtCollector, EmitsOnlyDeclaredFamilies) {
  CollectorContext ctx;
  ctx.libvirt_uri = "test:///default";
  auto c = MakeLibvirtCollector(ctx);
  std::set<std::string> declared;
  for (const FamilyDesc* d : c->Families()) {
    EXPECT_EQ(ValidateFamily(*d), "") << d->name;
    EXPECT_TRUE(declared.insert(d->name).second) << "declared twice: " << d->name;
  }
  MetricSink sink;
  c->Collect(sink);
  EXPECT_TRUE(sink.errors().empty());
  for (const auto& f : sink.families()) EXPECT_TRUE(declared.contains(f.name)) << f.name;
}

// --collector.libvirt.vm-detail=fleet: fewer kvmem_domain_* families, every other one kept,
// and nothing emitted that is not declared.
TEST(LibvirtCollector, FleetDetailServesASubsetAndKeepsTheHostFamilies) {
  CollectorContext ctx;
  ctx.libvirt_uri = "test:///default";
  std::set<std::string> full, fleet;
  for (const FamilyDesc* d : MakeLibvirtCollector(ctx)->Families()) full.insert(d->name);
  ctx.vm_detail = VmDetail::kFleet;
  auto c = MakeLibvirtCollector(ctx);
  for (const FamilyDesc* d : c->Families()) fleet.insert(d->name);
  for (const auto& name : full) {
    EXPECT_TRUE(name.starts_with("kvmem_domain_") || fleet.contains(name)) << name;
  }
  for (const auto& name : fleet) EXPECT_TRUE(full.contains(name)) << name;
  EXPECT_TRUE(fleet.contains("kvmem_domain_info"));
  EXPECT_TRUE(fleet.contains("kvmem_domain_cgroup_swap_bytes"));
  EXPECT_FALSE(fleet.contains("kvmem_domain_rss_bytes"));
  EXPECT_FALSE(fleet.contains("kvmem_domain_cgroup_info"));
  MetricSink sink;
  c->Collect(sink);
  for (const auto& f : sink.families()) EXPECT_TRUE(fleet.contains(f.name)) << f.name;
  EXPECT_EQ(ParseVmDetail("fleet"), VmDetail::kFleet);
  EXPECT_EQ(ParseVmDetail("Full"), std::nullopt);
}

}  // namespace
}  // namespace kvmem::collectors

namespace kvmem::collectors {
namespace {

// test:///default's domain "test" given a QEMU process in a throwaway /proc: THP coverage from
// smaps_rollup and memory per tier from numa_maps and the tier node lists.
TEST(LibvirtCollector, ThpAndMemoryPerTierFromTheQemuProcess) {
  namespace fs = std::filesystem;
  using namespace std::string_literals;
  const fs::path dir = fs::temp_directory_path() / ("kvmem-tiers-" + std::to_string(::getpid()));
  auto write = [&](const std::string& rel, const std::string& text) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary) << text;
  };
  const std::string uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  write("proc/321/cmdline", "/usr/bin/qemu-system-x86_64\0-uuid\0"s + uuid + "\0"s);
  write("proc/321/numa_maps", "1000 default anon=7 N0=1 N1=2 N6=4 kernelpagesize_kB=4\n");
  write("proc/321/smaps_rollup", "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss: 28 kB\nAnonHugePages: 2048 kB\n");
  for (const char* n : {"0", "1", "6"})
    write("sys/devices/system/node/node"s + n + "/cpulist", n == "6"s ? "\n" : n + "\n"s);
  write("sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0-1\n");
  write("sys/devices/virtual/memory_tiering/memory_tier22/nodelist", "6\n");
  CollectorContext ctx;
  ctx.libvirt_uri = "test:///default";
  ctx.root = {(dir / "proc").string(), (dir / "sys").string()};
  std::vector<NamedCollector> collectors;
  collectors.push_back({"libvirt", MakeLibvirtCollector(ctx)});
  Scraper scraper(std::move(collectors), "kvmem_exporter", "test");
  const std::string text = scraper.ScrapeText();
  fs::remove_all(dir);
  const std::string vm = R"(domain="test",uuid=")" + uuid + "\"";
  for (const std::string& line : {"kvmem_domain_thp_anon_bytes{" + vm + "} 2097152",
                                  "kvmem_domain_tier_memory_bytes{" + vm + ",tier=\"4\"} 12288",
                                  "kvmem_domain_tier_memory_bytes{" + vm + ",tier=\"22\"} 16384"}) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
  }
}

}  // namespace
}  // namespace kvmem::collectors
