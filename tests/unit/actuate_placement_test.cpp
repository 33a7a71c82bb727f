// The placement actuator: vCPU and emulator pinning on libvirt's test driver (read back with
// virDomainGetVcpuPinInfo), page migration of a real child process through libnuma, measured
// from its /proc/PID/numa_maps, and every refusal.
#include <gtest/gtest.h>

#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "controller/actuate/placement.h"
#include "controller/observe/observe.h"
#include "controller/observe/read_back.h"
#include "host/procfs/node.h"
#include "host/virt/decode.h"
#include "host/virt/handles.h"
#include "host/write/libvirt_writer_internal.h"
#include "host/write/numa.h"

namespace kvmem {
namespace {

// Reads back from this host's /proc and /sys, as the daemon's actuators do.
observe::HostReadBack& LiveReadBack() {
  static observe::HostReadBack read_back({"/proc", "/sys"});
  return read_back;
}

constexpr uint64_t kMiB = 1ULL << 20;
// test:///default's running domain "test" (2 vCPUs) and its host: capabilities list cell 0
// with CPUs 0-7 and cell 1 with CPUs 8-15, and node 2 here stands for a memory-only node.
const model::VmRef kTestVm{"6695eb01-f6a4-8304-79aa-97f2502e193f", "test"};
Result<std::vector<int>> TestDriverNodeCpus(int node) {
  if (node == 0) return std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7};
  if (node == 1) return std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15};
  if (node == 2) return std::vector<int>{};
  return Fail(ErrorKind::kNotFound, "no node " + std::to_string(node));
}

model::PinVcpus Pin(model::VmRef vm, int node) {
  model::PinVcpus a;
  a.vm = std::move(vm);
  a.to_node = node;
  a.locality_before = 0.25;
  return a;
}

model::MigrateMemory Migrate(int pid, int node) {
  model::MigrateMemory a;
  a.vm = {"0d6b2a56-7d4c-4b7e-9a43-5b1f2e0c9d11", "hog"};
  a.pid = pid;
  a.to_node = node;
  return a;
}

TEST(Placement, ShareBytesMovedAndCpuLists) {
  EXPECT_EQ(actuate::ShareOn({{0, 3 * kMiB}, {1, kMiB}}, 0), 0.75);
  EXPECT_EQ(actuate::ShareOn({{1, 5}}, 0), 0.0);
  EXPECT_EQ(actuate::ShareOn({{0, 5}}, 0), 1.0);
  EXPECT_EQ(actuate::ShareOn({}, 0), std::nullopt);
  EXPECT_EQ(actuate::ShareOn({{0, 0}}, 0), std::nullopt);
  // node 1 lost 90, node 2 grew (counts 0), node 3 vanished (lost 7), node 0 is the target
  EXPECT_EQ(actuate::BytesMovedOff({{0, 10}, {1, 100}, {2, 50}, {3, 7}}, {{0, 150}, {1, 10}, {2, 60}}, 0), 97u);
  EXPECT_EQ(actuate::BytesMovedOff({{0, 10}}, {{0, 5}}, 0), 0u);
  EXPECT_EQ(hostwrite::CpuListText({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(hostwrite::CpuListText({5}), "5");
  EXPECT_EQ(hostwrite::CpuListText({}), "");
}

TEST(Placement, LibnumaNodeCpusMatchSysfs) {
  if (numa_available() < 0) GTEST_SKIP() << "no NUMA support in this kernel";
  for (int node = 0; node <= numa_max_node(); ++node) {
    if (!numa_bitmask_isbitset(numa_nodes_ptr, static_cast<unsigned int>(node))) continue;
    EXPECT_EQ(hostwrite::LibnumaNodeCpus(node).value(), procfs::ReadNodeCpus({"/proc", "/sys"}, node).value()) << node;
  }
  const int past = numa_max_node() + 1;
  EXPECT_EQ(
      hostwrite::LibnumaNodeCpus(past).error().message,
      "libnuma: node " + std::to_string(past) + " does not exist (highest node " + std::to_string(past - 1) + ")");
}

// The pin map of every live vCPU, then the emulator's, over the actuator's own connection
// (the test driver's state lives as long as the connection).
std::vector<std::vector<unsigned char>> PinInfo(hostwrite::LibvirtWriter& conn, int maplen) {
  virConnectPtr c = hostwrite::ConnectionOf(conn).value();
  virt::DomainPtr d(virDomainLookupByUUIDString(c, kTestVm.uuid.c_str()));
  const int vcpus = virDomainGetVcpusFlags(d.get(), VIR_DOMAIN_AFFECT_LIVE);
  std::vector<unsigned char> maps(static_cast<size_t>(vcpus * maplen));
  EXPECT_EQ(virDomainGetVcpuPinInfo(d.get(), vcpus, maps.data(), maplen, VIR_DOMAIN_AFFECT_LIVE), vcpus);
  std::vector<std::vector<unsigned char>> out;
  for (int v = 0; v < vcpus; ++v) out.emplace_back(maps.begin() + v * maplen, maps.begin() + (v + 1) * maplen);
  std::vector<unsigned char> emulator(static_cast<size_t>(maplen));
  EXPECT_EQ(virDomainGetEmulatorPinInfo(d.get(), emulator.data(), maplen, VIR_DOMAIN_AFFECT_LIVE), 1);
  out.push_back(emulator);
  return out;
}

TEST(Placement, PinsEveryVcpuAndTheEmulatorOnTestDriver) {
  hostwrite::LibvirtWriter conn("test:///default");
  unsigned long long free_per_cell[4] = {};
  ASSERT_EQ(virNodeGetCellsFreeMemory(hostwrite::ConnectionOf(conn).value(), free_per_cell, 0, 4),
            2);  // two host cells
  actuate::PlacementActuator placement(
      {.read_back = &LiveReadBack(), .libvirt = &conn, .node_cpus = TestDriverNodeCpus});
  using Map = std::vector<std::vector<unsigned char>>;
  ASSERT_EQ(PinInfo(conn, 2), (Map{{0xff, 0xff}, {0xff, 0xff}, {0xff, 0xff}}));  // unpinned: every host CPU

  auto o = placement.Apply(Pin(kTestVm, 1));
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_FALSE(o.locality_after.has_value());  // the test driver has no QEMU process to measure
  EXPECT_FALSE(o.bytes_migrated.has_value());
  EXPECT_EQ(PinInfo(conn, 2), (Map{{0x00, 0xff}, {0x00, 0xff}, {0x00, 0xff}}));  // 2 vCPUs + emulator on CPUs 8-15

  ASSERT_TRUE(placement.Apply(Pin(kTestVm, 0)).ok);
  EXPECT_EQ(PinInfo(conn, 2), (Map{{0xff, 0x00}, {0xff, 0x00}, {0xff, 0x00}}));
}

// The live XML after a pin carries the controller's metadata mark, so a controller started
// later reads the pins as its own, not the administrator's.
TEST(Placement, PinLeavesTheControllersMarkInTheLiveXml) {
  hostwrite::LibvirtWriter conn("test:///default");
  actuate::PlacementActuator placement(
      {.read_back = &LiveReadBack(), .libvirt = &conn, .node_cpus = TestDriverNodeCpus});
  virt::DomainPtr d(virDomainLookupByUUIDString(hostwrite::ConnectionOf(conn).value(), kTestVm.uuid.c_str()));
  ASSERT_TRUE(d);
  auto live = [&] {
    char* xml = virDomainGetXMLDesc(d.get(), 0);
    std::string s = xml ? xml : "";
    free(xml);
    return virt::DecodeDomainXml(s).value();
  };
  ASSERT_TRUE(placement.Apply(Pin(kTestVm, 1)).ok);
  auto x = live();
  EXPECT_TRUE(x.vcpupin);
  EXPECT_EQ(x.kvmem_pinned_node, 1);
  EXPECT_FALSE(observe::PlacementFixed(x));
  ASSERT_TRUE(placement.Apply(Pin(kTestVm, 0)).ok);
  EXPECT_EQ(live().kvmem_pinned_node, 0);  // replaced, not added

  // The administrator's pins (no mark) stay fixed.
  ASSERT_EQ(virDomainSetMetadata(d.get(), VIR_DOMAIN_METADATA_ELEMENT, nullptr, nullptr, virt::kKvmemPlacementNs,
                                 VIR_DOMAIN_AFFECT_LIVE),
            0);
  x = live();
  EXPECT_TRUE(x.vcpupin);
  EXPECT_FALSE(x.kvmem_pinned_node.has_value());
  EXPECT_TRUE(observe::PlacementFixed(x));
}

TEST(Placement, PinRefusesWhatItCannotDo) {
  hostwrite::LibvirtWriter conn("test:///default");
  actuate::PlacementActuator placement(
      {.read_back = &LiveReadBack(), .libvirt = &conn, .node_cpus = TestDriverNodeCpus});
  EXPECT_EQ(placement.Apply(Pin(kTestVm, 2)).error,
            "node 2 has no CPUs (a memory-only node): cannot pin the vCPUs of test there");
  EXPECT_EQ(placement.Apply(Pin(kTestVm, 5)).error, "pin vcpus test: no node 5");
  auto missing = placement.Apply(Pin({"00000000-0000-0000-0000-000000000000", "ghost"}, 1));
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("virDomainLookupByUUIDString ghost"), std::string::npos) << missing.error;

  actuate::PlacementActuator without(
      {.read_back = &LiveReadBack(), .libvirt = nullptr, .node_cpus = TestDriverNodeCpus});
  EXPECT_EQ(without.Apply(Pin(kTestVm, 1)).error, "pinning vCPUs needs libvirt (--libvirt.uri)");
  model::CompactNode compact;
  compact.node = 0;
  EXPECT_EQ(without.Apply(compact).error, "the placement actuator does not compact node 0");
}

// A child that maps and touches `bytes` of anonymous memory (bound to `bind_node` first when
// it is >= 0), reports on a pipe and waits to be killed. Only syscalls after fork().
struct Toucher {
  pid_t pid = -1;
  Toucher(size_t bytes, int bind_node) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) ::_exit(1);
      if (bind_node >= 0) {
        unsigned long mask = 1UL << bind_node;
        if (::mbind(p, bytes, MPOL_BIND, &mask, sizeof mask * 8, 0) != 0) ::_exit(2);
      }
      std::memset(p, 0x5a, bytes);
      char ready = 'r';
      if (::write(fds[1], &ready, 1) != 1) ::_exit(3);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    char c = 0;
    if (pid > 0 && ::read(fds[0], &c, 1) != 1) pid = -pid;  // the child died: not ready
    ::close(fds[0]);
  }
  ~Toucher() {
    const pid_t p = pid < 0 ? -pid : pid;
    if (p > 0) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }
};

TEST(Placement, MigratesARealProcessToNodeZero) {
  if (numa_available() < 0) GTEST_SKIP() << "no NUMA support in this kernel";
  // On a host with a second memory node the child's memory starts there and must move; on a
  // one-node host (this test machine) nothing can move and everything is already local.
  const bool two_nodes = numa_max_node() > 0 && numa_bitmask_isbitset(numa_all_nodes_ptr, 1);
  Toucher child(64 * kMiB, two_nodes ? 1 : -1);
  ASSERT_GT(child.pid, 0) << "the child could not map, bind or touch its memory";
  auto before = LiveReadBack().ResidentBytesPerNode(child.pid).value();
  uint64_t total = 0;
  for (auto [node, bytes] : before) total += bytes;
  EXPECT_GE(total, 64 * kMiB);

  actuate::PlacementActuator placement({.read_back = &LiveReadBack(), .libvirt = nullptr, .verify_qemu_uuid = false});
  auto o = placement.Apply(Migrate(child.pid, 0));
  std::cout << "resident before: " << total / kMiB << " MiB; migrated " << (o.bytes_migrated ? *o.bytes_migrated : 0)
            << " B in " << o.duration.count() << " ms\n";
  if (!two_nodes) {
    // What one node can show: all of the child's memory on node 0 before and after, a move
    // that moves nothing, full locality. The move itself is asserted where it can happen, in
    // the two-node guest (e2e_numa_guest: at least 64 MiB from node 1 to node 0).
    ASSERT_TRUE(o.ok) << o.error;
    EXPECT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0], total);
    const auto after = LiveReadBack().ResidentBytesPerNode(child.pid).value();
    EXPECT_EQ(after.size(), 1u);
    EXPECT_GE(after.at(0), 64 * kMiB);
    EXPECT_EQ(o.bytes_migrated, 0u);
    EXPECT_EQ(o.locality_after, 1.0);
    return;
  }
  EXPECT_TRUE(o.ok) << o.error;
  ASSERT_TRUE(o.bytes_migrated.has_value());
  EXPECT_GE(*o.bytes_migrated, 64 * kMiB);
  auto after = LiveReadBack().ResidentBytesPerNode(child.pid).value();
  EXPECT_LT(after[1], before[1] - 64 * kMiB + 1);
  EXPECT_GE(*o.locality_after, static_cast<double>(64 * kMiB) / static_cast<double>(total));
}

TEST(Placement, MigrateRefusesAStrangerAMissingNodeAndADeadProcess) {
  if (numa_available() < 0) GTEST_SKIP() << "no NUMA support in this kernel";
  Toucher child(4 * kMiB, -1);
  ASSERT_GT(child.pid, 0);
  const std::string pid = std::to_string(child.pid);
  actuate::PlacementActuator checked({.read_back = &LiveReadBack(), .libvirt = nullptr});
  auto stranger = checked.Apply(Migrate(child.pid, 0));
  EXPECT_EQ(stranger.error, "migrate memory hog (pid " + pid + "): /proc/" + pid +
                                "/cmdline carries no -uuid, not 0d6b2a56-7d4c-4b7e-9a43-5b1f2e0c9d11: not this VM's "
                                "QEMU process (restarted?)");
  EXPECT_FALSE(stranger.bytes_migrated.has_value());

  actuate::PlacementActuator unchecked({.read_back = &LiveReadBack(), .libvirt = nullptr, .verify_qemu_uuid = false});
  const int past = numa_max_node() + 1;
  std::vector<int> memory_nodes;
  for (int n = 0; n < past; ++n) {
    if (numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(n))) memory_nodes.push_back(n);
  }
  EXPECT_EQ(unchecked.Apply(Migrate(child.pid, past)).error,
            "migrate memory hog (pid " + pid + "): node " + std::to_string(past) +
                " is not a memory node of this host (libnuma: {" + hostwrite::CpuListText(memory_nodes) + "})");
  EXPECT_EQ(unchecked.Apply(Migrate(0, 0)).error, "migrate memory hog (pid 0): no QEMU process id");

  ::kill(child.pid, SIGKILL);
  ::waitpid(child.pid, nullptr, 0);
  child.pid = 0;
  EXPECT_EQ(
      unchecked.Apply(Migrate(std::stoi(pid), 0)).error,
      "migrate memory hog (pid " + pid + "): /proc/" + pid + "/numa_maps: cannot open: No such file or directory");
}

}  // namespace
}  // namespace kvmem
