// What the hugepage pool manager and the placement rules observe: pools, CPUs and reserved
// pages from fixture hosts; stopped/autostart/demand/placement from snapshots; and the whole
// path on libvirt's test driver (tests/fixtures/libvirt/hugepages-host.xml) with the two-node
// fixture host as /proc and /sys.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "controller/observe/observe.h"
#include "host/virt/decode.h"
#include "host/virt/fetch.h"
#include "host/virt/source.h"

namespace kvmem {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t MiB = 1ULL << 20, GiB = 1ULL << 30;
using Demand = std::vector<model::HugepageDemand>;

const std::string kFixtures = KVMEM_FIXTURES;
const std::string kHugepagesUri = "test://" + kFixtures + "/libvirt/hugepages-host.xml";

procfs::Root Host(const std::string& scenario) {
  const std::string dir = kFixtures + "/hosts/" + scenario;
  return {dir + "/proc", dir + "/sys"};
}

TEST(ObserveHostHugepages, MemoryOnlyNodeAndSparseIds) {
  auto obs = observe::ObserveHost(Host("four-node-sparse"), model::TimePoint(1s));
  ASSERT_TRUE(obs) << obs.error().ToString();
  ASSERT_EQ(obs->nodes.size(), 4u);
  std::vector<int> ids;
  std::vector<bool> cpus;
  for (const auto& n : obs->nodes) {
    ids.push_back(n.id);
    cpus.push_back(n.has_cpus);
  }
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 4, 6}));
  EXPECT_EQ(cpus, (std::vector<bool>{true, true, true, false}));  // node6's cpulist is empty
  EXPECT_EQ(obs->nodes[2].hugepages, (std::vector<model::HugepagePool>{{2 * MiB, 0, 0, 0}, {GiB, 16, 6, 0}}));
  EXPECT_EQ(obs->nodes[0].FindPool(2 * MiB)->UsedPages(), 768u);
  EXPECT_EQ(obs->nodes[3].hugepages, (std::vector<model::HugepagePool>{{2 * MiB, 0, 0, 0}, {GiB, 0, 0, 0}}));
  EXPECT_EQ(obs->hugepages_reserved_pages, (std::map<uint64_t, uint64_t>{{2 * MiB, 0}, {GiB, 2}}));
}

TEST(ObserveHostHugepages, UnreadableGlobalPoolFailsTheCycle) {
  // broken/: the global 2048kB free_hugepages says "lots"; reservations would be unknown.
  auto obs = observe::ObserveHost(Host("broken"), model::TimePoint(1s));
  ASSERT_FALSE(obs);
  EXPECT_NE(obs.error().ToString().find("kernel/mm/hugepages/hugepages-2048kB/free_hugepages"), std::string::npos)
      << obs.error().ToString();
}

TEST(DefaultHugepageBytes, FromMeminfoElseTheFallback) {
  EXPECT_EQ(observe::DefaultHugepageBytes(Host("two-node")), 2 * MiB);
  EXPECT_EQ(observe::DefaultHugepageBytes({"/nonexistent", "/nonexistent"}), observe::kFallbackHugepageBytes);
}

TEST(PlacementFixed, PinsAndStrictNumatune) {
  auto fixed = [](const std::string& body) {
    auto xml = virt::DecodeDomainXml("<domain>" + body + "</domain>");
    EXPECT_TRUE(xml) << body;
    return xml && observe::PlacementFixed(*xml);
  };
  EXPECT_FALSE(fixed("<vcpu>2</vcpu>"));
  EXPECT_TRUE(fixed("<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>"));
  EXPECT_TRUE(fixed("<cputune><emulatorpin cpuset='1'/></cputune>"));
  EXPECT_TRUE(fixed("<vcpu cpuset='0-3'>2</vcpu>"));
  EXPECT_FALSE(fixed("<cputune><shares>2048</shares></cputune>"));
  EXPECT_TRUE(fixed("<numatune><memory nodeset='0'/></numatune>"));  // mode defaults to strict
  EXPECT_TRUE(fixed("<numatune><memory mode='strict' nodeset='0-1'/></numatune>"));
  EXPECT_FALSE(fixed("<numatune><memory mode='strict' placement='auto'/></numatune>"));
  EXPECT_FALSE(fixed("<numatune><memory mode='preferred' nodeset='0'/></numatune>"));
  EXPECT_FALSE(fixed("<numatune><memory mode='interleave' nodeset='0-1'/></numatune>"));
  EXPECT_TRUE(fixed("<numatune><memnode cellid='0' nodeset='1'/></numatune>"));
  EXPECT_FALSE(fixed("<numatune><memnode cellid='0' mode='preferred' nodeset='1'/></numatune>"));
  // The controller's own pins, marked in the live metadata; a foreign namespace is no mark.
  const std::string pins = "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='1'/></cputune>";
  const std::string ours =
      "<metadata><kvmem:placement xmlns:kvmem='https://kvmem.dev/xmlns/placement/1' vcpus-node='1'/></metadata>";
  EXPECT_FALSE(fixed(pins + ours));
  EXPECT_TRUE(fixed(pins + "<metadata><x:placement xmlns:x='https://example.org/other' vcpus-node='1'/></metadata>"));
  EXPECT_TRUE(fixed(pins + "<metadata><placement vcpus-node='1'/></metadata>"));
  EXPECT_TRUE(fixed("<vcpu cpuset='0-3'>2</vcpu>" + ours));                 // a static <vcpu cpuset> is never ours
  EXPECT_TRUE(fixed(ours + "<numatune><memory nodeset='0'/></numatune>"));  // nor a strict numatune
  EXPECT_EQ(virt::DecodeDomainXml("<domain>" + ours + "</domain>")->kvmem_pinned_node, 1);
}

// The administrator's memory priority, from the domain metadata: -1000 to 1000, our namespace only.
TEST(DecodeDomainXmlPriority, OnlyOurNamespaceAndARangeCount) {
  auto priority = [](const std::string& metadata) {
    return virt::DecodeDomainXml("<domain><metadata>" + metadata + "</metadata></domain>")->kvmem_priority;
  };
  const std::string ns = "xmlns:kvmem='https://kvmem.dev/xmlns/memory/1'";
  EXPECT_EQ(priority("<kvmem:memory " + ns + " priority='100'/>"), 100);
  EXPECT_EQ(priority("<kvmem:memory " + ns + " priority='-5'/>"), -5);
  EXPECT_EQ(priority("<kvmem:memory " + ns + " priority='1000'/>"), 1000);
  EXPECT_FALSE(priority("<kvmem:memory " + ns + " priority='1001'/>").has_value());
  EXPECT_FALSE(priority("<kvmem:memory " + ns + " priority='high'/>").has_value());
  EXPECT_FALSE(priority("<kvmem:memory " + ns + " priority='--1'/>").has_value());
  EXPECT_FALSE(priority("<x:memory xmlns:x='https://example.org/other' priority='100'/>").has_value());
  EXPECT_FALSE(priority("").has_value());
}

TEST(VmsFromSnapshotHugepages, StoppedAutostartDomainCarriesItsDemand) {
  auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000));
  virt::Snapshot snap;
  snap.up = true;
  virt::DomainSample d;
  d.name = "db";
  d.uuid = "u-db";
  d.id = -1;
  d.active = false;
  d.autostart = true;
  d.xml_known = true;
  d.xml.memory_bytes = 3 * GiB;
  d.xml.hugepages = true;  // no <page>: the host default, passed in as 1 GiB here
  d.xml.numatune_mode = "strict";
  d.xml.numatune_nodeset = "0";
  d.sampled_at = wall;
  snap.domains.push_back(d);
  auto vms = observe::VmsFromSnapshot(snap, model::TimePoint(5s), wall, 30s, GiB);
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_FALSE(vms[0].running);
  EXPECT_TRUE(vms[0].stopped);
  EXPECT_TRUE(vms[0].autostart);
  EXPECT_EQ(vms[0].hugepage_demand, (Demand{{0, GiB, 3 * GiB}}));
  EXPECT_TRUE(vms[0].HugepageBacked());
  EXPECT_TRUE(vms[0].placement_fixed);
  EXPECT_EQ(vms[0].balloon_maximum_bytes, 3 * GiB);  // from <memory>: no balloon while off
  EXPECT_TRUE(vms[0].vcpus_per_node.empty());
  EXPECT_EQ(vms[0].qemu_pid, std::nullopt);
}

const model::VmObservation* FindVm(const std::vector<model::VmObservation>& vms, const std::string& name) {
  auto it = std::find_if(vms.begin(), vms.end(), [&](const auto& v) { return v.name == name; });
  return it == vms.end() ? nullptr : &*it;
}

std::vector<std::string> Names(const std::vector<model::VmObservation>& vms) {
  std::vector<std::string> out;
  for (const auto& v : vms) out.push_back(v.name);
  return out;
}

virt::SourceOptions SourceOn(const std::string& uri, bool include_inactive) {
  virt::SourceOptions o;
  o.uri = uri;
  o.root = Host("two-node");
  o.placement_interval = 0ms;
  o.include_inactive = include_inactive;
  return o;
}

// The exporter's default: active domains only, as before.
TEST(LibvirtHugepagesHost, ExporterDefaultListsActiveDomainsOnly) {
  virt::LibvirtSource source(SourceOn(kHugepagesUri, false));
  virt::Snapshot s = source.Get(5s);
  ASSERT_TRUE(s.up);
  std::vector<std::string> names;
  for (const auto& d : s.domains) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"hp-run-node1", "plain-running"}));
}

TEST(LibvirtHugepagesHost, ObservationOfRunningAndStoppedDomains) {
  const procfs::Root root = Host("two-node");
  virt::LibvirtSource source(SourceOn(kHugepagesUri, true));
  virt::Snapshot s = source.Get(5s);
  ASSERT_TRUE(s.up);
  auto host = observe::ObserveHost(root, model::TimePoint(10s));
  ASSERT_TRUE(host) << host.error().ToString();
  auto vms = observe::VmsFromSnapshot(s, model::TimePoint(10s), s.as_of, 30s, observe::DefaultHugepageBytes(root));
  EXPECT_EQ(Names(vms),
            (std::vector<std::string>{"hp-autostart-node0", "hp-run-node1", "hp-stopped-interleave", "plain-running"}));

  const auto* run = FindVm(vms, "hp-run-node1");
  ASSERT_NE(run, nullptr);
  EXPECT_TRUE(run->running);
  EXPECT_FALSE(run->stopped);
  EXPECT_EQ(run->hugepage_demand, (Demand{{1, 2 * MiB, 4 * GiB}}));   // two 2 GiB cells, both on node 1
  EXPECT_TRUE(run->placement_fixed);                                  // strict numatune
  EXPECT_EQ(run->vcpus_per_node, (std::map<int, uint64_t>{{0, 4}}));  // the test driver: CPU 15, node 0 here
  EXPECT_EQ(run->qemu_pid, std::nullopt);                             // the test driver runs no process

  const auto* autostart = FindVm(vms, "hp-autostart-node0");
  ASSERT_NE(autostart, nullptr);
  EXPECT_FALSE(autostart->running);
  EXPECT_TRUE(autostart->stopped);
  EXPECT_FALSE(autostart->autostart);  // a node file cannot set it: see AutostartAndLivePinning
  EXPECT_EQ(autostart->hugepage_demand, (Demand{{0, GiB, 3 * GiB}}));
  EXPECT_TRUE(autostart->placement_fixed);
  EXPECT_TRUE(autostart->vcpus_per_node.empty());

  const auto* interleave = FindVm(vms, "hp-stopped-interleave");
  ASSERT_NE(interleave, nullptr);
  EXPECT_TRUE(interleave->stopped);
  EXPECT_FALSE(interleave->autostart);
  // 1001 MiB of the host's default 2 MiB pages = 501 pages: 251 per node, rounded up.
  EXPECT_EQ(interleave->hugepage_demand, (Demand{{0, 2 * MiB, 502 * MiB}, {1, 2 * MiB, 502 * MiB}}));
  EXPECT_FALSE(interleave->placement_fixed);

  const auto* plain = FindVm(vms, "plain-running");
  ASSERT_NE(plain, nullptr);
  EXPECT_TRUE(plain->running);
  EXPECT_FALSE(plain->stopped);
  EXPECT_TRUE(plain->hugepage_demand.empty());
  EXPECT_FALSE(plain->placement_fixed);
  EXPECT_EQ(plain->vcpus_per_node, (std::map<int, uint64_t>{{0, 2}}));

  // Inactive XML goes through the same cache: one fetch per domain over five refreshes, and
  // shut-off domains never send the placement reader scanning /proc for their process.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(source.Get(5s).up);
  EXPECT_EQ(source.stats().xml_fetches, 4u);
  EXPECT_EQ(source.stats().proc_scans, 1u);
}

virt::Snapshot ToSnapshot(virt::FetchResult fetched, std::chrono::system_clock::time_point wall) {
  virt::Snapshot s;
  s.up = true;
  s.as_of = wall;
  for (auto& f : fetched.domains) {
    f.sample.sampled_at = wall;
    s.domains.push_back(std::move(f.sample));
  }
  std::sort(s.domains.begin(), s.domains.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return s;
}

// Autostart and live pinning need a read-write connection to the same (private) test-driver
// state, so this drives kvmem::virt's Fetcher over one, as LibvirtSource's worker would.
TEST(LibvirtHugepagesHost, AutostartAndLivePinning) {
  virt::InitLibvirt();
  virt::ConnectPtr conn(virConnectOpen(kHugepagesUri.c_str()));
  ASSERT_NE(conn, nullptr) << virt::LastError("virConnectOpen", kHugepagesUri).ToString();
  virConnectPtr raw = conn.get();
  virt::DomainPtr stopped(virDomainLookupByName(raw, "hp-autostart-node0"));
  ASSERT_NE(stopped, nullptr);
  ASSERT_EQ(virDomainSetAutostart(stopped.get(), 1), 0) << virt::LastError("virDomainSetAutostart").ToString();
  int autostart = 0;
  ASSERT_EQ(virDomainGetAutostart(stopped.get(), &autostart), 0);
  EXPECT_EQ(autostart, 1);

  virt::Fetcher fetcher(std::move(conn), kHugepagesUri, {0ms, true});  // XML re-read every refresh
  auto no_vcpus = [](const std::string&) { return false; };
  auto wall = std::chrono::system_clock::now();
  auto first = fetcher.Refresh(no_vcpus);
  ASSERT_TRUE(first) << first.error().ToString();
  auto vms = observe::VmsFromSnapshot(ToSnapshot(std::move(*first), wall), model::TimePoint(1s), wall, 30s, 2 * MiB);
  ASSERT_EQ(vms.size(), 4u);
  std::vector<bool> flags;
  for (const auto& v : vms) flags.push_back(v.autostart);
  EXPECT_EQ(Names(vms),
            (std::vector<std::string>{"hp-autostart-node0", "hp-run-node1", "hp-stopped-interleave", "plain-running"}));
  EXPECT_EQ(flags, (std::vector<bool>{true, false, false, false}));
  EXPECT_TRUE(FindVm(vms, "hp-autostart-node0")->stopped);
  EXPECT_FALSE(FindVm(vms, "plain-running")->placement_fixed);

  // Pin plain-running's vCPU 0 to CPU 3. The test driver takes flags 0 (current) only; it
  // rejects VIR_DOMAIN_AFFECT_LIVE and _CONFIG. The live XML then has <cputune><vcpupin>.
  virt::DomainPtr plain(virDomainLookupByName(raw, "plain-running"));
  ASSERT_NE(plain, nullptr);
  unsigned char cpumap = 1u << 3;
  ASSERT_EQ(virDomainPinVcpuFlags(plain.get(), 0, &cpumap, 1, 0), 0)
      << virt::LastError("virDomainPinVcpuFlags").ToString();
  auto second = fetcher.Refresh(no_vcpus);
  ASSERT_TRUE(second) << second.error().ToString();
  vms = observe::VmsFromSnapshot(ToSnapshot(std::move(*second), wall), model::TimePoint(2s), wall, 30s, 2 * MiB);
  ASSERT_NE(FindVm(vms, "plain-running"), nullptr);
  EXPECT_TRUE(FindVm(vms, "plain-running")->placement_fixed);
  EXPECT_EQ(fetcher.xml_fetches(), 8u);
}

}  // namespace
}  // namespace kvmem
