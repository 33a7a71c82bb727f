// bench/hugepages: the smaps and numa_maps parsers, Sattolo's cycle and the chase, the streaming
// passes, the medians and tables, the flag values, and one real 4k run on this kernel.
#include <gtest/gtest.h>

#include <set>

#include "bench/hugepages/options.h"
#include "bench/hugepages/report.h"
#include "bench/hugepages/runner.h"
#include "bench/hugepages/smaps.h"
#include "bench/hugepages/workload.h"

namespace kvmem::hugepage_bench {
namespace {

// Three mappings as kernel 6.x prints them: 4 kB anonymous, hugetlb, THP.
constexpr std::string_view kSmaps =
    "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
    "Size:               4096 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                4096 kB\n"
    "AnonHugePages:         0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:       0 kB\n"
    "VmFlags: rd wr mr mw me ac nh\n"
    "7f0000400000-7f0004400000 rw-p 00000000 00:10 4242                       /anon_hugepage (deleted)\n"
    "Size:              65536 kB\n"
    "KernelPageSize:     2048 kB\n"
    "MMUPageSize:        2048 kB\n"
    "Rss:                   0 kB\n"
    "AnonHugePages:         0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:   65536 kB\n"
    "VmFlags: rd wr mr mw me de ht\n"
    "7f0004400000-7f0008400000 rw-p 00000000 00:00 0 \n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:               65536 kB\n"
    "AnonHugePages:     63488 kB\n"
    "VmFlags: rd wr mr mw me ac hg\n";

TEST(HugepageSmaps, FindsEachKindOfMapping) {
  auto small = ParseSmapsFor(kSmaps, 0x7f0000001000);
  ASSERT_TRUE(small) << small.error().ToString();
  EXPECT_EQ(small->start, 0x7f0000000000u);
  EXPECT_EQ(small->end, 0x7f0000400000u);
  EXPECT_EQ(small->kernel_page_kb, 4u);
  EXPECT_EQ(small->mmu_page_kb, 4u);
  EXPECT_EQ(small->rss_kb, 4096u);
  EXPECT_EQ(small->anon_huge_kb, 0u);
  EXPECT_EQ(small->hugetlb_kb, 0u);
  EXPECT_EQ(DescribePages(*small), "4 kB (THP 0 MiB)");

  auto huge = ParseSmapsFor(kSmaps, 0x7f0000400000);
  ASSERT_TRUE(huge) << huge.error().ToString();
  EXPECT_EQ(huge->kernel_page_kb, 2048u);
  EXPECT_EQ(huge->mmu_page_kb, 2048u);
  EXPECT_EQ(huge->hugetlb_kb, 65536u);
  EXPECT_EQ(DescribePages(*huge), "2048 kB (hugetlb 64 MiB)");

  auto thp = ParseSmapsFor(kSmaps, 0x7f00044003ff);
  ASSERT_TRUE(thp) << thp.error().ToString();
  EXPECT_EQ(thp->anon_huge_kb, 63488u);
  EXPECT_EQ(DescribePages(*thp), "4 kB + THP 62 MiB (96.9%)");
}

TEST(HugepageSmaps, ErrorsNameTheProblem) {
  auto outside = ParseSmapsFor(kSmaps, 0x7f0008400000);  // one past the last range
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(outside.error().ToString(), "smaps: no mapping contains address 0x7f0008400000");

  auto header = ParseSmapsFor("7f00-7f10 rw-p 0 0:0 0\nRss: 4 kB\nzz-7f20 rw-p\n", 0x7f30);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().kind, ErrorKind::kParse);
  EXPECT_EQ(header.error().line, 3);

  auto number = ParseSmapsFor("7f00-7f10 rw-p 0 0:0 0\nKernelPageSize: 4x kB\n", 0x7f00);
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error().ToString(), "smaps:2: bad number \"4x\" for KernelPageSize");

  auto missing = ParseSmapsFor("7f00-7f10 rw-p 0 0:0 0\nRss: 4 kB\n", 0x7f00);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "the mapping has no KernelPageSize line");
}

TEST(HugepageNumaMaps, PagesPerNodeOfTheContainingMapping) {
  constexpr std::string_view text =
      "7f0000000000 bind:0 anon=1024 dirty=1024 N0=1024 kernelpagesize_kB=4\n"
      "7f0000400000 bind:1 file=/anon_hugepage\\040(deleted) huge anon=32 dirty=32 N1=30 N3=2 kernelpagesize_kB=2048\n"
      "7f0004400000 default\n";
  auto e = ParseNumaMapsFor(text, 0x7f0000500000);
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_EQ(e->start, 0x7f0000400000u);
  EXPECT_EQ(e->policy, "bind:1");
  EXPECT_EQ(e->kernel_page_kb, 2048u);
  EXPECT_EQ(e->node_pages, (std::map<int, uint64_t>{{1, 30}, {3, 2}}));

  EXPECT_EQ(ParseNumaMapsFor(text, 0x7effffffffff).error().kind, ErrorKind::kNotFound);
  auto bad = ParseNumaMapsFor("nothex default\n", 0x1000);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString(), "numa_maps:1: expected a hex start address, got \"nothex\"");
}

// Follows next[] from 0 and counts the steps until it is back at 0.
size_t CycleLength(const std::vector<uint32_t>& next) {
  size_t steps = 0;
  uint32_t i = 0;
  do {
    i = next[i];
    ++steps;
  } while (i != 0 && steps <= next.size());
  return steps;
}

TEST(HugepageWorkload, SattoloIsOneCycleThroughEveryLine) {
  for (uint32_t n : {1u, 2u, 3u, 1000u, 65536u}) {
    auto next = SattoloCycle(n, 7);
    EXPECT_EQ(CycleLength(next), n) << "n=" << n;
    EXPECT_EQ(std::set<uint32_t>(next.begin(), next.end()).size(), n) << "a permutation, n=" << n;
  }
  EXPECT_EQ(SattoloCycle(2, 99), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(SattoloCycle(1000, 7), SattoloCycle(1000, 7));
  EXPECT_NE(SattoloCycle(1000, 7), SattoloCycle(1000, 8));
}

TEST(HugepageWorkload, ChaseFollowsTheLaidPointers) {
  auto next = SattoloCycle(16, 3);
  std::vector<std::byte> buf(16 * kLineBytes);
  LayChase(buf.data(), next);
  EXPECT_EQ(Chase(buf.data(), 1), buf.data() + next[0] * kLineBytes);
  EXPECT_EQ(Chase(buf.data(), 2), buf.data() + next[next[0]] * kLineBytes);
  EXPECT_EQ(Chase(buf.data(), 16), buf.data());  // once round the cycle
  EXPECT_EQ(Chase(buf.data(), 0), buf.data());
}

TEST(HugepageWorkload, StreamsReadAndWriteEveryWord) {
  std::vector<uint64_t> words = {1, 2, 3, 4, 5};
  EXPECT_EQ(StreamRead(words.data(), words.size()), uint64_t{(1 + 5) ^ 2 ^ 3 ^ 4});
  StreamWrite(words.data(), words.size(), 0x10);
  EXPECT_EQ(words, (std::vector<uint64_t>{0x10, 0x11, 0x12, 0x13, 0x14}));
}

TEST(HugepageWorkload, FaultInTouchesOneByteInEveryPage) {
  std::vector<std::byte> buf(3 * kBasePageBytes + 1);
  FaultIn(buf.data(), buf.size());
  size_t touched = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] == std::byte{1}) {
      EXPECT_EQ(i % kBasePageBytes, 0u) << i;
      ++touched;
    }
  }
  EXPECT_EQ(touched, 4u);  // offsets 0, 4096, 8192 and 12288
}

TEST(HugepageReport, Summaries) {
  Spread odd = Summarize({3, 1, 2});
  EXPECT_EQ(odd.median, 2);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 3);
  EXPECT_EQ(Summarize({4, 1, 3, 2}).median, 2.5);
  EXPECT_EQ(Summarize({}).median, 0);
}

RunSample Sample(const std::string& mode, int round, double chase_ns, uint64_t faults) {
  RunSample s;
  s.placement = "cpu N0, mem N0";
  s.mode = mode;
  s.round = round;
  s.warmup = round == 0;
  s.chase_ns = chase_ns;
  s.chase_wall_ns = 2 * chase_ns;
  s.read_gbs = 10;
  s.write_gbs = 5;
  s.cpu_s = 1;
  s.wall_s = 2;
  s.minor_faults = faults;
  s.pages_seen = mode == "4k" ? "4 kB (THP 0 MiB)" : "2048 kB (hugetlb 1024 MiB)";
  return s;
}

TEST(HugepageReport, MedianTableDropsWarmupAndAddsTheRatio) {
  std::vector<RunSample> samples = {Sample("4k", 0, 999, 9),      Sample("2m", 0, 999, 9),
                                    Sample("2m", 1, 60, 513),     Sample("4k", 1, 100, 262145),
                                    Sample("4k", 2, 120, 262145), Sample("2m", 2, 50, 513),
                                    Sample("4k", 3, 110, 262145), Sample("2m", 3, 70, 513)};
  EXPECT_EQ(MedianTable(samples, {"4k", "2m"}),
            "| placement | mode | ns/access (chase) | ns/access wall | GB/s read | GB/s write | CPU s | sys s | wall s "
            "| minor faults | fault-in ms | runs | page size seen |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            "| cpu N0, mem N0 | 4k | 110.0 | 220.0 | 10.00 | 5.00 | 1.000 | 0.000 | 2.000 | 262145 | 0.0 | 3 "
            "| 4 kB (THP 0 MiB) |\n"
            "| cpu N0, mem N0 | 2m | 60.0 | 120.0 | 10.00 | 5.00 | 1.000 | 0.000 | 2.000 | 513 | 0.0 | 3 "
            "| 2048 kB (hugetlb 1024 MiB) |\n"
            "| cpu N0, mem N0 | 2m/4k | 0.55x | 0.55x | 1.00x | 1.00x | 1.00x | - | 1.00x | 0.00x | - |  |  |\n");
  std::string spread = SpreadTable(samples, {"4k", "2m"});
  EXPECT_NE(spread.find("| cpu N0, mem N0 | 4k | 100.0-120.0 | 200.0-240.0 |"), std::string::npos) << spread;
  std::string raw = RawTable(samples);
  EXPECT_NE(raw.find("| 0 (warm-up) | cpu N0, mem N0 | 4k | 999.0 |"), std::string::npos) << raw;
}

TEST(HugepageOptions, Values) {
  uint64_t bytes = 0;
  EXPECT_TRUE(ParseByteSize("1G", &bytes));
  EXPECT_EQ(bytes, uint64_t{1} << 30);
  EXPECT_TRUE(ParseByteSize("64MiB", &bytes));
  EXPECT_EQ(bytes, uint64_t{64} << 20);
  EXPECT_TRUE(ParseByteSize("2097152", &bytes));
  EXPECT_EQ(bytes, 2097152u);
  EXPECT_FALSE(ParseByteSize("0", &bytes));
  EXPECT_FALSE(ParseByteSize("1X", &bytes));
  EXPECT_FALSE(ParseByteSize("1Gb", &bytes));
  EXPECT_FALSE(ParseByteSize("20000000T", &bytes));

  std::vector<PageMode> modes;
  EXPECT_EQ(ParseModeList("2m,4k,thp", &modes), "");
  EXPECT_EQ(modes, (std::vector<PageMode>{PageMode::k2m, PageMode::k4k, PageMode::kThp}));
  EXPECT_EQ(ParseModeList("4k,4k", &modes), "mode 4k is listed twice");
  EXPECT_EQ(ParseModeList("", &modes), "unknown mode \"\"; expected 4k, 2m or thp");

  Options o;
  o.size_bytes = 3 << 20;
  EXPECT_EQ(Validate(o).error().message, "--size must be a multiple of 2 MiB (2097152 bytes), got 3145728");
  o.size_bytes = uint64_t{512} << 30;
  EXPECT_EQ(Validate(o).error().kind, ErrorKind::kConfig);
}

// A real run on this kernel: MADV_NOHUGEPAGE keeps THP out whatever THP's setting, and the
// run checks that itself.
TEST(HugepageRunner, FourKilobyteRunGetsFourKilobytePages) {
  const size_t bytes = 4 << 20;
  auto cycle = SattoloCycle(static_cast<uint32_t>(bytes / kLineBytes), 1);
  RunConfig config{bytes, 1000, 1, &cycle};
  Verification v;
  auto s = RunOnce(PageMode::k4k, Placement{-1, -1, "unbound"}, config, &v);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->mode, "4k");
  EXPECT_EQ(s->pages_seen, "4 kB (THP 0 MiB)");
  EXPECT_EQ(v.line.rfind("KernelPageSize=4 kB MMUPageSize=4 kB AnonHugePages=0 kB Hugetlb=0 kB numa_maps ", 0), 0u)
      << v.line;
  EXPECT_GT(s->chase_ns, 0);
  EXPECT_GT(s->read_gbs, 0);
  EXPECT_GT(s->write_gbs, 0);
}

}  // namespace
}  // namespace kvmem::hugepage_bench
