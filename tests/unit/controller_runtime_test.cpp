// The controller's daemon side: actuator decorators, sysfs compaction, the libvirt actuator on
// the test driver, the virtio-mem device XML edit, and the snapshot-to-observation mapping.
#include <gtest/gtest.h>
#include <chrono>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/metrics/text_format.h"
#include "controller/actuate/actuator.h"
#include "controller/actuate/compaction.h"
#include "controller/actuate/libvirt.h"
#include "controller/loop/controller.h"
#include "controller/observe/read_back.h"
#include "host/write/libvirt_writer.h"

#include <set>
#include "controller/observe/observe.h"
#include "host/procfs/read.h"
#include "tests/support/live_host.h"

namespace kvmem {
namespace {

using namespace std::chrono_literals;

model::SetBalloon Balloon(std::string uuid, uint64_t to) {
  model::SetBalloon b;
  b.vm = {std::move(uuid), "vm"};
  b.to_bytes = to;
  return b;
}

class Recorder final : public actuate::Actuator {
 public:
  std::vector<model::Action> seen;
  bool fail = false;
  model::Outcome Apply(const model::Action& a) noexcept override {
    seen.push_back(a);
    model::Outcome o;
    o.ok = !fail;
    if (fail) o.error = "boom";
    return o;
  }
};

TEST(DryRun, RecordsWithoutTouching) {
  Recorder lv, comp;
  actuate::Router r(&lv, &comp);
  actuate::DryRun dry(&r);
  auto o = dry.Apply(Balloon("u1", 1 << 30));
  EXPECT_TRUE(o.ok);
  EXPECT_TRUE(o.dry_run);
  EXPECT_TRUE(lv.seen.empty());
}

TEST(Router, SendsCompactionAndLibvirtActionsApart) {
  Recorder lv, comp;
  actuate::Router r(&lv, &comp);
  r.Apply(Balloon("u1", 1));
  r.Apply(model::CompactNode{3, std::nullopt, {}});
  EXPECT_EQ(lv.seen.size(), 1u);
  EXPECT_EQ(comp.seen.size(), 1u);
  actuate::Router none(nullptr, &comp);
  auto o = none.Apply(Balloon("u1", 1));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error, "no actuator for balloon");
}

TEST(Backoff, DoublesPerSubjectAndResetsOnSuccess) {
  Recorder inner;
  inner.fail = true;
  auto t = std::chrono::steady_clock::time_point{};
  actuate::Backoff b(&inner, 10s, 60s, [&] { return t; });
  EXPECT_EQ(b.Apply(Balloon("u1", 1)).error, "boom");  // 1st failure: retry after 10 s
  EXPECT_EQ(b.Apply(Balloon("u1", 1)).error, "backing off after 1 failures; next try in 11 s");
  EXPECT_EQ(inner.seen.size(), 1u);
  EXPECT_EQ(b.Apply(Balloon("u2", 1)).error, "boom");  // other subjects are unaffected
  t += 10s;
  EXPECT_EQ(b.Apply(Balloon("u1", 1)).error, "boom");  // 2nd failure: 20 s
  t += 19s;
  EXPECT_FALSE(b.Apply(Balloon("u1", 1)).error.find("backing off after 2 failures") == std::string::npos);
  t += 1s;
  inner.fail = false;
  EXPECT_TRUE(b.Apply(Balloon("u1", 1)).ok);
  inner.fail = true;
  EXPECT_EQ(b.Apply(Balloon("u1", 1)).error, "boom");  // counting starts again at 1
  t += 10s;
  EXPECT_EQ(b.Apply(Balloon("u1", 1)).error, "boom");
  EXPECT_EQ(actuate::SubjectOf(model::CompactNode{4, std::nullopt, {}}), "node 4");
}

// Copies a fixture host to a temporary directory, so the actuator can write into it.
std::string CopyFixture(const std::string& scenario) {
  auto dir = std::filesystem::temp_directory_path() / ("kvmem-test-" + std::to_string(::getpid()) + "-" + scenario);
  std::filesystem::remove_all(dir);
  std::filesystem::copy(std::string(KVMEM_FIXTURES) + "/hosts/" + scenario, dir,
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  return dir.string();
}

TEST(SysfsCompaction, WritesOneAndReportsIndexes) {
  std::string dir = CopyFixture("two-node");
  std::ofstream(dir + "/sys/devices/system/node/node1/compact").close();
  observe::HostReadBack read_back({dir + "/proc", dir + "/sys"});
  actuate::SysfsCompaction c({dir + "/proc", dir + "/sys"}, &read_back);
  auto o = c.Apply(model::CompactNode{1, std::nullopt, {}});
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(procfs::ReadSmallFile(dir + "/sys/devices/system/node/node1/compact").value(), "1\n");
  EXPECT_EQ(o.index_before, -1.0);  // node 1 still has one free order-9 block
  EXPECT_EQ(o.index_after, -1.0);
  auto missing = c.Apply(model::CompactNode{7, std::nullopt, {}});
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("node7/compact: cannot open for writing"), std::string::npos) << missing.error;
  EXPECT_FALSE(c.Apply(Balloon("u", 1)).ok);
  std::filesystem::remove_all(dir);
}

TEST(SysfsCompaction, RealNodeZeroWhenRoot) {
  if (::geteuid() != 0 || !procfs::PathExists("/sys/devices/system/node/node0/compact")) {
    GTEST_SKIP() << "needs root and /sys/devices/system/node/node0/compact";
  }
  observe::HostReadBack read_back({"/proc", "/sys"});
  actuate::SysfsCompaction c({"/proc", "/sys"}, &read_back);
  const auto start = std::chrono::steady_clock::now();
  auto o = c.Apply(model::CompactNode{0, std::nullopt, {}});
  const auto wall = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(o.ok) << o.error;
  // The write to node0/compact walks every pageblock of the node: never under a millisecond
  // here (about 10 ms warm, 135 ms cold) nor in the TCG guest, and never longer than the call.
  EXPECT_GE(o.duration.count(), 1);
  EXPECT_LE(o.duration, std::chrono::duration_cast<std::chrono::milliseconds>(wall));
  ASSERT_TRUE(o.index_before.has_value());
  ASSERT_TRUE(o.index_after.has_value());
  // After compaction node 0 (here and in the two-node guest) has free 2 MiB blocks, and the
  // kernel's index is then exactly -1: "the allocation would succeed".
  ASSERT_GT(live_host::FreeTwoMegabyteBlocksOnNodeZero(), 0u);
  EXPECT_EQ(*o.index_after, -1.0);
}

TEST(LibvirtActuator, SetsBalloonOnTestDriver) {
  hostwrite::LibvirtWriter writer("test:///default");
  actuate::LibvirtActuator a(writer);
  // test:///default's domain "test" has this UUID and 8 GiB; the change lasts for the connection.
  const std::string uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  EXPECT_EQ(writer.LiveMemoryBytes(uuid).value(), 2ULL << 30);  // test:///default: 8 GiB max, 2 GiB used
  auto o = a.Apply(Balloon(uuid, 1ULL << 30));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(writer.LiveMemoryBytes(uuid).value(), 1ULL << 30);
  // Plugged virtio-mem memory is not the balloon's: the target over base RAM is what is set.
  auto with_vmem = Balloon(uuid, 1792ULL << 20);
  with_vmem.plugged_bytes = 512ULL << 20;
  ASSERT_TRUE(a.Apply(with_vmem).ok);
  EXPECT_EQ(writer.LiveMemoryBytes(uuid).value(), 1280ULL << 20);
  with_vmem.plugged_bytes = with_vmem.to_bytes;
  EXPECT_EQ(a.Apply(with_vmem).error, "target 1879048192 B is not above the 1879048192 B of plugged virtio-mem memory");
  auto missing = a.Apply(Balloon("00000000-0000-0000-0000-000000000000", 1ULL << 30));
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("virDomainLookupByUUIDString"), std::string::npos) << missing.error;
  hostwrite::LibvirtWriter gone_writer("qemu:///system?socket=/nonexistent/sock");
  actuate::LibvirtActuator gone(gone_writer);
  auto o2 = gone.Apply(Balloon("6695eb01-f6a4-8304-79aa-97f2502e193f", 1ULL << 30));
  EXPECT_FALSE(o2.ok);
  EXPECT_NE(o2.error.find("virConnectOpen"), std::string::npos) << o2.error;
}

TEST(VirtioMemDeviceXml, ChangesOnlyTheRequestedSizeOfTheAliasedDevice) {
  const std::string xml = R"(<domain type='qemu'><name>g</name><devices>
    <memory model='virtio-mem'><target><size unit='KiB'>524288</size><node>0</node><block unit='KiB'>2048</block><requested unit='KiB'>131072</requested><current unit='KiB'>131072</current></target><alias name='virtiomem0'/></memory>
    <memory model='virtio-mem'><target><size unit='KiB'>1048576</size><node>0</node><block unit='KiB'>2048</block><requested unit='KiB'>0</requested></target></memory>
  </devices></domain>)";
  auto d0 = hostwrite::VirtioMemDeviceXml(xml, "virtiomem0", 262144);
  ASSERT_TRUE(d0) << d0.error().ToString();
  EXPECT_EQ(*d0,
            "<memory model=\"virtio-mem\"><target><size unit=\"KiB\">524288</size><node>0</node><block "
            "unit=\"KiB\">2048</block><requested unit=\"KiB\">262144</requested><current "
            "unit=\"KiB\">131072</current></target><alias name=\"virtiomem0\"/></memory>");
  auto d1 = hostwrite::VirtioMemDeviceXml(xml, "virtio-mem1", 4096);
  ASSERT_TRUE(d1);
  EXPECT_NE(d1->find("<requested unit=\"KiB\">4096</requested>"), std::string::npos);
  auto none = hostwrite::VirtioMemDeviceXml(xml, "virtiomem9", 1);
  EXPECT_FALSE(none);
  EXPECT_EQ(none.error().ToString(), "virtiomem9: no virtio-mem device with this alias in the live domain XML");
  EXPECT_FALSE(hostwrite::VirtioMemDeviceXml("<not xml", "a", 1));
}

TEST(VmsFromSnapshot, MapsFreshDomainsAndNeverActsOnStaleOnes) {
  auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000));
  auto now = model::TimePoint(std::chrono::milliseconds(5'000'000));
  virt::Snapshot snap;
  snap.up = true;
  virt::DomainSample d;
  d.name = "web";
  d.uuid = "u-web";
  d.id = 3;
  d.balloon_current_bytes = 4ULL << 30;
  d.balloon_maximum_bytes = 8ULL << 30;
  d.stats.available_bytes = 3ULL << 30;
  d.stats.usable_bytes = 2ULL << 30;
  d.stats.last_update = 1'000'000 - 4;  // 4 s before wall_now
  d.xml.min_guarantee_bytes = 1ULL << 30;
  d.xml.numatune_nodeset = "1";
  d.xml.virtio_mem.push_back({"virtiomem0", 0, 1ULL << 30, 2ULL << 20, 256ULL << 20, std::nullopt});
  d.placement.resident_bytes = {{0, 1ULL << 30}, {1, 3ULL << 30}};
  d.placement.vcpus_per_node = {{1, 2}};
  d.placement.qemu_pid = 4242;
  d.sampled_at = wall - 1s;
  snap.domains.push_back(d);
  auto old = d;
  old.name = "old";
  old.uuid = "u-old";
  old.sampled_at = wall - 60s;
  snap.domains.push_back(old);

  auto vms = observe::VmsFromSnapshot(snap, now, wall, 30s);
  ASSERT_EQ(vms.size(), 2u);
  const auto& v = vms[0];
  EXPECT_TRUE(v.running);
  EXPECT_EQ(v.balloon_current_bytes, 4ULL << 30);
  // 8 GiB <memory> includes the 1 GiB virtio-mem device, of which 256 MiB are plugged.
  EXPECT_EQ(v.balloon_maximum_bytes, (7ULL << 30) + (256ULL << 20));
  EXPECT_EQ(v.guest_usable_bytes, 2ULL << 30);
  EXPECT_EQ(v.guest_stats_time, now - 4s);
  EXPECT_EQ(v.min_guarantee_bytes, 1ULL << 30);
  EXPECT_EQ(v.memory_per_node.at(1), 3ULL << 30);
  ASSERT_EQ(v.virtio_mem.size(), 1u);
  EXPECT_EQ(v.virtio_mem[0].node, 1);                      // the numatune nodeset names one host node
  EXPECT_EQ(v.virtio_mem[0].current_bytes, 256ULL << 20);  // unknown current = requested
  EXPECT_EQ(v.vcpus_per_node, (std::map<int, uint64_t>{{1, 2}}));
  EXPECT_EQ(v.qemu_pid, 4242);
  EXPECT_FALSE(v.stopped);
  EXPECT_FALSE(v.autostart);
  EXPECT_TRUE(v.hugepage_demand.empty());  // not hugepage-backed
  EXPECT_FALSE(v.placement_fixed);         // a nodeset without a mode: not from a strict <numatune>
  EXPECT_FALSE(vms[1].running);            // sampled 60 s ago: older than max_age

  snap.up = false;  // libvirt did not answer in time: act on nothing
  for (const auto& vm : observe::VmsFromSnapshot(snap, now, wall, 30s)) EXPECT_FALSE(vm.running);
}

TEST(ObserveHost, TwoNodeFixture) {
  const std::string host = std::string(KVMEM_FIXTURES) + "/hosts/two-node";
  auto obs = observe::ObserveHost({host + "/proc", host + "/sys"}, model::TimePoint(5s));
  ASSERT_TRUE(obs) << obs.error().ToString();
  ASSERT_EQ(obs->nodes.size(), 2u);
  EXPECT_EQ(obs->nodes[0].total_bytes, 65607872ULL * 1024);
  EXPECT_EQ(obs->nodes[0].available_bytes,
            (9931816ULL + 7209600 + 6288000 + 1240000) * 1024 + (1024ULL << 21) + (2ULL << 30));
  EXPECT_EQ(obs->nodes[1].fragmentation_index, -1.0);
  EXPECT_EQ(obs->nodes[1].unusable_ratio, 0.999);
  EXPECT_EQ(obs->psi_some_avg10, 0.0214);
  // Hugepage pools of every size per node, CPUs, and the host-wide reservations (FACTS.md).
  EXPECT_EQ(obs->nodes[0].hugepages,
            (std::vector<model::HugepagePool>{{2ULL << 20, 4096, 1024, 0}, {1ULL << 30, 8, 2, 0}}));
  EXPECT_EQ(obs->nodes[1].hugepages,
            (std::vector<model::HugepagePool>{{2ULL << 20, 2048, 2048, 0}, {1ULL << 30, 4, 4, 0}}));
  EXPECT_TRUE(obs->nodes[0].has_cpus);
  EXPECT_TRUE(obs->nodes[1].has_cpus);
  EXPECT_EQ(obs->hugepages_reserved_pages, (std::map<uint64_t, uint64_t>{{2ULL << 20, 100}, {1ULL << 30, 0}}));
  EXPECT_FALSE(observe::ObserveHost({"/nonexistent", "/nonexistent"}, model::TimePoint(5s)));
}

}  // namespace
}  // namespace kvmem

namespace kvmem {
namespace {

// The loop: dry-run applies nothing; a failed rebalance donor stops the matching grow.
class ScriptedActuator final : public actuate::Actuator {
 public:
  std::vector<std::string> applied;
  std::set<std::string> failing;  // VM uuids whose actions fail
  model::Outcome Apply(const model::Action& a) noexcept override {
    applied.push_back(model::Summary(a));
    model::Outcome o;
    if (const auto* b = std::get_if<model::SetBalloon>(&a); b && failing.contains(b->vm.uuid)) {
      o.ok = false;
      o.error = "refused";
    }
    return o;
  }
};

model::VmObservation Vm(std::string name, uint64_t current, uint64_t usable, model::TimePoint now) {
  model::VmObservation v;
  v.name = name;
  v.uuid = "u-" + name;
  v.running = true;
  v.balloon_current_bytes = current;
  v.balloon_maximum_bytes = 8ULL << 30;
  v.guest_available_bytes = current;
  v.guest_usable_bytes = usable;
  v.guest_unused_bytes = usable;
  v.guest_stats_time = now;
  v.memory_per_node = {{0, current}};
  return v;
}

// Node 0 in the dead band (15% available), one pressured VM and one idle donor.
loop::ObserveFn DeadBandHost() {
  return [](model::TimePoint now) -> Result<model::Observation> {
    model::Observation o;
    o.time = now;
    model::NodeObservation n;
    n.id = 0;
    n.total_bytes = 64ULL << 30;
    n.available_bytes = n.free_bytes = (64ULL << 30) * 15 / 100;
    o.nodes.push_back(n);
    o.psi_some_avg10 = 0;
    o.vms.push_back(Vm("busy", 4ULL << 30, 64ULL << 20, now));
    o.vms.push_back(Vm("idle", 6ULL << 30, 5ULL << 30, now));
    return o;
  };
}

TEST(ControllerLoop, FailedDonorShrinkStopsTheRebalanceGrow) {
  ScriptedActuator act;
  act.failing = {"u-idle"};
  loop::Controller c(DeadBandHost(), act, model::Policy{}, false);
  auto plan = c.RunOnce(model::TimePoint(std::chrono::seconds(100)), std::chrono::system_clock::now());
  ASSERT_EQ(plan.actions.size(), 2u) << model::ToString(plan);
  EXPECT_EQ(model::ReasonOf(plan.actions[0]).rule, "balloon.rebalance");
  ASSERT_EQ(act.applied.size(), 1u);  // the donor was tried, the grow was not
  EXPECT_NE(act.applied[0].find("idle"), std::string::npos);
  MetricSink sink;
  c.Collect(sink);
  std::string text = SerializeText(sink.families());
  EXPECT_NE(
      text.find(
          "kvmem_controller_actions_total{actuator=\"balloon\",reason=\"balloon.rebalance\",outcome=\"failed\"} 2"),
      std::string::npos)
      << text;
}

TEST(ControllerLoop, DryRunAppliesNothingButCountsWhatItWouldDo) {
  Recorder lv, comp;
  actuate::Router router(&lv, &comp);
  actuate::DryRun dry(&router);
  loop::Controller c(DeadBandHost(), dry, model::Policy{}, true);
  auto plan = c.RunOnce(model::TimePoint(std::chrono::seconds(100)), std::chrono::system_clock::now());
  ASSERT_EQ(plan.actions.size(), 2u);
  MetricSink sink;
  c.Collect(sink);
  std::string text = SerializeText(sink.families());
  EXPECT_NE(text.find("reason=\"balloon.rebalance\",outcome=\"dry_run\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("kvmem_controller_dry_run 1"), std::string::npos);
}

}  // namespace
}  // namespace kvmem
