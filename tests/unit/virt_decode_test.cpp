// kvmem::virt's pure decoders: memory-stat arrays, bulk typed parameters, domain and
// capabilities XML, scaled units and the guest-stats verdict.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "host/virt/decode.h"

namespace kvmem::virt {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(KVMEM_FIXTURES) + "/libvirt/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DecodeMemoryStats, ConvertsKiBToBytesAndKeepsCounts) {
  const virDomainMemoryStatStruct raw[] = {
      {VIR_DOMAIN_MEMORY_STAT_SWAP_IN, 3},           {VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, 4},
      {VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, 5},       {VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, 6},
      {VIR_DOMAIN_MEMORY_STAT_UNUSED, 100},          {VIR_DOMAIN_MEMORY_STAT_AVAILABLE, 1000},
      {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1024}, {VIR_DOMAIN_MEMORY_STAT_RSS, 2048},
      {VIR_DOMAIN_MEMORY_STAT_USABLE, 500},          {VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE, 1700000000},
      {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, 64},      {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, 7},
      {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, 1},    {99, 12345} /* a tag from a newer libvirt */};
  MemoryStats s = DecodeMemoryStats(raw);
  MemoryStats want;
  want.swap_in_bytes = 3 * 1024;
  want.swap_out_bytes = 4 * 1024;
  want.major_faults = 5;
  want.minor_faults = 6;
  want.unused_bytes = 100 * 1024;
  want.available_bytes = 1000 * 1024;
  want.actual_bytes = 1024 * 1024;
  want.rss_bytes = 2048 * 1024;
  want.usable_bytes = 500 * 1024;
  want.last_update = 1700000000;
  want.disk_caches_bytes = 64 * 1024;
  want.hugetlb_pgalloc = 7;
  want.hugetlb_pgfail = 1;
  EXPECT_EQ(s, want);
  EXPECT_TRUE(s.HasGuestStats());
}

TEST(DecodeMemoryStats, OnlyActualMeansNoGuestStatsAndOverflowIsDropped) {
  const virDomainMemoryStatStruct raw[] = {{VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1},
                                           {VIR_DOMAIN_MEMORY_STAT_RSS, ~0ULL}};
  MemoryStats s = DecodeMemoryStats(raw);
  EXPECT_EQ(s.actual_bytes, 1024u);
  EXPECT_EQ(s.rss_bytes, std::nullopt);
  EXPECT_FALSE(s.HasGuestStats());
  EXPECT_EQ(DecodeMemoryStats({}), MemoryStats{});
}

virTypedParameter Param(const char* field, unsigned long long v, int type = VIR_TYPED_PARAM_ULLONG) {
  virTypedParameter p{};
  std::strncpy(p.field, field, VIR_TYPED_PARAM_FIELD_LENGTH - 1);
  p.type = type;
  if (type == VIR_TYPED_PARAM_INT)
    p.value.i = static_cast<int>(v);
  else
    p.value.ul = v;
  return p;
}

TEST(DecodeBalloonParams, ReadsTheBulkGroup) {
  std::vector<virTypedParameter> params = {Param("state.state", 1, VIR_TYPED_PARAM_INT),
                                           Param("balloon.current", 524288),
                                           Param("balloon.maximum", 1048576),
                                           Param("balloon.swap_in", 8),
                                           Param("balloon.major_fault", 2),
                                           Param("balloon.available", 500000),
                                           Param("balloon.last-update", 1700000001),
                                           Param("balloon.usable", 300000),
                                           Param("balloon.hugetlb_pgfail", 3),
                                           Param("balloon.bogus", 1)};
  BalloonRecord r = DecodeBalloonParams(params);
  EXPECT_TRUE(r.present);
  EXPECT_EQ(r.current_bytes, 524288u * 1024);
  EXPECT_EQ(r.maximum_bytes, 1048576u * 1024);
  EXPECT_EQ(r.stats.actual_bytes, r.current_bytes);  // the bulk API names it balloon.current
  EXPECT_EQ(r.stats.swap_in_bytes, 8u * 1024);
  EXPECT_EQ(r.stats.major_faults, 2u);
  EXPECT_EQ(r.stats.available_bytes, 500000u * 1024);
  EXPECT_EQ(r.stats.usable_bytes, 300000u * 1024);
  EXPECT_EQ(r.stats.last_update, 1700000001);
  EXPECT_EQ(r.stats.hugetlb_pgfail, 3u);
  EXPECT_EQ(r.stats.unused_bytes, std::nullopt);
}

TEST(DecodeBalloonParams, NoBalloonFieldsIsNotPresent) {
  std::vector<virTypedParameter> params = {Param("state.state", 1, VIR_TYPED_PARAM_INT)};
  EXPECT_FALSE(DecodeBalloonParams(params).present);
  // The QEMU driver under NOWAIT with a busy monitor: only current/maximum, no guest stats.
  params.push_back(Param("balloon.current", 1));
  auto r = DecodeBalloonParams(params);
  EXPECT_TRUE(r.present);
  EXPECT_FALSE(r.stats.HasGuestStats());
}

TEST(ScaledBytes, FollowsLibvirtUnits) {
  EXPECT_EQ(ScaledBytes("4", ""), 4096u);  // KiB by default
  EXPECT_EQ(ScaledBytes("4", "b"), 4u);
  EXPECT_EQ(ScaledBytes("4", "bytes"), 4u);
  EXPECT_EQ(ScaledBytes("4", "KB"), 4000u);
  EXPECT_EQ(ScaledBytes("4", "k"), 4096u);
  EXPECT_EQ(ScaledBytes("2", "MiB"), 2u << 20);
  EXPECT_EQ(ScaledBytes("2", "M"), 2u << 20);
  EXPECT_EQ(ScaledBytes("2", "MB"), 2000000u);
  EXPECT_EQ(ScaledBytes("1", "G"), 1u << 30);
  EXPECT_EQ(ScaledBytes("1", "TiB"), 1ULL << 40);
  EXPECT_EQ(ScaledBytes("1", "EiB"), 1ULL << 60);
  EXPECT_EQ(ScaledBytes("16", "EiB"), std::nullopt);  // overflow
  EXPECT_EQ(ScaledBytes("1", "parsecs"), std::nullopt);
  EXPECT_EQ(ScaledBytes("x", "KiB"), std::nullopt);
  EXPECT_EQ(ScaledBytes("", "KiB"), std::nullopt);
}

TEST(DecodeDomainXml, LiveQemuDomain) {
  auto x = DecodeDomainXml(Fixture("domain-qemu-live.xml"));
  ASSERT_TRUE(x) << x.error().ToString();
  DomainXml want;
  want.memory_bytes = 9437184ULL * 1024;
  want.current_memory_bytes = 8ULL << 30;
  want.max_memory_bytes = 34603008ULL * 1024;
  want.max_memory_slots = 16;
  want.vcpus_max = 8;
  want.hugepages = true;
  want.hugepage_sizes_bytes = {2ULL << 20, 1ULL << 30};
  want.numatune_mode = "interleave";
  want.numatune_nodeset = "0,2";
  want.balloon_model = "virtio";
  want.balloon_stats_period = 5;
  want.autodeflate = true;
  want.free_page_reporting = true;
  want.min_guarantee_bytes = 4ULL << 30;
  want.virtio_mem = {
      {"virtiomem0", 0, 8ULL << 30, 2ULL << 20, 1ULL << 30, 512ULL << 20},
      {"ua-vmem-node1", 1, 4ULL << 30, 4ULL << 20, 0, std::nullopt},
  };
  want.numa_cells = {{0, 4ULL << 30}, {1, 4ULL << 30}};
  want.memnodes = {{0, "strict", "0"}};
  want.hugepage_pages = {{1ULL << 30, "0"}, {2ULL << 20, "1"}};  // XML order
  EXPECT_EQ(*x, want);
}

TEST(DecodeDomainXml, MinimalDomainHasOnlyWhatItSays) {
  auto x = DecodeDomainXml(
      "<domain type='kvm'><name>a</name><memory>1024</memory>"
      "<numatune><memory placement='auto'/></numatune>"
      "<devices><memballoon model='none'/><memory model='virtio-mem'><target>"
      "<size>4</size></target></memory></devices></domain>");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->memory_bytes, 1024u * 1024);
  EXPECT_EQ(x->current_memory_bytes, std::nullopt);
  EXPECT_FALSE(x->hugepages);
  EXPECT_EQ(x->numatune_mode, "strict");  // libvirt's default mode
  EXPECT_EQ(x->numatune_nodeset, "");
  EXPECT_EQ(x->balloon_model, "");  // model='none' is no balloon
  EXPECT_EQ(x->balloon_stats_period, std::nullopt);
  ASSERT_EQ(x->virtio_mem.size(), 1u);
  EXPECT_EQ(x->virtio_mem[0].alias, "virtio-mem0");
  EXPECT_EQ(x->virtio_mem[0].size_bytes, 4096u);
}

TEST(DecodeDomainXml, DeviceAssignmentDecidesFreePageReportingEligibility) {
  const std::string head =
      "<domain type='kvm'><name>a</name><memory>1024</memory><devices><memballoon model='virtio'/>";
  auto plain = DecodeDomainXml(head + "<interface type='network'/></devices></domain>");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->device_assignment);
  EXPECT_TRUE(FreePageReportingEligible(*plain));
  for (const char* dev : {"<hostdev mode='subsystem' type='pci'/>", "<interface type='hostdev'/>"}) {
    auto x = DecodeDomainXml(head + dev + "</devices></domain>");
    ASSERT_TRUE(x);
    EXPECT_TRUE(x->device_assignment) << dev;
    EXPECT_FALSE(FreePageReportingEligible(*x)) << dev;
  }
  auto huge = DecodeDomainXml(
      "<domain type='kvm'><name>a</name><memory>1024</memory><memoryBacking><hugepages/></memoryBacking>"
      "<devices><memballoon model='virtio'/></devices></domain>");
  ASSERT_TRUE(huge);
  EXPECT_FALSE(FreePageReportingEligible(*huge));
  DomainXml none;
  EXPECT_FALSE(FreePageReportingEligible(none));  // no balloon
}

TEST(DecodeDomainXml, RejectsNonDomains) {
  EXPECT_EQ(DecodeDomainXml("<domain><name>").error().message, "not well-formed XML");
  EXPECT_EQ(DecodeDomainXml("<network/>").error().message, "root element is not <domain>");
  EXPECT_FALSE(DecodeDomainXml(""));
  // An external entity must not be fetched (XML_PARSE_NONET) and must not crash.
  EXPECT_TRUE(DecodeDomainXml("<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'><domain/>"));
}

TEST(DecodeCapabilitiesCells, ReadsCellsAndPageSizes) {
  auto cells = DecodeCapabilitiesCells(
      "<capabilities><host><topology><cells num='2'>"
      "<cell id='2'><pages unit='KiB' size='2048'>0</pages><pages unit='KiB' size='4'>10</pages></cell>"
      "<cell id='0'><pages unit='KiB' size='4'>1</pages><pages unit='KiB' size='1048576'>0</pages></cell>"
      "</cells></topology></host></capabilities>");
  ASSERT_TRUE(cells);
  std::vector<CapsCell> want = {{0, {4096, 1ULL << 30}}, {2, {4096, 2ULL << 20}}};
  EXPECT_EQ(*cells, want);
  EXPECT_EQ(DecodeCapabilitiesCells("<capabilities><host/></capabilities>")->size(), 0u);
  EXPECT_FALSE(DecodeCapabilitiesCells("<domain/>"));
}

TEST(GuestStatsState, Verdicts) {
  using namespace std::chrono;
  const auto now = system_clock::time_point(seconds(1'700'000'100));
  DomainSample d;
  d.xml_known = true;
  d.xml.balloon_model = "virtio";
  d.xml.balloon_stats_period = 5;
  d.stats.available_bytes = 1;
  d.stats.last_update = 1'700'000'090;  // 10 s old; limit max(15, 10)
  EXPECT_STREQ(GuestStatsState(d, now), "ok");
  d.stats.last_update = 1'700'000'084;  // 16 s old
  EXPECT_STREQ(GuestStatsState(d, now), "stale");
  d.xml.balloon_stats_period = 1;  // limit is at least 10 s
  d.stats.last_update = 1'700'000'091;
  EXPECT_STREQ(GuestStatsState(d, now), "ok");
  d.stats.last_update = 1'700'000'089;
  EXPECT_STREQ(GuestStatsState(d, now), "stale");
  d.xml.balloon_stats_period = 0;
  EXPECT_STREQ(GuestStatsState(d, now), "disabled");
  d.xml.balloon_stats_period.reset();
  EXPECT_STREQ(GuestStatsState(d, now), "disabled");
  d.xml.balloon_model.clear();
  EXPECT_STREQ(GuestStatsState(d, now), "missing");
  d.xml.balloon_model = "virtio";
  d.xml.balloon_stats_period = 5;
  d.stats = MemoryStats{};
  d.stats.actual_bytes = 1;  // the balloon answers, the guest driver does not
  EXPECT_STREQ(GuestStatsState(d, now), "missing");
}

}  // namespace
}  // namespace kvmem::virt
