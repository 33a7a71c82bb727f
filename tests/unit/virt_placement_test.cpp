// Per-VM placement: numa_maps / numa_stat / cgroup / ksm_stat parsers on inline text, and
// PlacementReader over a temporary /proc + /sys tree (QEMU pid discovery, residency
// sources, KSM, vCPU nodes, locality).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "host/procfs/ksm_stat.h"
#include "host/procfs/numa_maps.h"
#include "host/virt/placement.h"

namespace kvmem {
namespace {

namespace fs = std::filesystem;
using procfs::NodeBytes;

TEST(NumaMaps, SumsPagesTimesTheirPageSize) {
  auto r = procfs::ParseNumaMaps(
      "7f0000000000 default anon=3 dirty=3 N0=2 N1=1 kernelpagesize_kB=4\n"
      "7f0000200000 bind:0-1 file=/dev/hugepages/libvirt/qemu/1-vm/qemu_back_mem huge dirty=3 N1=3 "
      "kernelpagesize_kB=2048\n"
      "7f0000400000 default file=/usr/bin/qemu-system-x86_64 mapped=5 mapmax=2 N0=5 kernelpagesize_kB=4\n"
      "7ffd00000000 default stack\n",  // nothing resident: no N entries, no page size
      "numa_maps");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, (NodeBytes{{0, 7 * 4096}, {1, 4096 + 3 * 2097152ULL}}));
  EXPECT_EQ(procfs::ParseNumaMaps("", "f")->size(), 0u);
}

TEST(NumaMaps, RejectsBrokenLines) {
  EXPECT_EQ(procfs::ParseNumaMaps("7f00 default N0=x kernelpagesize_kB=4\n", "f").error().message,
            "bad node count \"N0=x\"");
  auto e = procfs::ParseNumaMaps("7f00 default N0=1 kernelpagesize_kB=4\n7f01 default N0=1\n", "/proc/9/numa_maps");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().ToString(), "/proc/9/numa_maps:2: node counts without kernelpagesize_kB");
  EXPECT_FALSE(procfs::ParseNumaMaps("7f00 default N0=1 kernelpagesize_kB=0\n", "f"));
  EXPECT_FALSE(procfs::ParseNumaMaps("7f00 default N0=18446744073709551615 kernelpagesize_kB=4\n", "f"));
}

TEST(NumaStat, ParsesV1V2AndHugetlbForms) {
  auto v2 = procfs::ParseNumaStat("anon N0=4096 N1=8192\nfile N0=0 N1=4096\nkernel_stack N0=16384\n", "f");
  ASSERT_TRUE(v2);
  EXPECT_EQ(*v2->Get("anon"), (NodeBytes{{0, 4096}, {1, 8192}}));
  EXPECT_EQ(v2->Get("shmem"), nullptr);
  auto v1 = procfs::ParseNumaStat("total=12 N0=10 N1=2\nhierarchical_total=13 N0=11 N1=2\n", "f");
  ASSERT_TRUE(v1);
  EXPECT_EQ(*v1->Get("hierarchical_total"), (NodeBytes{{0, 11}, {1, 2}}));
  EXPECT_EQ(procfs::ParseNumaStat("total=1 N0=1 junk\n", "f").error().message,
            "expected N<node>=<value>, got \"junk\"");
  EXPECT_FALSE(procfs::ParseNumaStat("", "f"));
}

TEST(ProcCgroup, FindsUnifiedAndV1MemoryPaths) {
  auto c = procfs::ParseProcCgroup(
      "12:cpu,cpuacct:/a\n4:memory:/machine/qemu-1-vm.libvirt-qemu\n0::/machine.slice/x.scope/libvirt/emulator\n", "f");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->unified, "/machine.slice/x.scope/libvirt/emulator");
  EXPECT_EQ(c->memory, "/machine/qemu-1-vm.libvirt-qemu");
  EXPECT_EQ(procfs::ParseProcCgroup("4:memory,blkio:/m\n", "f")->memory, "/m");
  EXPECT_FALSE(procfs::ParseProcCgroup("garbage\n", "f"));
}

TEST(KsmStat, ParsesNumbersAndFlags) {
  auto k = procfs::ParseKsmStat(
      "ksm_rmap_items 10\nksm_zero_pages 2\nksm_merging_pages 300\n"
      "ksm_process_profit -4096\nksm_merge_any: no\nksm_mergeable: yes\nnew_thing 1\n",
      "f");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->rmap_items, 10u);
  EXPECT_EQ(k->zero_pages, 2u);
  EXPECT_EQ(k->merging_pages, 300u);
  EXPECT_EQ(k->profit_bytes, -4096);
  EXPECT_EQ(k->merge_any, false);
  EXPECT_EQ(k->mergeable, true);
  // Linux 5.x: only the rmap items.
  auto old = procfs::ParseKsmStat("ksm_rmap_items 0\n", "f");
  EXPECT_EQ(old->merging_pages, std::nullopt);
  EXPECT_EQ(procfs::ParseKsmStat("ksm_mergeable: maybe\n", "f").error().message,
            "ksm_mergeable is not yes or no: \"maybe\"");
  EXPECT_FALSE(procfs::ParseKsmStat("ksm_rmap_items\n", "f"));
  EXPECT_FALSE(procfs::ParseKsmStat("", "f"));
}

TEST(UuidFromCmdline, FindsTheUuidArgument) {
  using namespace std::string_literals;
  EXPECT_EQ(virt::UuidFromCmdline("/usr/bin/qemu-system-x86_64\0-name\0guest=vm\0-uuid\0abc-1\0-m\0512\0"s), "abc-1");
  EXPECT_EQ(virt::UuidFromCmdline("qemu\0--uuid\0x"s), "x");
  EXPECT_EQ(virt::UuidFromCmdline("qemu\0-uuid"s), "");
  EXPECT_EQ(virt::UuidFromCmdline(""), "");
}

// A throwaway /proc + /sys tree.
class Tree {
 public:
  Tree()
      : dir_(fs::temp_directory_path() /
             ("kvmem-placement-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::remove_all(dir_);
    Write("sys/devices/system/node/node0/cpulist", "0-1\n");
    Write("sys/devices/system/node/node2/cpulist", "2-3\n");
    fs::create_directories(dir_ / "proc");
  }
  ~Tree() { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  void Qemu(int pid, const std::string& uuid) const {
    using namespace std::string_literals;
    Write("proc/" + std::to_string(pid) + "/cmdline",
          "/usr/bin/qemu-system-x86_64\0-name\0guest=x\0-uuid\0"s + uuid + "\0-m\0"s + "64"s);
  }
  procfs::Root root() const { return {(dir_ / "proc").string(), (dir_ / "sys").string()}; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

TEST(PlacementReader, NumaMapsResidencyKsmAndLocality) {
  Tree t;
  t.Qemu(4242, "u-1");
  t.Write("proc/4242/numa_maps", "1000 default anon=3 N0=1 N2=3 kernelpagesize_kB=4\n");
  t.Write("proc/4242/ksm_stat", "ksm_rmap_items 5\nksm_merging_pages 7\nksm_process_profit 8192\n");
  t.Write("proc/4242/smaps_rollup",
          "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss: 16384 kB\nAnonHugePages: 4096 kB\n");
  t.Write("proc/1/cmdline", std::string("/sbin/init\0", 11));
  virt::PlacementReader r(t.root());
  r.BeginRound();
  virt::Placement p = r.Read("u-1", {3, 3, 0, 99 /* offline or unknown CPU */});
  EXPECT_EQ(p.qemu_pid, 4242);
  EXPECT_EQ(p.residency_source, "numa_maps");
  EXPECT_EQ(p.resident_bytes, (NodeBytes{{0, 4096}, {2, 3 * 4096}}));
  EXPECT_EQ(p.vcpus_per_node, (std::map<int, uint64_t>{{0, 1}, {2, 2}}));
  EXPECT_EQ(p.ksm_merging_pages, 7u);
  EXPECT_EQ(p.ksm_profit_bytes, 8192);
  EXPECT_EQ(p.thp_anon_bytes, 4096u << 10);
  EXPECT_DOUBLE_EQ(*p.LocalityRatio(), 1.0);
  p = r.Read("u-1", {0});  // vCPUs on node 0 only: a quarter of the memory is local
  EXPECT_DOUBLE_EQ(*p.LocalityRatio(), 0.25);
  EXPECT_EQ(r.Read("u-1", {}).LocalityRatio(), std::nullopt);
}

TEST(PlacementReader, ScansProcOncePerRoundAndRevalidatesPids) {
  Tree t;
  t.Qemu(10, "u-a");
  virt::PlacementReader r(t.root());
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid("u-a"), 10);
  EXPECT_EQ(r.FindQemuPid("u-missing-1"), std::nullopt);
  EXPECT_EQ(r.FindQemuPid("u-missing-2"), std::nullopt);
  EXPECT_EQ(r.proc_scans(), 1u);  // one scan served all three
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid("u-a"), 10);                    // cached, validated by its cmdline
  EXPECT_EQ(r.FindQemuPid("u-missing-1"), std::nullopt);  // known miss: no rescan for 30 s
  EXPECT_EQ(r.proc_scans(), 1u);
  // The VM restarts under another pid: the stale pid fails validation and one scan finds it.
  fs::remove_all(fs::path(t.root().proc) / "10");
  t.Qemu(11, "u-a");
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid("u-a"), 11);
  EXPECT_EQ(r.proc_scans(), 2u);
}

TEST(PlacementReader, PrefersTheVmsOwnV2CgroupWithHugetlb) {
  Tree t;
  t.Qemu(77, "u-cg");
  t.Write("proc/77/numa_maps", "1000 default N0=1 kernelpagesize_kB=4\n");
  t.Write("proc/77/cgroup", "0::/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt/emulator\n");
  const std::string scope = "sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt";
  t.Write(scope + "/emulator/cgroup.type", "threaded\n");
  t.Write(scope + "/cgroup.type", "domain threaded\n");
  t.Write(scope + "/cgroup.procs", "77\n");
  t.Write(scope + "/memory.numa_stat", "anon N0=1000 N2=2000\nfile N0=10 N2=0\nkernel_stack N0=5 N2=5\n");
  t.Write(scope + "/hugetlb.2MB.numa_stat", "total=4194304 N0=0 N2=4194304\n");
  virt::PlacementReader r(t.root());
  r.BeginRound();
  auto res = r.Residency(77);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->second, "cgroup");
  EXPECT_EQ(res->first, (NodeBytes{{0, 1010}, {2, 2000 + 4194304}}));
  // Another process shares the cgroup: its numa_stat is not the VM's alone.
  t.Write(scope + "/cgroup.procs", "77\n78\n");
  res = r.Residency(77);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->second, "numa_maps");
  EXPECT_EQ(res->first, (NodeBytes{{0, 4096}}));
}

TEST(PlacementReader, UsesAnExclusiveV1MemoryCgroupInPages) {
  Tree t;
  t.Write("proc/5/cgroup", "3:memory:/machine/qemu-1-vm.libvirt-qemu\n0::/\n");
  const std::string dir = "sys/fs/cgroup/memory/machine/qemu-1-vm.libvirt-qemu";
  t.Write(dir + "/cgroup.procs", "5\n");
  t.Write(dir + "/memory.numa_stat", "total=3 N0=1 N2=2\nhierarchical_total=5 N0=1 N2=4\n");
  virt::PlacementReader r(t.root());
  auto res = r.Residency(5);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->second, "cgroup");
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_EQ(res->first, (NodeBytes{{0, page}, {2, 4 * page}}));
  EXPECT_EQ(r.Residency(6), std::nullopt);  // no such process
}

// A child whose command line carries "-uuid UUID", like QEMU's. The shell blocks in its `read`
// builtin on a pipe nobody writes to, so it never forks: a forked shell would carry the same
// command line until its exec, and a scan could find that child instead. Killed by the caller.
pid_t SpawnWithUuid(const std::string& uuid) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[0], 0);
    ::execl("/bin/sh", "/bin/sh", "-c", "read x", "-uuid", uuid.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  // The write end stays open for the test's life, so the read blocks until the child is killed.
  static std::vector<int> writers;
  writers.push_back(fds[1]);
  return pid;
}

// Waits (up to 30 s: ASan on a loaded machine) until exec has put `uuid` in pid's cmdline.
void WaitForCmdline(pid_t pid, const std::string& uuid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(uuid) != std::string::npos) return;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "pid " << pid << " never showed " << uuid;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

size_t OpenFds() {
  return static_cast<size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator()));
}

TEST(PlacementReader, RealProcFollowsARestartAndPinsNoDescriptors) {
  const std::string uuid = "kvmem-test-" + std::to_string(::getpid());
  pid_t first = SpawnWithUuid(uuid);
  ASSERT_GT(first, 0);
  WaitForCmdline(first, uuid);
  virt::PlacementReader r(procfs::Root{});
  // A first scan may keep descriptors of sysfs files (node CPU lists) open for good; after
  // it, another scan of every process must not add any.
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid(uuid), first);
  size_t fds = OpenFds();
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid(uuid), first);
  EXPECT_EQ(OpenFds(), fds);  // a /proc scan must not keep one descriptor per process
  ::kill(first, SIGKILL);
  ::waitpid(first, nullptr, 0);
  pid_t second = SpawnWithUuid(uuid);
  WaitForCmdline(second, uuid);
  r.BeginRound();
  EXPECT_EQ(r.FindQemuPid(uuid), second);
  ::kill(second, SIGKILL);
  ::waitpid(second, nullptr, 0);
}

}  // namespace
}  // namespace kvmem
