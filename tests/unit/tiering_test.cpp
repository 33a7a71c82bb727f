// Memory tiers, SMBIOS type 17 and smaps_rollup parsers on inline edge cases, and the tiering,
// settings and dimms collectors with exact values on the cxl-tiers and cxl-misplaced hosts
// (tests/fixtures/hosts/generate_tiers.py).
#include <gtest/gtest.h>

#include <cmath>

#include "host/procfs/dmi.h"
#include "host/procfs/smaps.h"
#include "host/procfs/tiering.h"
#include "tests/support/exposition.h"

namespace kvmem::testing {
namespace {

procfs::Root Host(const std::string& scenario) {
  return {FixtureHost(scenario) + "/proc", FixtureHost(scenario) + "/sys"};
}

TEST(MemoryTiers, FixtureTiersAscending) {
  auto tiers = procfs::ReadMemoryTiers(Host("cxl-tiers")).value();
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0], (procfs::MemoryTier{4, {0, 1, 4}}));
  EXPECT_EQ(tiers[1], (procfs::MemoryTier{22, {6}}));
  EXPECT_EQ(procfs::NodeTiers(tiers).at(6), 22);
  EXPECT_TRUE(procfs::ReadDemotionEnabled(Host("cxl-tiers")).value());
  EXPECT_FALSE(procfs::ReadDemotionEnabled(Host("cxl-misplaced")).value());
}

TEST(MemoryTiers, AbsentOnOldKernelAndOddNames) {
  EXPECT_EQ(procfs::ReadMemoryTiers(Host("old-kernel")).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(procfs::ParseTierDirName("memory_tier4"), 4);
  EXPECT_FALSE(procfs::ParseTierDirName("power"));
  EXPECT_FALSE(procfs::ParseTierDirName("memory_tier"));
  EXPECT_FALSE(procfs::ParseBool("maybe\n", "f"));
}

TEST(Smbios, Ddr4At28BytesBelowRatedSpeed) {
  auto dimms = procfs::ReadMemoryDevices(Host("cxl-misplaced")).value();
  ASSERT_EQ(dimms.size(), 4u);
  const auto& a1 = dimms[0];
  EXPECT_EQ(a1.handle, 0x1100);
  EXPECT_EQ(a1.array_handle, 0x1000);
  EXPECT_EQ(a1.size_bytes, 16ull << 30);
  EXPECT_EQ(a1.type, "DDR4");
  EXPECT_EQ(a1.form_factor, "DIMM");
  EXPECT_EQ(a1.speed_mts, 3200u);
  EXPECT_EQ(a1.configured_speed_mts, 2933u);
  EXPECT_EQ(a1.locator, "DIMM_A1");
  EXPECT_EQ(a1.bank_locator, "P0_Node0_ChannelA_Dimm1");
  EXPECT_EQ(a1.manufacturer, "Samsung");
  EXPECT_EQ(a1.part_number, "M393A2K43DB3-CWE");
  EXPECT_FALSE(dimms[3].Populated());
  EXPECT_FALSE(dimms[3].speed_mts);
}

TEST(Smbios, Ddr5At84Bytes) {
  auto dimms = procfs::ReadMemoryDevices(Host("cxl-tiers")).value();
  ASSERT_EQ(dimms.size(), 4u);
  EXPECT_EQ(dimms[3].type, "DDR5");
  EXPECT_EQ(dimms[3].size_bytes, 32ull << 30);
  EXPECT_EQ(dimms[3].array_handle, 0x1001);
  EXPECT_EQ(dimms[3].configured_speed_mts, 4800u);
}

std::string Type17(uint8_t length, uint16_t size, std::string strings) {
  std::string raw(length, '\0');
  raw[0] = 17;
  raw[1] = static_cast<char>(length);
  raw[0x0C] = static_cast<char>(size & 0xFF);
  raw[0x0D] = static_cast<char>(size >> 8);
  raw[0x10] = 1;  // device locator: string 1
  return raw + strings;
}

TEST(Smbios, SizeEncodingsAndDamage) {
  EXPECT_EQ(procfs::ParseMemoryDevice(Type17(0x15, 0x8000 | 512, std::string("X\0\0", 3)), "f")->size_bytes,
            512u << 10);
  std::string ext = Type17(0x28, 0x7FFF, std::string("X\0\0", 3));
  ext[0x1E] = 0x02;  // extended size 0x20000 MB = 128 GiB
  EXPECT_EQ(procfs::ParseMemoryDevice(ext, "f")->size_bytes, 128ull << 30);
  EXPECT_EQ(procfs::ParseMemoryDevice(Type17(0x15, 0xFFFF, std::string("\0\0", 2)), "f").error().kind,
            ErrorKind::kParse);                                                  // string 1 missing
  EXPECT_FALSE(procfs::ParseMemoryDevice(std::string("\x10\x15", 2), "f"));      // not type 17
  EXPECT_FALSE(procfs::ParseMemoryDevice(std::string("\x11\x28\0\0", 4), "f"));  // length past the data
  EXPECT_FALSE(procfs::ParseMemoryDevice(std::string("\x11\x10", 2) + std::string(14, '\0'), "f"));
}

TEST(SmapsRollup, AnonHugePages) {
  auto r = procfs::ParseSmapsRollup(
               "55d0-7ffd ---p 00000000 00:00 0   [rollup]\nRss:  2048 kB\nAnonymous: 1024 kB\nAnonHugePages:  512 "
               "kB\nFoo: 1 kB\n",
               "f")
               .value();
  EXPECT_EQ(r.rss_bytes, 2048u << 10);
  EXPECT_EQ(r.anon_huge_bytes, 512u << 10);
  EXPECT_FALSE(procfs::ParseSmapsRollup("[rollup]\nRss: x kB\n", "f"));
  EXPECT_FALSE(procfs::ParseSmapsRollup("", "f"));
}

TEST(TieringCollectors, CxlTiersExactValues) {
  auto scraper = HostScraper("cxl-tiers");
  const std::string text = StableExposition(scraper);
  EXPECT_EQ(SampleValue(text, R"(kvmem_node_memory_tier_info{node="6",tier="22"})"), 1);
  EXPECT_EQ(SampleValue(text, R"(kvmem_node_memory_tier_info{node="0",tier="4"})"), 1);
  EXPECT_EQ(SampleValue(text, "kvmem_tiering_demotion_enabled"), 1);
  EXPECT_EQ(SampleValue(text, R"(kvmem_tiering_demoted_pages_total{reason="kswapd"})"), 205000);
  EXPECT_EQ(SampleValue(text, R"(kvmem_node_tiering_demoted_pages_total{node="0",reason="direct"})"), 3000);
  EXPECT_EQ(SampleValue(text, "kvmem_tiering_promoted_pages_total"), 66000);
  EXPECT_EQ(SampleValue(text, R"(kvmem_node_tiering_promote_candidate_pages_total{node="6"})"), 70000);
  EXPECT_EQ(SampleValue(text, "kvmem_numa_balancing_hint_faults_total"), 2500000);
  EXPECT_EQ(SampleValue(text, "kvmem_numa_balancing_hint_faults_local_total"), 2000000);
  EXPECT_EQ(SampleValue(text, "kvmem_numa_balancing_pte_updates_total"), 9000000);
  EXPECT_EQ(SampleValue(text, "kvmem_sysctl_kernel_numa_balancing"), 2);
  EXPECT_EQ(SampleValue(text, "kvmem_sysctl_vm_min_free_bytes"), 90112.0 * 1024);
  EXPECT_EQ(SampleValue(text, "kvmem_sysctl_vm_watermark_scale_factor"), 125);
  EXPECT_EQ(SampleValue(text, "kvmem_sysctl_vm_defrag_mode"), 0);
  EXPECT_EQ(SampleValue(text, R"(kvmem_dimm_configured_speed_transfers_per_second{handle="0x1103",locator="DIMM_D1"})"),
            4.8e9);
  EXPECT_EQ(SampleValue(text, R"(kvmem_memory_array_size_bytes{array="0x1001"})"), 64.0 * (1ull << 30));
  for (const char* check :
       {R"(top_tier_cpuless_node",severity="critical)", R"(zone_reclaim_enabled",severity="critical)",
        R"(dimm_below_rated_speed",severity="warning)", R"(dimms_unbalanced",severity="warning)"}) {
    EXPECT_EQ(SampleValue(text, std::string(R"(kvmem_host_check_failed{check=")") + check + "\"}"), 0) << check;
  }
}

TEST(TieringCollectors, CxlMisplacedExactValues) {
  auto scraper = HostScraper("cxl-misplaced");
  const std::string text = StableExposition(scraper);
  EXPECT_EQ(SampleValue(text, R"(kvmem_node_memory_tier_info{node="6",tier="4"})"), 1);
  EXPECT_EQ(SampleValue(text, "kvmem_tiering_demotion_enabled"), 0);
  EXPECT_EQ(SampleValue(text, "kvmem_sysctl_vm_zone_reclaim_mode"), 1);
  EXPECT_TRUE(std::isnan(SampleValue(text, "kvmem_sysctl_vm_defrag_mode")));
  EXPECT_EQ(SampleValue(text, R"(kvmem_dimm_rated_speed_transfers_per_second{handle="0x1100",locator="DIMM_A1"})"),
            3.2e9);
  EXPECT_EQ(SampleValue(text, R"(kvmem_dimm_size_bytes{handle="0x1103",locator="DIMM_D1"})"), 0);
  EXPECT_EQ(SampleValue(text, R"(kvmem_memory_array_dimms{array="0x1001",state="populated"})"), 1);
  EXPECT_EQ(SampleValue(text, R"(kvmem_host_check_failed{check="top_tier_cpuless_node",severity="critical"})"), 1);
  EXPECT_EQ(SampleValue(text, R"(kvmem_host_check_failed{check="zram_swappiness_low",severity="warning"})"), 1);
}

}  // namespace
}  // namespace kvmem::testing
