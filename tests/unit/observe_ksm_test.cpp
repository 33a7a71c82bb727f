// KSM as the controller observes it: fixture hosts (a 6.18 host with general_profit, a 5.4 one
// without, a host without KSM), ksmd's CPU through the fixture's /proc, the online CPUs, and
// <nosharepages/> decoded from domain XML into the VM's observation.
#include <unistd.h>

#include <gtest/gtest.h>

#include "controller/observe/ksm.h"
#include "controller/observe/observe.h"
#include "host/virt/decode.h"

namespace kvmem::observe {
namespace {

procfs::Root Host(const std::string& name) {
  const std::string dir = std::string(KVMEM_FIXTURES) + "/hosts/" + name;
  return {dir + "/proc", dir + "/sys"};
}

TEST(ObserveKsm, TwoNodeHostWithGeneralProfitAndKsmd) {
  procfs::KsmdCpu ksmd(Host("two-node"));
  auto k = ObserveKsm(Host("two-node"), &ksmd);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->run, 1);
  EXPECT_EQ(k->pages_to_scan, 1000u);
  EXPECT_EQ(k->sleep_millisecs, 20u);
  EXPECT_FALSE(k->merge_across_nodes);
  EXPECT_EQ(k->pages_shared, 182345u);
  EXPECT_EQ(k->pages_sharing, 1523771u);
  EXPECT_EQ(k->full_scans, 347u);
  EXPECT_EQ(k->general_profit_bytes, 6126073600);
  EXPECT_EQ(k->SavedBytes(), 6126073600);
  // utime 1041 + stime 14227 ticks.
  EXPECT_DOUBLE_EQ(*k->ksmd_cpu_seconds_total, 15268.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(k->page_bytes, static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(OnlineCpus(Host("two-node")), 32);
}

TEST(ObserveKsm, OldKernelWithoutGeneralProfitSavesPagesSharing) {
  procfs::KsmdCpu ksmd(Host("old-kernel"));
  auto k = ObserveKsm(Host("old-kernel"), &ksmd);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->general_profit_bytes, std::nullopt);
  EXPECT_EQ(k->SavedBytes(), static_cast<int64_t>(k->pages_sharing * k->page_bytes));
  EXPECT_DOUBLE_EQ(*k->ksmd_cpu_seconds_total, 3872.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(OnlineCpus(Host("old-kernel")), 8);
}

TEST(ObserveKsm, NoKsmdOrNoKsmIsNoData) {
  auto without_ksmd = ObserveKsm(Host("two-node"), nullptr);
  ASSERT_TRUE(without_ksmd);
  EXPECT_EQ(without_ksmd->ksmd_cpu_seconds_total, std::nullopt);
  EXPECT_EQ(ObserveKsm({"/nonexistent", "/nonexistent"}, nullptr), std::nullopt);
  EXPECT_EQ(OnlineCpus({"/nonexistent", "/nonexistent"}), 0);
}

TEST(ObserveKsm, ObserveHostFillsKsmAndCpus) {
  procfs::KsmdCpu ksmd(Host("this-host"));
  auto obs = ObserveHost(Host("this-host"), model::TimePoint(std::chrono::seconds{5}), &ksmd);
  ASSERT_TRUE(obs) << obs.error().ToString();
  ASSERT_TRUE(obs->ksm);
  EXPECT_EQ(obs->ksm->run, 0);
  EXPECT_DOUBLE_EQ(*obs->ksm->ksmd_cpu_seconds_total, 3.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(obs->cpus, 2);
}

TEST(ObserveKsm, NosharepagesReachesTheVm) {
  auto xml = virt::DecodeDomainXml(
      "<domain type='kvm'><name>secret</name><memory unit='KiB'>1048576</memory>"
      "<memoryBacking><nosharepages/></memoryBacking></domain>");
  ASSERT_TRUE(xml) << xml.error().ToString();
  EXPECT_TRUE(xml->nosharepages);
  auto plain = virt::DecodeDomainXml(
      "<domain type='kvm'><name>web</name><memoryBacking><hugepages/>"
      "</memoryBacking></domain>");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->nosharepages);
  virt::Snapshot snap;
  snap.up = true;
  virt::DomainSample d;
  d.name = "secret";
  d.uuid = "uuid-secret";
  d.xml = *xml;
  snap.domains.push_back(d);
  auto vms = VmsFromSnapshot(snap, model::TimePoint{}, std::chrono::system_clock::now(), std::chrono::seconds{30});
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_TRUE(vms[0].nosharepages);
}

}  // namespace
}  // namespace kvmem::observe
