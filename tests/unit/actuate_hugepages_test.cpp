// The hugepage pool actuator: the read-back comparison (a table), writes into a copy of a
// fixture node tree, the fallback from libvirt's test driver (no virNodeAllocPages) to sysfs,
// and, as root, a real 4-page change of this host's node 0 pool, put back exactly.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/metrics/text_format.h"
#include "controller/actuate/hugepages.h"
#include "controller/loop/pool_metrics.h"
#include "controller/observe/read_back.h"
#include "host/procfs/read.h"
#include "host/write/libvirt_writer.h"
#include "tests/support/live_host.h"

namespace kvmem {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t k2M = 2ULL << 20, k1G = 1ULL << 30;

model::ResizeHugepagePool Resize(int node, uint64_t page_bytes, uint64_t from, uint64_t to) {
  model::ResizeHugepagePool a;
  a.node = node;
  a.page_bytes = page_bytes;
  a.from_pages = from;
  a.to_pages = to;
  return a;
}

TEST(HugepagePoolActuator, PoolFileIsTheNodesNrHugepages) {
  procfs::Root root{"/p", "/s"};
  EXPECT_EQ(root.NodeHugepages(1, k2M, "nr_hugepages"),
            "/s/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
  EXPECT_EQ(root.NodeHugepages(0, k1G, "nr_hugepages"),
            "/s/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages");
}

TEST(HugepagePoolActuator, ShortfallTable) {
  struct Row {
    int node;
    uint64_t page_bytes, from, to, obtained;
    std::string error;
  };
  const std::vector<Row> rows = {
      {0, k2M, 0, 64, 64, ""},
      {0, k2M, 0, 64, 40, "obtained 40 of 64 pages of 2 MiB on node 0 (short by 24)"},
      {0, k2M, 0, 64, 0, "obtained 0 of 64 pages of 2 MiB on node 0 (short by 64)"},
      {0, k2M, 0, 64, 70, ""},  // surplus pages count towards a grow
      {3, k1G, 2, 4, 3, "obtained 3 of 4 pages of 1 GiB on node 3 (short by 1)"},
      {1, k2M, 48, 16, 16, ""},
      {1, k2M, 48, 16, 30, "pool of 2 MiB pages on node 1 is 30, asked 16 (14 above: pages in use stay until freed)"},
      {1, k2M, 48, 16, 10, ""},  // below the target: more than asked was released
      {1, k2M, 48, 0, 1, "pool of 2 MiB pages on node 1 is 1, asked 0 (1 above: pages in use stay until freed)"},
      {0, k2M, 8, 8, 8, ""},
      {0, k2M, 8, 8, 7, "obtained 7 of 8 pages of 2 MiB on node 0 (short by 1)"},
      {0, k2M, 8, 8, 9, "pool of 2 MiB pages on node 0 is 9, asked 8 (1 above: pages in use stay until freed)"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(actuate::PoolShortfall(Resize(r.node, r.page_bytes, r.from, r.to), r.obtained), r.error)
        << "node " << r.node << " " << r.from << " -> " << r.to << ", obtained " << r.obtained;
  }
}

// A temporary sysfs holding a copy of the two-node fixture's node directories.
struct FixtureSys {
  fs::path dir;
  FixtureSys() {
    dir = fs::temp_directory_path() / ("kvmem-hugepages-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "devices/system");
    fs::copy(std::string(KVMEM_FIXTURES) + "/hosts/two-node/sys/devices/system/node", dir / "devices/system/node",
             fs::copy_options::recursive);
  }
  ~FixtureSys() { fs::remove_all(dir); }
  procfs::Root root() const { return {"/nonexistent-proc", dir.string()}; }
  std::string Pool(int node, const char* size) const {
    return (dir /
            ("devices/system/node/node" + std::to_string(node) + "/hugepages/hugepages-" + size + "/nr_hugepages"))
        .string();
  }
};

TEST(HugepagePoolActuator, WritesTheNodesFileAndReadsItBack) {
  FixtureSys sys;
  observe::HostReadBack read_back(sys.root());
  actuate::HugepagePoolActuator pool(sys.root(), nullptr, &read_back);
  ASSERT_EQ(procfs::ReadSmallFile(sys.Pool(1, "2048kB")).value(), "2048\n");
  auto grown = pool.Apply(Resize(1, k2M, 2048, 3000));
  EXPECT_TRUE(grown.ok) << grown.error;
  EXPECT_EQ(grown.error, "");
  EXPECT_EQ(procfs::ReadSmallFile(sys.Pool(1, "2048kB")).value(), "3000\n");
  EXPECT_EQ(grown.pages_obtained, 3000u);
  EXPECT_EQ(grown.method, "sysfs");
  EXPECT_FALSE(grown.locality_after.has_value());
  EXPECT_FALSE(grown.bytes_migrated.has_value());

  auto shrunk = pool.Apply(Resize(1, k2M, 3000, 16));  // the file is truncated, not overwritten in place
  EXPECT_TRUE(shrunk.ok) << shrunk.error;
  EXPECT_EQ(procfs::ReadSmallFile(sys.Pool(1, "2048kB")).value(), "16\n");
  EXPECT_EQ(shrunk.pages_obtained, 16u);

  auto gigantic = pool.Apply(Resize(0, k1G, 8, 10));
  EXPECT_TRUE(gigantic.ok) << gigantic.error;
  EXPECT_EQ(procfs::ReadSmallFile(sys.Pool(0, "1048576kB")).value(), "10\n");
  EXPECT_EQ(procfs::ReadSmallFile(sys.Pool(0, "2048kB")).value(), "4096\n");  // the other pool is untouched
}

TEST(HugepagePoolActuator, ErrorsNameTheFileAndRefuseBadActions) {
  FixtureSys sys;
  observe::HostReadBack read_back(sys.root());
  actuate::HugepagePoolActuator pool(sys.root(), nullptr, &read_back);
  auto missing = pool.Apply(Resize(7, k2M, 0, 4));
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, sys.Pool(7, "2048kB") + ": cannot open for writing: No such file or directory");
  EXPECT_FALSE(missing.pages_obtained.has_value());

  auto odd = pool.Apply(Resize(0, 1000, 0, 4));
  EXPECT_EQ(odd.error, "hugepage pool: page size of 1000 B is not a whole number of KiB");
  EXPECT_EQ(odd.method, "");
  EXPECT_EQ(pool.Apply(Resize(-1, k2M, 0, 4)).error, "hugepage pool: node -1 is not a node id");

  model::CompactNode compact;
  compact.node = 1;
  EXPECT_EQ(pool.Apply(compact).error, "the hugepage pool actuator does not compact node 1");
}

TEST(HugepagePoolActuator, TestDriverHasNoAllocPagesSoSysfsWrites) {
  FixtureSys sys;
  hostwrite::LibvirtWriter conn("test:///default");
  observe::HostReadBack read_back(sys.root());
  actuate::HugepagePoolActuator pool(sys.root(), &conn, &read_back);
  auto o = pool.Apply(Resize(0, k2M, 4096, 4100));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.method, "sysfs");  // virNodeAllocPages: VIR_ERR_NO_SUPPORT
  EXPECT_EQ(procfs::ReadSmallFile(sys.Pool(0, "2048kB")).value(), "4100\n");

  // An unreachable daemon: sysfs writes too, and a failure names both.
  hostwrite::LibvirtWriter gone("qemu:///system?socket=/nonexistent/sock");
  actuate::HugepagePoolActuator pool2(sys.root(), &gone, &read_back);
  auto shrunk = pool2.Apply(Resize(1, k2M, 2048, 2000));
  EXPECT_TRUE(shrunk.ok) << shrunk.error;
  EXPECT_EQ(shrunk.method, "sysfs");
  auto both = pool2.Apply(Resize(9, k2M, 0, 1));
  EXPECT_EQ(both.error.find("qemu:///system?socket=/nonexistent/sock: virConnectOpen: "), 0u) << both.error;
  EXPECT_NE(both.error.find("; then " + sys.Pool(9, "2048kB") + ": cannot open for writing"), std::string::npos)
      << both.error;

  // The loop counts writes by Outcome::method.
  loop::PoolPlacementMetrics metrics;
  metrics.Record(Resize(0, k2M, 4096, 4100), o);
  metrics.Record(Resize(1, k2M, 2048, 2000), shrunk);
  metrics.Record(Resize(9, k2M, 0, 1), both);
  metrics.Record(Resize(0, 1000, 0, 4), model::Outcome{});  // refused before writing: no method
  MetricSink sink;
  metrics.Collect(sink);
  for (const auto* f : loop::PoolPlacementMetrics::Families()) EXPECT_EQ(ValidateFamily(*f), "") << f->name;
  const std::string text = SerializeText(sink.families());
  EXPECT_NE(
      text.find(
          "# HELP kvmem_controller_hugepage_pool_writes_total Hugepage pool resizes the controller wrote, by method: "
          "libvirt (virNodeAllocPages) or sysfs (nodeN/hugepages/hugepages-<kB>kB/nr_hugepages).\n"
          "# TYPE kvmem_controller_hugepage_pool_writes_total counter\n"
          "kvmem_controller_hugepage_pool_writes_total{method=\"libvirt\"} 0\n"
          "kvmem_controller_hugepage_pool_writes_total{method=\"sysfs\"} 3\n"),
      std::string::npos)
      << text;
}

// This host's node 0: 4 more 2 MiB pages than now, then exactly the old size again.
TEST(HugepagePoolActuator, RealNodeZeroGrowsByFourAndReturnsWhenRoot) {
  const std::string dir = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB";
  if (::geteuid() != 0 || !procfs::PathExists(dir)) GTEST_SKIP() << "needs root and " << dir;
  auto read = [&](const char* file) { return procfs::ReadU64File(dir + "/" + file).value(); };
  const uint64_t nr0 = read("nr_hugepages"), free0 = read("free_hugepages");
  struct Restore {  // puts the pool back even when an assertion fails
    std::string path;
    uint64_t pages;
    ~Restore() { std::ofstream(path) << pages << "\n"; }
  } restore{dir + "/nr_hugepages", nr0};

  // With 64 free blocks (16 times what is asked) nothing running beside us can take enough of
  // them to leave fewer than 4; with fewer the test cannot know what the kernel will find.
  const uint64_t blocks = live_host::FreeTwoMegabyteBlocksOnNodeZero();
  if (blocks < 64) GTEST_SKIP() << "node 0 has " << blocks << " free 2 MiB blocks, fewer than 64";

  observe::HostReadBack read_back({"/proc", "/sys"});
  actuate::HugepagePoolActuator pool({"/proc", "/sys"}, nullptr, &read_back);
  auto grown = pool.Apply(Resize(0, k2M, nr0, nr0 + 4));
  const uint64_t nr1 = read("nr_hugepages"), free1 = read("free_hugepages");
  EXPECT_TRUE(grown.ok) << grown.error;
  EXPECT_EQ(grown.error, "");
  EXPECT_EQ(grown.pages_obtained, nr0 + 4);
  EXPECT_EQ(nr1, nr0 + 4);
  EXPECT_EQ(free1, free0 + 4);
  std::cout << "node 0 2 MiB pool: nr " << nr0 << " -> " << nr1 << ", free " << free0 << " -> " << free1 << " in "
            << grown.duration.count() << " ms\n";

  auto back = pool.Apply(Resize(0, k2M, nr1, nr0));
  EXPECT_TRUE(back.ok) << back.error;
  EXPECT_EQ(back.pages_obtained, nr0);
  EXPECT_EQ(read("nr_hugepages"), nr0);
  EXPECT_EQ(read("free_hugepages"), free0);
}

}  // namespace
}  // namespace kvmem
