// VM cgroups and offload writes on real temporary trees: locating a process's memory cgroup
// (v2, hybrid, v1, threaded children, root, vanished), reading memory.stat / memory.pressure /
// memory.current / memory.swap.current (v2) and usage_in_bytes / rss / cache / swap (v1), the
// shared-cgroup rule, host swap facts (zram, zswap), and the memory.reclaim actuator.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/actuate/offload.h"
#include "controller/observe/cgroups.h"
#include "controller/observe/read_back.h"
#include "host/procfs/cgroup.h"

namespace kvmem {
namespace {

namespace fs = std::filesystem;

struct Tree {
  fs::path path;
  procfs::Root root;
  Tree() {
    path = fs::temp_directory_path() / ("kvmem-cgroup-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
    root = {(path / "proc").string(), (path / "sys").string()};
  }
  ~Tree() { fs::remove_all(path); }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
  std::string Sys(const std::string& rel) const { return root.Sys(rel); }
};

const char* kStatV2 =
    "anon 104857600\nfile 20971520\nkernel 1048576\nswapcached 0\nzswap 0\nzswapped 0\n"
    "workingset_refault_anon 300\nworkingset_refault_file 9\npswpin 7\nzswpin 5\n";
const char* kPressure =
    "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=250000\n";

// A v2 host: QEMU 100 in machine.slice/vm1.scope/libvirt/vcpu0 (threaded), its memory at libvirt.
void V2Host(const Tree& t) {
  t.Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  t.Write("proc/100/cgroup", "0::/machine.slice/vm1.scope/libvirt/vcpu0\n");
  const std::string vm = "sys/fs/cgroup/machine.slice/vm1.scope/libvirt/";
  t.Write(vm + "vcpu0/cgroup.type", "threaded\n");
  t.Write(vm + "cgroup.type", "domain threaded\n");
  t.Write(vm + "memory.stat", kStatV2);
  t.Write(vm + "memory.pressure", kPressure);
  t.Write(vm + "memory.current", "130023424\n");
  t.Write(vm + "memory.swap.current", "8192\n");
  t.Write(vm + "memory.reclaim", "");
}

TEST(CgroupLocate, V2WalksUpOutOfThreadedChildren) {
  Tree t;
  V2Host(t);
  auto where = procfs::LocateMemoryCgroup(t.root, 100);
  ASSERT_TRUE(where) << where.error().ToString();
  EXPECT_EQ(where->dir, t.Sys("fs/cgroup/machine.slice/vm1.scope/libvirt"));
  EXPECT_EQ(where->version, 2);
  EXPECT_FALSE(where->is_root);
}

TEST(CgroupLocate, HybridHostWithoutMemoryInUnifiedUsesV1) {
  Tree t;
  t.Write("sys/fs/cgroup/unified/cgroup.controllers", "\n");  // this machine's layout
  t.Write("sys/fs/cgroup/memory/machine/vm1/memory.stat", "rss 4096\n");
  t.Write("proc/7/cgroup", "12:memory:/machine/vm1\n11:cpuset:/\n0::/machine/vm1\n");
  auto where = procfs::LocateMemoryCgroup(t.root, 7);
  ASSERT_TRUE(where) << where.error().ToString();
  EXPECT_EQ(where->dir, t.Sys("fs/cgroup/memory/machine/vm1"));
  EXPECT_EQ(where->version, 1);
}

TEST(CgroupLocate, RootGoneAndMalformed) {
  Tree t;
  t.Write("sys/fs/cgroup/cgroup.controllers", "memory\n");
  t.Write("proc/1/cgroup", "0::/\n");
  t.Write("proc/2/cgroup", "garbage\n");
  auto root = procfs::LocateMemoryCgroup(t.root, 1);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_root);
  EXPECT_EQ(procfs::LocateMemoryCgroup(t.root, 3).error().kind, ErrorKind::kNotFound);  // process gone
  EXPECT_EQ(procfs::LocateMemoryCgroup(t.root, 2).error().kind, ErrorKind::kParse);
}

TEST(CgroupRead, V2AllFiles) {
  Tree t;
  V2Host(t);
  auto m = procfs::ReadCgroupMemory({t.Sys("fs/cgroup/machine.slice/vm1.scope/libvirt"), 2, false});
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->current_bytes, 130023424U);
  EXPECT_EQ(m->anon_bytes, 104857600U);
  EXPECT_EQ(m->file_bytes, 20971520U);
  EXPECT_EQ(m->swap_bytes, 8192U);
  EXPECT_EQ(m->zswap_bytes, 0U);
  EXPECT_EQ(m->RefaultPages(), 12U);  // zswpin + pswpin, not workingset_refault_anon
  ASSERT_TRUE(m->pressure && m->pressure->some && m->pressure->full);
  EXPECT_EQ(m->pressure->some->total_us, 1500000U);
  const auto cg = observe::ToVmCgroup({"/x", 2, false}, *m);
  EXPECT_DOUBLE_EQ(*cg.psi_some_seconds_total, 1.5);
  EXPECT_DOUBLE_EQ(*cg.psi_full_seconds_total, 0.25);
  EXPECT_EQ(cg.ResidentBytes(), 125829120U);
}

TEST(CgroupRead, Kernel61FallsBackToWorkingsetRefaultAnon) {
  Tree t;
  t.Write("cg/memory.stat", "anon 4096\nfile 0\nworkingset_refault_anon 42\n");
  auto m = procfs::ReadCgroupMemory({(t.path / "cg").string(), 2, false});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->RefaultPages(), 42U);
  EXPECT_FALSE(m->current_bytes);  // absent file: unset, not an error
  EXPECT_FALSE(m->pressure);
}

TEST(CgroupRead, V1KeysAndWhatV1Lacks) {
  Tree t;
  t.Write("cg/memory.stat", "cache 8192\nrss 40960\nswap 4096\npgpgin 1\n");
  t.Write("cg/memory.usage_in_bytes", "53248\n");
  auto m = procfs::ReadCgroupMemory({(t.path / "cg").string(), 1, false});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->anon_bytes, 40960U);
  EXPECT_EQ(m->file_bytes, 8192U);
  EXPECT_EQ(m->swap_bytes, 4096U);
  EXPECT_EQ(m->current_bytes, 53248U);
  EXPECT_FALSE(m->pressure);
  EXPECT_FALSE(m->zswap_bytes);
  EXPECT_FALSE(m->RefaultPages());
}

TEST(CgroupRead, VanishedAndMalformed) {
  Tree t;
  EXPECT_EQ(procfs::ReadCgroupMemory({(t.path / "gone").string(), 2, false}).error().kind, ErrorKind::kNotFound);
  t.Write("cg/memory.stat", "anon 1 2\n");
  auto bad = procfs::ReadCgroupMemory({(t.path / "cg").string(), 2, false});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kParse);
  EXPECT_EQ(bad.error().file, (t.path / "cg/memory.stat").string());
  EXPECT_EQ(bad.error().line, 1);
}

TEST(CgroupObserve, OwnSharedAndGone) {
  Tree t;
  V2Host(t);
  t.Write("proc/200/cgroup", "0::/system.slice/libvirtd.service\n");
  t.Write("proc/201/cgroup", "0::/system.slice/libvirtd.service\n");
  t.Write("sys/fs/cgroup/system.slice/libvirtd.service/memory.stat", kStatV2);
  std::vector<model::VmObservation> vms(4);
  vms[0].uuid = "a", vms[0].qemu_pid = 100;
  vms[1].uuid = "b", vms[1].qemu_pid = 200;
  vms[2].uuid = "c", vms[2].qemu_pid = 201;
  vms[3].uuid = "d", vms[3].qemu_pid = 999;  // exited
  observe::CgroupObserver(t.root).Fill(vms);
  ASSERT_TRUE(vms[0].cgroup);
  EXPECT_EQ(vms[0].cgroup->path, t.Sys("fs/cgroup/machine.slice/vm1.scope/libvirt"));
  EXPECT_FALSE(vms[1].cgroup);
  EXPECT_FALSE(vms[2].cgroup);
  EXPECT_FALSE(vms[3].cgroup);
  EXPECT_EQ(observe::NotOwnCgroup({"/d", 2, false}, 2),
            "the cgroup is shared by 2 VMs' QEMU processes (libvirt's cgroup_controllers=[]?)");
  EXPECT_EQ(observe::NotOwnCgroup({"/d", 2, true}, 1), "the QEMU process is in the root cgroup");
}

TEST(CgroupObserve, SwapZramAndZswap) {
  Tree t;
  t.Write("proc/meminfo", "MemTotal: 1000 kB\nSwapTotal: 262140 kB\nSwapFree: 262000 kB\n");
  t.Write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/zram0 partition\t262140\t140\t100\n");
  auto s = observe::ObserveSwap(t.root);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->total_bytes, 262140U * 1024);
  EXPECT_EQ(s->free_bytes, 262000U * 1024);
  EXPECT_TRUE(s->zram_only);
  EXPECT_FALSE(s->zswap_enabled);
  EXPECT_TRUE(s->Compressed());
  t.Write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file\t262140\t0\t-2\n");
  t.Write("sys/module/zswap/parameters/enabled", "Y\n");
  s = observe::ObserveSwap(t.root);
  EXPECT_FALSE(s->zram_only);
  EXPECT_TRUE(s->zswap_enabled);
  EXPECT_TRUE(s->Compressed());
}

model::ReclaimVmMemory Reclaim(const std::string& dir, uint64_t bytes) {
  model::ReclaimVmMemory a;
  a.vm = {"uuid-web", "web"};
  a.cgroup = dir;
  a.bytes = bytes;
  return a;
}

TEST(OffloadActuator, WritesTheByteCountToMemoryReclaim) {
  Tree t;
  V2Host(t);
  const std::string dir = t.Sys("fs/cgroup/machine.slice/vm1.scope/libvirt");
  observe::HostReadBack read_back(t.root);
  actuate::OffloadActuator act(&read_back);
  const auto out = act.Apply(Reclaim(dir, 10735616));
  EXPECT_TRUE(out.ok) << out.error;
  std::ifstream in(dir + "/memory.reclaim");
  std::string written((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(written, "10735616");
  EXPECT_EQ(out.bytes_reclaimed, 0U);  // a plain file: memory.current did not move
}

TEST(OffloadActuator, Refusals) {
  Tree t;
  V2Host(t);
  t.Write("v1/memory.usage_in_bytes", "4096\n");
  t.Write("old/memory.current", "4096\n");
  actuate::OffloadActuator act(nullptr);
  const std::string gone = (t.path / "gone").string();
  EXPECT_EQ(act.Refusal(Reclaim(gone, 4096)), "cgroup " + gone + " is gone (VM stopped?)");
  const auto out = act.Apply(Reclaim(gone, 4096));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "cgroup " + gone + " is gone (VM stopped?)");
  EXPECT_EQ(act.Refusal(Reclaim((t.path / "v1").string(), 4096)),
            "cgroup v1 has no memory.reclaim: " + (t.path / "v1").string());
  EXPECT_EQ(act.Refusal(Reclaim((t.path / "old").string(), 4096)),
            (t.path / "old").string() + "/memory.reclaim missing (kernel before 5.19, or no memory controller there)");
  EXPECT_EQ(act.Refusal(Reclaim("relative", 4096)), "cgroup path not absolute: 'relative'");
  EXPECT_EQ(act.Refusal(Reclaim(t.Sys("fs/cgroup/machine.slice/vm1.scope/libvirt"), 0)), "reclaim of 0 bytes");
  EXPECT_EQ(act.Refusal(model::CompactNode{}), "the offload actuator only writes memory.reclaim");
}

}  // namespace
}  // namespace kvmem
