// The libvirt collector through the real Scraper and prometheus-cpp's text serializer, on
// the test-driver fixture host: exact series, label escaping, declared families only.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "exporter/collectors/collectors.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::collectors {
namespace {

std::string ScrapeFixtureHost() {
  CollectorContext ctx;
  ctx.libvirt_uri = "test://" + std::string(KVMEM_FIXTURES) + "/libvirt/host.xml";
  ctx.root = {std::string(KVMEM_FIXTURES) + "/hosts/this-host/proc", std::string(KVMEM_FIXTURES) + "/hosts/this-host/sys"};
  std::vector<NamedCollector> collectors;
  collectors.push_back({"libvirt", MakeLibvirtCollector(ctx)});
  Scraper scraper(std::move(collectors), "kvmem_exporter", "test");
  return scraper.ScrapeText();
}

TEST(LibvirtCollector, EmitsExactSeriesWithEscapedNames) {
  std::string text = ScrapeFixtureHost();
  const std::string q = R"(domain="vm \"quoted\" \\ back é 日本",uuid="a0000000-0000-4000-8000-000000000005")";
  for (const std::string& line : {
           std::string("kvmem_libvirt_up 1"),
           std::string("kvmem_libvirt_domains 5"),
           std::string("kvmem_libvirt_timeouts_total 0"),
           "kvmem_domain_balloon_current_bytes{" + q + "} 268435456",
           "kvmem_domain_guest_stats_state{" + q + ",state=\"stale\"} 1",
           "kvmem_domain_stats_age_seconds{" + q + "} 0",
           std::string(R"(kvmem_domain_info{domain="huge-strict",uuid="a0000000-0000-4000-8000-000000000002",hugepages="true",hugepage_size_bytes="1073741824",numatune_mode="strict",numatune_nodeset="0-1",balloon_model="virtio",balloon_stats_period_seconds="10",autodeflate="true",free_page_reporting="false"} 1)"),
           std::string(R"(kvmem_domain_info{domain="plain",uuid="a0000000-0000-4000-8000-000000000001",hugepages="false",hugepage_size_bytes="",numatune_mode="none",numatune_nodeset="",balloon_model="virtio",balloon_stats_period_seconds="0",autodeflate="false",free_page_reporting="false"} 1)"),
           std::string(R"(kvmem_domain_guest_stats_state{domain="plain",uuid="a0000000-0000-4000-8000-000000000001",state="disabled"} 1)"),
           std::string(R"(kvmem_domain_guest_stats_state{domain="preferred-noballoon",uuid="a0000000-0000-4000-8000-000000000003",state="missing"} 1)"),
           std::string(R"(kvmem_domain_memory_min_guarantee_bytes{domain="huge-strict",uuid="a0000000-0000-4000-8000-000000000002"} 2147483648)"),
           std::string(R"(kvmem_domain_virtio_mem_requested_bytes{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004",device="virtio-mem0",node="0"} 1073741824)"),
           std::string(R"(kvmem_domain_virtio_mem_block_size_bytes{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004",device="virtio-mem0",node="0"} 2097152)"),
           std::string(R"(kvmem_domain_guest_swap_in_bytes_total{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004"} 0)"),
           std::string(R"(kvmem_scrape_collector_success{collector="libvirt"} 1)"),
       }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
  }
  EXPECT_NE(text.find("# TYPE kvmem_domain_guest_major_faults_total counter"), std::string::npos);
  EXPECT_EQ(text.find("kvmem_domain_numa_memory_bytes{"), std::string::npos);  // no QEMU process
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

}  // namespace
}  // namespace kvmem::collectors
