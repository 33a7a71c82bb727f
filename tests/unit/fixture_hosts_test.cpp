// Whole fixture hosts (tests/fixtures/hosts/*/FACTS.md): parsers and collectors give exact values.
#include <gtest/gtest.h>

#include <cmath>

#include "host/procfs/buddyinfo.h"
#include "host/procfs/hugepages.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/memory_blocks.h"
#include "host/procfs/node.h"
#include "host/procfs/psi.h"
#include "host/procfs/swap.h"
#include "tests/support/exposition.h"

namespace kvmem::testing {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10;

procfs::Root Host(const std::string& scenario) {
  return {FixtureHost(scenario) + "/proc", FixtureHost(scenario) + "/sys"};
}

TEST(TwoNode, Topology) {
  auto root = Host("two-node");
  EXPECT_EQ(procfs::ListNodes(root).value(), (std::vector<int>{0, 1}));
  EXPECT_EQ(procfs::ReadNodeCpus(root, 1).value().size(), 16u);
  EXPECT_EQ(procfs::ReadNodeCpus(root, 1).value().front(), 16);
  EXPECT_EQ(procfs::ReadNodeDistances(root, 0).value(), (std::vector<int>{10, 21}));
}

TEST(TwoNode, NodeMeminfoAndHugepageAwareAvailable) {
  auto root = Host("two-node");
  auto mi = procfs::ReadNodeMeminfo(root, 0).value();
  EXPECT_EQ(mi.Get("MemTotal"), 65607872 * kKiB);
  EXPECT_EQ(mi.Get("MemFree"), 9931816 * kKiB);
  EXPECT_EQ(mi.Get("HugePages_Total"), 4096u);
  auto pools = procfs::ReadNodeHugepages(root, 0).value();
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0].page_bytes, 2 * kMiB);
  EXPECT_EQ(pools[0].total, 4096u);
  EXPECT_EQ(pools[0].free, 1024u);
  EXPECT_EQ(pools[1].page_bytes, kGiB);
  EXPECT_EQ(pools[1].free, 2u);
  EXPECT_EQ(pools[1].reserved, std::nullopt);  // per-node pools have no resv file
  // (MemFree + Active(file) + Inactive(file) + SReclaimable) + 1024 x 2 MiB + 2 x 1 GiB
  EXPECT_EQ(procfs::NodeAvailableBytes(mi, pools),
            (9931816 + 7209600 + 6288000 + 1240000) * kKiB + 1024 * 2 * kMiB + 2 * kGiB);
}

TEST(TwoNode, GlobalHugepagesKsmSwapZramPsiBlocks) {
  auto root = Host("two-node");
  auto pools = procfs::ReadGlobalHugepages(root).value();
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools[0].total, 6144u);
  EXPECT_EQ(pools[0].free, 3072u);
  EXPECT_EQ(pools[0].reserved, 100u);
  EXPECT_EQ(pools[0].overcommit, 0u);
  EXPECT_EQ(pools[1].total, 12u);

  auto swaps = procfs::ReadSwaps(root).value();
  ASSERT_EQ(swaps.size(), 2u);
  EXPECT_EQ(swaps[0].filename, "/dev/zram0");
  EXPECT_EQ(swaps[0].size_bytes, 16777212 * kKiB);
  EXPECT_EQ(swaps[1].priority, -2);

  auto zram = procfs::ReadZramDevices(root).value();
  ASSERT_EQ(zram.size(), 1u);
  EXPECT_EQ(zram[0].disksize_bytes, 17179869184u);
  EXPECT_EQ(zram[0].mm.compr_data_size, 612368384u);
  EXPECT_EQ(zram[0].mm.huge_pages_since, 9874u);

  auto psi = procfs::ReadMemoryPressure(root).value();
  EXPECT_EQ(psi.some->avg10, 0.0214);
  EXPECT_EQ(psi.full->total_us, 402118734u);

  auto blocks = procfs::ReadMemoryBlocks(root, {0, 1}).value();
  EXPECT_EQ(blocks.block_size_bytes, 128 * kMiB);
  EXPECT_EQ(blocks.auto_online, "offline");
  EXPECT_EQ(blocks.nodes[1].online, 3u);
  EXPECT_EQ(blocks.nodes[1].offline, 1u);
}

TEST(TwoNode, FragmentedNodeOne) {
  auto zones = procfs::ReadBuddyinfo(Host("two-node")).value();
  ASSERT_EQ(zones.size(), 4u);
  const auto& n1 = zones[3];
  EXPECT_EQ(n1.node, 1);
  auto info = procfs::ComputeContigInfo(n1.free_blocks, 9);
  EXPECT_EQ(info.free_pages, 1650011u);
  EXPECT_EQ(info.free_blocks_suitable, 1u);                 // one order-9 block
  EXPECT_DOUBLE_EQ(procfs::UnusableIndex(info, 9), 0.999);  // (1650011 - 512) * 1000 / 1650011
  EXPECT_DOUBLE_EQ(procfs::FragmentationIndex(info, 9), -1.0);
}

TEST(TwoNode, ExpositionValues) {
  auto scraper = HostScraper("two-node");
  std::string text = scraper.ScrapeText();
  auto v = [&](const std::string& s) { return SampleValue(text, s); };
  EXPECT_EQ(v("kvmem_node_memory_total_bytes{node=\"1\"}"), 65925104.0 * 1024);
  EXPECT_EQ(v("kvmem_node_numa_miss_pages_total{node=\"1\"}"), 184467);
  EXPECT_EQ(v("kvmem_node_hugepages_free_bytes{node=\"0\",size=\"1073741824\"}"), 2.0 * kGiB);
  EXPECT_EQ(v("kvmem_hugepages_reserved_pages{size=\"2097152\"}"), 100);
  EXPECT_EQ(v("kvmem_node_distance{node=\"0\",to_node=\"1\"}"), 21);
  EXPECT_EQ(v("kvmem_node_info{node=\"1\",cpulist=\"16-31\"}"), 1);
  EXPECT_EQ(v("kvmem_thp_enabled{mode=\"always\"}"), 1);
  EXPECT_EQ(v("kvmem_thp_enabled{mode=\"madvise\"}"), 0);
  EXPECT_EQ(v("kvmem_thp_size_enabled{size=\"65536\",mode=\"madvise\"}"), 1);
  EXPECT_EQ(v("kvmem_thp_khugepaged_scan_sleep_seconds"), 10);
  EXPECT_EQ(v("kvmem_thp_events_total{event=\"fault_alloc\"}"), 1823445);
  EXPECT_EQ(v("kvmem_ksm_pages_sharing"), 1523771);
  EXPECT_EQ(v("kvmem_ksm_general_profit_bytes"), 6126073600.0);
  EXPECT_EQ(v("kvmem_ksm_sleep_seconds"), 0.02);
  EXPECT_EQ(v("kvmem_ksm_advisor_mode{mode=\"none\"}"), 1);
  EXPECT_EQ(v("kvmem_swap_in_bytes_total"), 3912311.0 * 4096);
  EXPECT_EQ(v("kvmem_zram_huge_pages{device=\"zram0\"}"), 1523);
  EXPECT_EQ(v("kvmem_memory_pressure_avg10_ratio{kind=\"some\"}"), 0.0214);
  EXPECT_EQ(v("kvmem_memory_pressure_stalled_seconds_total{kind=\"some\"}"), 983.472311);
  EXPECT_EQ(v("kvmem_node_fragmentation_unusable_ratio{node=\"1\"}"), 0.999);
  EXPECT_EQ(v("kvmem_fragmentation_unusable_ratio{node=\"0\",zone=\"DMA32\"}"), 0.281);  // 51388000/182460
  EXPECT_EQ(v("kvmem_fragmentation_huge_free_bytes{node=\"1\",zone=\"Normal\"}"), 2.0 * kMiB);
  EXPECT_EQ(v("kvmem_buddy_free_bytes{node=\"1\",zone=\"Normal\",order=\"9\",size=\"2097152\"}"), 2.0 * kMiB);
  EXPECT_EQ(v("kvmem_node_memory_blocks{node=\"1\",state=\"offline\"}"), 1);
  EXPECT_EQ(v("kvmem_sysctl_vm_swappiness"), 100);
  EXPECT_EQ(v("kvmem_sysctl_vm_extfrag_threshold"), 500);
}

TEST(FourNodeSparse, NonContiguousNodesAndMemoryOnlyNode) {
  auto root = Host("four-node-sparse");
  EXPECT_EQ(procfs::ListNodes(root).value(), (std::vector<int>{0, 1, 4, 6}));
  EXPECT_TRUE(procfs::ReadNodeCpus(root, 6).value().empty());
  auto scraper = HostScraper("four-node-sparse");
  std::string text = scraper.ScrapeText();
  auto v = [&](const std::string& s) { return SampleValue(text, s); };
  EXPECT_EQ(v("kvmem_node_cpus{node=\"6\"}"), 0);
  EXPECT_EQ(v("kvmem_node_info{node=\"0\",cpulist=\"0-7\"}"), 1);
  EXPECT_EQ(v("kvmem_node_distance{node=\"0\",to_node=\"6\"}"), 32);
  EXPECT_EQ(v("kvmem_node_hugepages_pool_pages{node=\"4\",size=\"1073741824\"}"), 16);
  EXPECT_EQ(v("kvmem_node_hugepages_free_pages{node=\"4\",size=\"1073741824\"}"), 6);
  EXPECT_EQ(v("kvmem_node_hugepages_pool_pages{node=\"0\",size=\"1073741824\"}"), 0);
  EXPECT_EQ(v("kvmem_node_numa_foreign_pages_total{node=\"6\"}"), 118203);
  EXPECT_EQ(v("kvmem_ksm_run"), 0);
  EXPECT_EQ(v("kvmem_fragmentation_huge_free_bytes{node=\"6\",zone=\"Movable\"}"), 1371648.0 * 4096);
  EXPECT_TRUE(std::isnan(v("kvmem_zram_memory_used_bytes{device=\"zram0\"}")));
  for (const char* c : {"numa", "hugepages", "thp", "ksm", "swap", "fragmentation", "pressure", "memory_blocks"}) {
    EXPECT_EQ(v(std::string("kvmem_scrape_collector_success{collector=\"") + c + "\"}"), 1) << c;
  }
}

TEST(OldKernel, MissingFeaturesAreAbsentNotFailures) {
  auto scraper = HostScraper("old-kernel");
  std::string text = scraper.ScrapeText();
  auto v = [&](const std::string& s) { return SampleValue(text, s); };
  for (const char* c : {"numa", "hugepages", "thp", "ksm", "swap", "fragmentation", "pressure", "memory_blocks"}) {
    EXPECT_EQ(v(std::string("kvmem_scrape_collector_success{collector=\"") + c + "\"}"), 1) << c;
  }
  EXPECT_EQ(text.find("kvmem_memory_pressure"), std::string::npos);
  EXPECT_EQ(text.find("kvmem_ksm_general_profit_bytes "), std::string::npos);
  EXPECT_EQ(text.find("kvmem_zswap_pool_bytes "), std::string::npos);
  EXPECT_EQ(text.find("kvmem_node_vmstat{"), std::string::npos);
  EXPECT_EQ(text.find("kvmem_memory_block_size_bytes"), std::string::npos);
  EXPECT_EQ(text.find("kvmem_sysctl_vm_compaction_proactiveness "), std::string::npos);
  EXPECT_EQ(v("kvmem_zram_huge_pages{device=\"zram0\"}"), 302);  // mm_stat field 8 of 8
  EXPECT_TRUE(std::isnan(v("kvmem_zram_huge_pages_since_total{device=\"zram0\"}")));
  EXPECT_EQ(v("kvmem_swap_device_size_bytes{device=\"/dev/zram0\",type=\"partition\"}"), 4194300.0 * 1024);
}

TEST(Broken, EachDamagedFileFailsOnlyItsCollectors) {
  auto scraper = HostScraper("broken");
  std::string text = scraper.ScrapeText();
  auto v = [&](const std::string& s) { return SampleValue(text, s); };
  // meminfo is read by thp and swap; numastat by numa; buddyinfo by fragmentation;
  // free_hugepages by hugepages; pages_shared by ksm; pressure/memory by pressure.
  for (const char* c : {"numa", "hugepages", "thp", "ksm", "swap", "fragmentation", "pressure"}) {
    EXPECT_EQ(v(std::string("kvmem_scrape_collector_success{collector=\"") + c + "\"}"), 0) << c;
  }
  EXPECT_EQ(v("kvmem_scrape_collector_success{collector=\"memory_blocks\"}"), 1);
  // What could be read is still served: node meminfo beside the broken numastat, other KSM files.
  EXPECT_FALSE(std::isnan(v("kvmem_node_memory_total_bytes{node=\"0\"}")));
  EXPECT_FALSE(std::isnan(v("kvmem_ksm_pages_sharing")));
  EXPECT_TRUE(std::isnan(v("kvmem_ksm_pages_shared")));
}

TEST(Broken, ErrorsNameFileAndLine) {
  auto root = Host("broken");
  auto mi = procfs::ReadMeminfo(root);
  ASSERT_FALSE(mi);
  EXPECT_EQ(mi.error().kind, ErrorKind::kParse);
  EXPECT_EQ(mi.error().file, root.Proc("meminfo"));
  EXPECT_GT(mi.error().line, 1);
  auto ns = procfs::ReadNodeNumastat(root, 0);
  EXPECT_EQ(ns.error().ToString(), root.Node(0, "numastat") + ":1: value of numa_hit is not a number: \"abc\"");
  auto buddy = procfs::ReadBuddyinfo(root);
  EXPECT_EQ(buddy.error().message, "empty file");
  auto hp = procfs::ReadGlobalHugepages(root);
  EXPECT_EQ(hp.error().message, "expected an unsigned number, got \"lots\"");
  auto psi = procfs::ReadMemoryPressure(root);
  EXPECT_EQ(psi.error().kind, ErrorKind::kParse);
}

TEST(MissingRoot, EveryCollectorSucceedsWithNoData) {
  collectors::CollectorContext ctx;
  ctx.root = {"/nonexistent/proc", "/nonexistent/sys"};
  for (const auto& c : collectors::AllCollectors()) {
    if (c.name == "libvirt") continue;
    MetricSink sink;
    c.make(ctx)->Collect(sink);
    EXPECT_TRUE(sink.errors().empty()) << c.name << ": " << sink.errors().front().ToString();
  }
}

}  // namespace
}  // namespace kvmem::testing
