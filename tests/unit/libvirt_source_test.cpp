// LibvirtSource against real libvirt code: the test driver with kvmem's own host file and
// test:///default (free pages), a fake QEMU process in a temporary /proc, a UNIX socket
// that accepts and never answers (the hang), and a socket that is not there (no libvirt).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "host/virt/source.h"

namespace kvmem::virt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kHostXml = "test://" + std::string(KVMEM_FIXTURES) + "/libvirt/host.xml";
constexpr uint64_t MiB = 1ULL << 20, GiB = 1ULL << 30;

class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("kvmem-libvirt-" + std::to_string(::getpid()) + "-" + std::to_string(n_++))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }
  // Two host nodes: CPUs 0-7 and 8-15 (the test driver puts every vCPU on CPU 15).
  procfs::Root HostRoot() const {
    Write("sys/devices/system/node/node0/cpulist", "0-7\n");
    Write("sys/devices/system/node/node1/cpulist", "8-15\n");
    fs::create_directories(path_ / "proc");
    return {*this / "proc", *this / "sys"};
  }

 private:
  static inline int n_ = 0;
  fs::path path_;
};

SourceOptions Options(const std::string& uri, const procfs::Root& root) {
  SourceOptions o;
  o.uri = uri;
  o.root = root;
  o.placement_interval = 0ms;
  return o;
}

const DomainSample* Find(const Snapshot& s, const std::string& name) {
  for (const auto& d : s.domains) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

TEST(LibvirtSource, FixtureHostGivesExactValues) {
  TempDir dir;
  LibvirtSource source(Options(kHostXml, dir.HostRoot()));
  Snapshot s = source.Get(5s);
  ASSERT_TRUE(s.up);
  EXPECT_EQ(s.timeouts, 0u);
  EXPECT_EQ(s.connection_errors, 0u);
  std::vector<std::string> names;
  for (const auto& d : s.domains) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"huge-strict", "plain", "preferred-noballoon",
                                             "vm \"quoted\" \\ back é 日本", "vmem"}));
  EXPECT_TRUE(s.free_pages.empty());  // a node file has no host cells

  const DomainSample* plain = Find(s, "plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->uuid, "a0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(plain->balloon_current_bytes, 768 * MiB);
  EXPECT_EQ(plain->balloon_maximum_bytes, 1024 * MiB);
  // The test driver derives guest stats from currentMemory.
  EXPECT_EQ(plain->stats.actual_bytes, 768 * MiB);
  EXPECT_EQ(plain->stats.available_bytes, 768 * MiB);
  EXPECT_EQ(plain->stats.usable_bytes, 384 * MiB);
  EXPECT_EQ(plain->stats.unused_bytes, 384 * MiB);
  EXPECT_EQ(plain->stats.disk_caches_bytes, 96 * MiB);
  EXPECT_EQ(plain->stats.rss_bytes, 384 * MiB);
  EXPECT_EQ(plain->stats.swap_in_bytes, 0u);
  EXPECT_EQ(plain->stats.major_faults, 0u);
  EXPECT_EQ(plain->stats.last_update, 627319920);
  EXPECT_EQ(plain->xml.balloon_stats_period.value_or(0), 0u);  // the test driver drops period='0'
  EXPECT_STREQ(GuestStatsState(*plain, s.as_of), "disabled");
  EXPECT_EQ(plain->sampled_at, s.as_of);
  EXPECT_EQ(plain->placement.vcpus_per_node, (std::map<int, uint64_t>{{1, 1}}));
  EXPECT_EQ(plain->placement.qemu_pid, std::nullopt);  // the test driver runs no process

  const DomainSample* huge = Find(s, "huge-strict");
  ASSERT_NE(huge, nullptr);
  EXPECT_TRUE(huge->xml.hugepages);
  EXPECT_EQ(huge->xml.hugepage_sizes_bytes, std::vector<uint64_t>{GiB});
  EXPECT_EQ(huge->xml.numatune_mode, "strict");
  EXPECT_EQ(huge->xml.numatune_nodeset, "0-1");
  EXPECT_EQ(huge->xml.vcpu_cpuset, "8-15");
  EXPECT_EQ(huge->xml.min_guarantee_bytes, 2 * GiB);
  EXPECT_TRUE(huge->xml.autodeflate);
  EXPECT_FALSE(huge->xml.free_page_reporting);
  EXPECT_EQ(huge->placement.vcpus_per_node, (std::map<int, uint64_t>{{1, 4}}));
  EXPECT_STREQ(GuestStatsState(*huge, s.as_of), "stale");  // last_update is from 1989

  const DomainSample* pref = Find(s, "preferred-noballoon");
  ASSERT_NE(pref, nullptr);
  EXPECT_TRUE(pref->xml.hugepages);
  EXPECT_TRUE(pref->xml.hugepage_sizes_bytes.empty());
  EXPECT_EQ(pref->xml.numatune_mode, "preferred");
  EXPECT_EQ(pref->xml.numatune_nodeset, "1");
  EXPECT_EQ(pref->xml.balloon_model, "");
  EXPECT_STREQ(GuestStatsState(*pref, s.as_of), "missing");

  const DomainSample* vmem = Find(s, "vmem");
  ASSERT_NE(vmem, nullptr);
  EXPECT_TRUE(vmem->xml.free_page_reporting);
  EXPECT_EQ(vmem->xml.max_memory_bytes, 16 * GiB);
  EXPECT_EQ(vmem->xml.max_memory_slots, 8u);
  ASSERT_EQ(vmem->xml.virtio_mem.size(), 1u);
  EXPECT_EQ(vmem->xml.virtio_mem[0], (VirtioMem{"virtio-mem0", 0, 4 * GiB, 2 * MiB, 1 * GiB, 0}));

  const DomainSample* quoted = Find(s, "vm \"quoted\" \\ back é 日本");
  ASSERT_NE(quoted, nullptr);
  EXPECT_EQ(quoted->balloon_current_bytes, 256 * MiB);
}

TEST(LibvirtSource, ReReadsDomainXmlOnlyWhenNeeded) {
  TempDir dir;
  LibvirtSource source(Options(kHostXml, dir.HostRoot()));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(source.Get(5s).up);
  auto st = source.stats();
  EXPECT_GE(st.refreshes, 5u);
  EXPECT_EQ(st.xml_fetches, 5u);  // once per domain, not once per refresh
  EXPECT_EQ(st.connects, 1u);     // one persistent connection
  EXPECT_EQ(st.proc_scans, 1u);   // unresolved uuids do not rescan /proc every refresh
}

TEST(LibvirtSource, PlacementWorkIsSpreadOverRefreshesWithinItsBudget) {
  TempDir dir;
  SourceOptions o = Options(kHostXml, dir.HostRoot());
  o.placement_interval = std::chrono::hours(1);
  o.placement_budget = 0ms;  // one domain per refresh, never-read ones first
  LibvirtSource source(o);
  auto placed = [](const Snapshot& s) {
    return std::count_if(s.domains.begin(), s.domains.end(),
                         [](const DomainSample& d) { return !d.placement.vcpus_per_node.empty(); });
  };
  // The constructor's background refresh may or may not have run before the first Get.
  auto first = placed(source.Get(5s));
  EXPECT_TRUE(first == 1 || first == 2) << first;
  for (int i = 0; i < 5; ++i) source.Get(5s);
  EXPECT_EQ(placed(source.Get(5s)), 5);
}

TEST(LibvirtSource, DefaultHostFreePagesAndAFakeQemuProcess) {
  TempDir dir;
  procfs::Root root = dir.HostRoot();
  const std::string uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // test:///default's "test"
  using namespace std::string_literals;
  dir.Write("proc/31337/cmdline", "/usr/bin/qemu-system-x86_64\0-uuid\0"s + uuid + "\0-m\0"s + "64"s);
  dir.Write("proc/31337/numa_maps", "7f00 default anon=1024 N0=256 N1=768 kernelpagesize_kB=4\n");
  dir.Write("proc/31337/ksm_stat", "ksm_rmap_items 9\nksm_merging_pages 12\nksm_process_profit 40960\n");
  LibvirtSource source(Options("test:///default", root));
  Snapshot s = source.Get(5s);
  ASSERT_TRUE(s.up);
  // The test driver's made-up counts for the host's sizes {4, 8, 2048, 1048576} KiB over
  // both cells, filtered to the sizes each cell lists (cell 1 has 8 KiB pages, not 4).
  std::vector<NodeFreePages> want = {{0, 4096, 19},  {0, 2 * MiB, 97},   {0, GiB, 201},
                                     {1, 8192, 825}, {1, 2 * MiB, 1657}, {1, GiB, 3321}};
  EXPECT_EQ(s.free_pages, want);
  ASSERT_EQ(s.domains.size(), 1u);
  const Placement& p = s.domains[0].placement;
  EXPECT_EQ(p.qemu_pid, 31337);
  EXPECT_EQ(p.residency_source, "numa_maps");
  EXPECT_EQ(p.resident_bytes, (std::map<int, uint64_t>{{0, 1 * MiB}, {1, 3 * MiB}}));
  EXPECT_EQ(p.vcpus_per_node, (std::map<int, uint64_t>{{1, 2}}));
  EXPECT_DOUBLE_EQ(p.LocalityRatio().value_or(-1), 0.75);
  EXPECT_EQ(p.ksm_merging_pages, 12u);
  EXPECT_EQ(p.ksm_profit_bytes, 40960);
}

// Listens on a UNIX socket, accepts every connection and never answers.
class SilentServer {
 public:
  explicit SilentServer(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ::unlink(path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
      ADD_FAILURE() << "cannot listen on " << path_;
    }
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        accepted_.fetch_add(1);
        std::lock_guard lock(mu_);
        clients_.push_back(c);
      }
    });
  }
  ~SilentServer() { Close(); }
  // Closing every socket makes a hung client call fail at once.
  void Close() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
    thread_.join();
    for (int c : clients_) ::close(c);
    ::unlink(path_.c_str());
  }
  int accepted() const { return accepted_.load(); }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> clients_;
  std::atomic<int> accepted_{0};
};

TEST(LibvirtSource, HungDaemonNeverHoldsAScrapePastItsBudget) {
  TempDir dir;
  SilentServer server(dir / "hang.sock");
  LibvirtSource source(Options("qemu:///system?socket=" + (dir / "hang.sock"), dir.HostRoot()));
  for (int i = 1; i <= 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    Snapshot s = source.Get(200ms);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, 700ms);
    EXPECT_GE(took, 190ms);
    EXPECT_FALSE(s.up);
    EXPECT_EQ(s.timeouts, static_cast<uint64_t>(i));
    EXPECT_TRUE(s.domains.empty());
  }
  EXPECT_EQ(server.accepted(), 1);  // one refresh in flight, one connection: no pile-up
  server.Close();                   // the stuck open now fails; the worker goes on
  Snapshot s = source.Get(2s);
  EXPECT_FALSE(s.up);
  EXPECT_GE(s.connection_errors, 1u);
}

TEST(LibvirtSource, NoLibvirtIsDownQuicklyAndBacksOff) {
  TempDir dir;
  SourceOptions o = Options("qemu:///system?socket=" + (dir / "absent.sock"), dir.HostRoot());
  o.backoff_initial = 300ms;
  LibvirtSource source(o);
  auto start = std::chrono::steady_clock::now();
  Snapshot s = source.Get(2s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(s.up);
  EXPECT_EQ(s.timeouts, 0u);
  EXPECT_EQ(s.connection_errors, 1u);
  s = source.Get(2s);  // inside the back-off: no new attempt, still an instant answer
  EXPECT_EQ(s.connection_errors, 1u);
  std::this_thread::sleep_for(350ms);
  s = source.Get(2s);  // after 300 ms: one more attempt; the next wait doubles
  EXPECT_EQ(s.connection_errors, 2u);
  std::this_thread::sleep_for(350ms);
  s = source.Get(2s);
  EXPECT_EQ(s.connection_errors, 2u);
  EXPECT_EQ(source.stats().connects, 0u);
}

}  // namespace
}  // namespace kvmem::virt
