// Parser edge cases on inline text: short lines, unknown keys, wrong units, overflow, empty.
#include <gtest/gtest.h>

#include "host/procfs/buddyinfo.h"
#include "host/procfs/keyvalue.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/psi.h"
#include "host/procfs/swap.h"

namespace kvmem::procfs {
namespace {

TEST(Meminfo, ParsesGlobalAndNodeFormsIntoBytes) {
  auto g = ParseMeminfo("MemTotal:       1000 kB\nHugePages_Total:   4\nActive(file):  2 kB\n", "m").value();
  EXPECT_EQ(g.Get("MemTotal"), 1024000u);
  EXPECT_EQ(g.Get("HugePages_Total"), 4u);
  EXPECT_EQ(g.Get("Active(file)"), 2048u);
  EXPECT_EQ(g.Get("Nope"), std::nullopt);
  auto n = ParseMeminfo("Node 3 MemFree:   5 kB\n", "m").value();
  EXPECT_EQ(n.Get("MemFree"), 5120u);
}

TEST(Meminfo, RejectsBrokenLinesWithFileAndLine) {
  auto truncated = ParseMeminfo("MemTotal: 1 kB\nMemFree:     \n", "/proc/meminfo");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().line, 2);
  EXPECT_EQ(truncated.error().file, "/proc/meminfo");
  EXPECT_EQ(truncated.error().message, "expected \"MemFree: NUMBER [kB]\"");
  EXPECT_EQ(ParseMeminfo("MemTotal: 1 MB\n", "m").error().message, "unknown unit \"MB\" for MemTotal; expected kB");
  EXPECT_EQ(ParseMeminfo("garbage\n", "m").error().message, "no ':' in line \"garbage\"");
  EXPECT_EQ(ParseMeminfo("", "m").error().message, "empty file");
  EXPECT_EQ(ParseMeminfo("X: 18014398509481984 kB\n", "m").error().message, "value of X overflows");
}

TEST(KeyValues, ParsesSignedValuesAndRejectsJunk) {
  auto kv = ParseKeyValues("numa_hit 10\nnr_x -3\n", "f").value();
  EXPECT_EQ(kv.Get("numa_hit"), 10);
  EXPECT_EQ(kv.Get("nr_x"), -3);
  auto bad = ParseKeyValues("numa_hit abc\n", "/sys/n/numastat");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString(), "/sys/n/numastat:1: value of numa_hit is not a number: \"abc\"");
  EXPECT_EQ(ParseKeyValues("a 1 2\n", "f").error().message, "expected \"name value\", got \"a 1 2\"");
  EXPECT_FALSE(ParseKeyValues("\n", "f"));
}

TEST(Buddyinfo, ParsesZonesAndRejectsRaggedRows) {
  auto z = ParseBuddyinfo("Node 0, zone      DMA      0      1\nNode 1, zone   Normal      5      2\n", "b").value();
  ASSERT_EQ(z.size(), 2u);
  EXPECT_EQ(z[1].node, 1);
  EXPECT_EQ(z[1].zone, "Normal");
  EXPECT_EQ(z[1].free_blocks, (std::vector<uint64_t>{5, 2}));
  EXPECT_EQ(ParseBuddyinfo("Node 0, zone DMA 1 2\nNode 0, zone Normal 1\n", "b").error().message,
            "line has 1 orders, earlier lines have 2");
  EXPECT_FALSE(ParseBuddyinfo("", "b"));
  EXPECT_FALSE(ParseBuddyinfo("Node x, zone DMA 1\n", "b"));
}

// Hand-computed with the kernel's integer arithmetic (mm/vmstat.c).
TEST(Fragmentation, MatchesKernelFormulas) {
  // 100 order-0 blocks, 10 order-3 blocks, nothing at order >= 9: 180 free pages, 110 blocks.
  std::vector<uint64_t> frag(11, 0);
  frag[0] = 100;
  frag[3] = 10;
  auto info = ComputeContigInfo(frag, 9);
  EXPECT_EQ(info.free_pages, 180u);
  EXPECT_EQ(info.free_blocks_total, 110u);
  EXPECT_EQ(info.free_blocks_suitable, 0u);
  EXPECT_DOUBLE_EQ(UnusableIndex(info, 9), 1.0);
  // 1000 - (1000 + 180*1000/512) / 110 = 1000 - (1000 + 351) / 110 = 1000 - 12 = 988
  EXPECT_DOUBLE_EQ(FragmentationIndex(info, 9), 0.988);

  // Two order-10 blocks (4 order-9 equivalents = 2048 pages) beside 1024 order-0 pages.
  std::vector<uint64_t> ok(11, 0);
  ok[0] = 1024;
  ok[10] = 2;
  auto info2 = ComputeContigInfo(ok, 9);
  EXPECT_EQ(info2.free_blocks_suitable, 4u);
  EXPECT_EQ(info2.free_pages, 3072u);
  // (3072 - 4*512) * 1000 / 3072 = 333
  EXPECT_DOUBLE_EQ(UnusableIndex(info2, 9), 0.333);
  EXPECT_DOUBLE_EQ(FragmentationIndex(info2, 9), -1.0);

  auto none = ComputeContigInfo(std::vector<uint64_t>(11, 0), 9);
  EXPECT_DOUBLE_EQ(UnusableIndex(none, 9), 1.0);
  EXPECT_DOUBLE_EQ(FragmentationIndex(none, 9), 0.0);
}

TEST(Psi, ParsesBothLinesAndNamesMissingFields) {
  auto p =
      ParsePsi("some avg10=1.50 avg60=0.20 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
               "p")
          .value();
  ASSERT_TRUE(p.some && p.full);
  EXPECT_EQ(p.some->avg10, 0.015);
  EXPECT_EQ(p.some->avg60, 0.002);
  EXPECT_EQ(p.some->total_us, 123456u);
  EXPECT_EQ(p.full->total_us, 7u);
  auto bad = ParsePsi("some avg10=0.00 avg60=0.00 avg300=0.00\n", "/proc/pressure/memory");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString(),
            "/proc/pressure/memory:1: missing total= in \"some avg10=0.00 avg60=0.00 avg300=0.00\"");
}

TEST(Swaps, ParsesRowsInBytes) {
  auto s =
      ParseSwaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0 partition 1024 512 100\n", "s").value();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].filename, "/dev/zram0");
  EXPECT_EQ(s[0].size_bytes, 1048576u);
  EXPECT_EQ(s[0].used_bytes, 524288u);
  EXPECT_EQ(s[0].priority, 100);
  EXPECT_FALSE(ParseSwaps("Filename Type Size Used Priority\n/dev/x partition 1 2\n", "s"));
  EXPECT_FALSE(ParseSwaps("", "s"));
}

TEST(Zram, ParsesSevenToNineFields) {
  auto m = ParseZramMmStat("1 2 3 4 5 6 7\n", "z").value();
  EXPECT_EQ(m.pages_compacted, 7u);
  EXPECT_EQ(m.huge_pages, std::nullopt);
  auto m9 = ParseZramMmStat("1 2 3 4 5 6 7 8 9\n", "z").value();
  EXPECT_EQ(m9.huge_pages, 8u);
  EXPECT_EQ(m9.huge_pages_since, 9u);
  EXPECT_FALSE(ParseZramMmStat("1 2 3\n", "z"));
}

}  // namespace
}  // namespace kvmem::procfs
