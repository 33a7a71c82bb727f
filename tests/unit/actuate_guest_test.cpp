// The hugepage and placement actuators against a real libvirtd (qemu driver) and a real QEMU
// guest: virNodeAllocPages, live vCPU and emulator pinning, and page migration of the QEMU
// process found by its -uuid. These tests run only inside tests/e2e/actuate_guest.sh, which
// starts the private libvirtd and the guest (tests/e2e/vm) and sets KVMEM_TEST_URI,
// KVMEM_TEST_DOMAIN and KVMEM_TEST_QEMU_PID; anywhere else they skip.
#include <gtest/gtest.h>

#include <numa.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "controller/actuate/hugepages.h"
#include "controller/actuate/placement.h"
#include "controller/observe/read_back.h"
#include "host/procfs/read.h"
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

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

#define KVMEM_NEED_GUEST()                                                                          \
  if (Env("KVMEM_TEST_URI").empty()) {                                                              \
    GTEST_SKIP() << "runs inside tests/e2e/actuate_guest.sh (a private libvirtd and a QEMU guest)"; \
  }

model::VmRef GuestVm(hostwrite::LibvirtWriter& conn) {
  const std::string name = Env("KVMEM_TEST_DOMAIN");
  virt::DomainPtr d(virDomainLookupByName(hostwrite::ConnectionOf(conn).value(), name.c_str()));
  EXPECT_TRUE(d) << name;
  char uuid[VIR_UUID_STRING_BUFLEN] = {};
  if (d) virDomainGetUUIDString(d.get(), uuid);
  return {uuid, name};
}

TEST(ActuateGuest, PoolThroughVirNodeAllocPages) {
  KVMEM_NEED_GUEST();
  const std::string dir = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB";
  auto read = [&](const char* file) { return procfs::ReadU64File(dir + "/" + file).value(); };
  const uint64_t nr0 = read("nr_hugepages"), free0 = read("free_hugepages");
  struct Restore {
    std::string path;
    uint64_t pages;
    ~Restore() { std::ofstream(path) << pages << "\n"; }
  } restore{dir + "/nr_hugepages", nr0};

  hostwrite::LibvirtWriter conn(Env("KVMEM_TEST_URI"));
  actuate::HugepagePoolActuator pool({"/proc", "/sys"}, &conn, &LiveReadBack());
  model::ResizeHugepagePool grow;
  grow.node = 0;
  grow.page_bytes = 2ULL << 20;
  grow.from_pages = nr0;
  grow.to_pages = nr0 + 4;
  auto o = pool.Apply(grow);
  EXPECT_EQ(o.method, "libvirt");  // the qemu driver implements virNodeAllocPages
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.pages_obtained, nr0 + 4);
  EXPECT_EQ(read("nr_hugepages"), nr0 + 4);
  EXPECT_EQ(read("free_hugepages"), free0 + 4);
  std::cout << "virNodeAllocPages node 0: " << nr0 << " -> " << *o.pages_obtained << " pages in " << o.duration.count()
            << " ms\n";

  auto shrink = grow;
  shrink.from_pages = nr0 + 4;
  shrink.to_pages = nr0;
  auto back = pool.Apply(shrink);
  EXPECT_EQ(back.method, "libvirt");
  EXPECT_TRUE(back.ok) << back.error;
  EXPECT_EQ(read("nr_hugepages"), nr0);
}

// Cpus_allowed_list of QEMU's main thread (the emulator pin) and of each vCPU thread
// ("CPU 0/TCG", "CPU 0/KVM"): what the kernel enforces, not what libvirt remembers.
std::vector<std::string> QemuAffinity(int pid) {
  std::vector<std::string> out;
  const std::string proc = "/proc/" + std::to_string(pid);
  for (const auto& tid : procfs::ListDir(proc + "/task").value_or(std::vector<std::string>{})) {
    const std::string comm = procfs::ReadSmallFile(proc + "/task/" + tid + "/comm").value_or("");
    if (tid != std::to_string(pid) && comm.rfind("CPU ", 0) != 0) continue;
    const std::string status = procfs::ReadSmallFile(proc + "/task/" + tid + "/status").value_or("");
    const size_t at = status.find("Cpus_allowed_list:");
    if (at == std::string::npos) continue;
    const size_t from = status.find_first_not_of(" \t", at + 18);
    out.push_back(status.substr(from, status.find('\n', from) - from));
  }
  return out;
}

TEST(ActuateGuest, PinsLiveVcpusAndEmulatorAndMeasuresLocality) {
  KVMEM_NEED_GUEST();
  ASSERT_GE(numa_available(), 0);
  hostwrite::LibvirtWriter conn(Env("KVMEM_TEST_URI"));
  const model::VmRef vm = GuestVm(conn);
  const int pid = std::stoi(Env("KVMEM_TEST_QEMU_PID"));
  const int host_cpus = virNodeGetCPUMap(hostwrite::ConnectionOf(conn).value(), nullptr, nullptr, 0);
  const int maplen = (host_cpus + 7) / 8;
  virt::DomainPtr d(virDomainLookupByUUIDString(hostwrite::ConnectionOf(conn).value(), vm.uuid.c_str()));
  const int vcpus = virDomainGetVcpusFlags(d.get(), VIR_DOMAIN_AFFECT_LIVE);
  ASSERT_GE(vcpus, 1);
  // The pin maps read back (every vCPU, then the emulator) equal `cpus`.
  auto expect_pinned = [&](const std::vector<int>& cpus) {
    std::vector<unsigned char> want(static_cast<size_t>(maplen), 0);
    for (int cpu : cpus) want[static_cast<size_t>(cpu / 8)] |= static_cast<unsigned char>(1u << (cpu % 8));
    std::vector<unsigned char> maps(static_cast<size_t>(vcpus * maplen));
    ASSERT_EQ(virDomainGetVcpuPinInfo(d.get(), vcpus, maps.data(), maplen, VIR_DOMAIN_AFFECT_LIVE), vcpus);
    for (int v = 0; v < vcpus; ++v) {
      EXPECT_EQ(std::vector<unsigned char>(maps.begin() + v * maplen, maps.begin() + (v + 1) * maplen), want)
          << "vcpu " << v;
    }
    std::vector<unsigned char> emulator(static_cast<size_t>(maplen));
    ASSERT_EQ(virDomainGetEmulatorPinInfo(d.get(), emulator.data(), maplen, VIR_DOMAIN_AFFECT_LIVE), 1);
    EXPECT_EQ(emulator, want);
    const auto affinity = QemuAffinity(pid);
    EXPECT_EQ(affinity.size(), static_cast<size_t>(vcpus) + 1);  // the main thread and each vCPU thread
    for (const auto& a : affinity) EXPECT_EQ(a, hostwrite::CpuListText(cpus));
  };
  model::PinVcpus pin;
  pin.vm = vm;
  pin.to_node = 0;

  // First onto one CPU of node 0 (a narrower map than "unpinned", so the change is visible on
  // a small host too), then onto all of node 0's CPUs as libnuma lists them.
  const std::vector<int> node0 = hostwrite::LibnumaNodeCpus(0).value();
  ASSERT_FALSE(node0.empty());
  const std::vector<int> one{node0.back()};
  actuate::PlacementActuator narrow({.read_back = &LiveReadBack(), .libvirt = &conn, .node_cpus = [&](int) {
                                       return Result<std::vector<int>>(one);
                                     }});
  auto first = narrow.Apply(pin);
  ASSERT_TRUE(first.ok) << first.error;
  expect_pinned(one);

  actuate::PlacementActuator placement({.read_back = &LiveReadBack(), .libvirt = &conn});
  auto o = placement.Apply(pin);
  ASSERT_TRUE(o.ok) << o.error;
  expect_pinned(node0);
  // The QEMU driver keeps the controller's live metadata mark in the running domain's XML.
  char* live = virDomainGetXMLDesc(d.get(), 0);
  ASSERT_NE(live, nullptr);
  auto decoded = virt::DecodeDomainXml(live);
  free(live);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->vcpupin);
  EXPECT_EQ(decoded->kvmem_pinned_node, 0);
  ASSERT_TRUE(o.locality_after.has_value()) << "the QEMU process of " << vm.uuid << " was not found";
  if (numa_max_node() == 0) {
    EXPECT_EQ(*o.locality_after, 1.0);  // one node: all memory is local
  }
  std::cout << "pinned " << vcpus << " vCPUs of " << vm.name << " to CPU " << one[0] << ", then node 0 (CPUs "
            << hostwrite::CpuListText(node0) << ") in " << o.duration.count() << " ms; locality after "
            << *o.locality_after << "\n";
}

TEST(ActuateGuest, MigratesTheQemuProcessFoundByItsUuid) {
  KVMEM_NEED_GUEST();
  ASSERT_GE(numa_available(), 0);
  hostwrite::LibvirtWriter conn(Env("KVMEM_TEST_URI"));
  model::MigrateMemory m;
  m.vm = GuestVm(conn);
  m.pid = std::stoi(Env("KVMEM_TEST_QEMU_PID"));
  m.to_node = 0;
  actuate::PlacementActuator placement({.read_back = &LiveReadBack(), .libvirt = &conn});  // checks -uuid
  auto o = placement.Apply(m);
  ASSERT_TRUE(o.ok) << o.error;
  ASSERT_TRUE(o.bytes_migrated.has_value());
  ASSERT_TRUE(o.locality_after.has_value());
  if (numa_max_node() == 0) {  // this test machine: nothing to move, everything local
    EXPECT_EQ(*o.bytes_migrated, 0u);
    EXPECT_EQ(*o.locality_after, 1.0);
  }
  std::cout << "migrate_pages on QEMU pid " << m.pid << ": moved " << *o.bytes_migrated << " B in "
            << o.duration.count() << " ms; locality after " << *o.locality_after << "\n";
}

}  // namespace
}  // namespace kvmem
