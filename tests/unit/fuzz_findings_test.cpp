// Regression tests for what fuzzing the parsers turned up (fuzz/, docs/fuzzing.md): each test
// holds the exact input and the behaviour now expected. Add one per finding, saying how it
// was found and what went wrong before the fix.
#include <gtest/gtest.h>

#include <string>

#include "host/procfs/fields.h"
#include "host/procfs/numa_maps.h"

namespace kvmem::procfs {
namespace {

// Found while writing fuzz_numa_maps (UBSan: "division by zero", numa_maps.cpp): 2^54 KiB
// times 1024 wrapped to 0 bytes, and the overflow check then divided by it.
TEST(FuzzFindings, NumaMapsPageSizeWhoseBytesWrapIsAnError) {
  auto r = ParseNumaMaps("7f00 default N0=1 kernelpagesize_kB=18014398509481984\n", "numa_maps");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(), "numa_maps:1: bad page size \"kernelpagesize_kB=18014398509481984\"");
  // The largest page size whose bytes fit still parses.
  auto ok = ParseNumaMaps("7f00 default N0=1 kernelpagesize_kB=18014398509481983\n", "numa_maps");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at(0), 18014398509481983ULL * 1024);
}

// Same review: two counts for one node on one line were summed unchecked, so this line
// reported 1 page (4 KiB) instead of refusing the file.
TEST(FuzzFindings, NumaMapsPageCountsThatWrapAreAnError) {
  auto r = ParseNumaMaps("7f00 default N0=18446744073709551615 N0=2 kernelpagesize_kB=4\n", "numa_maps");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(), "numa_maps:1: page count overflow for node 0");
}

// fuzz_sysfs_values' memory use: every range may span a million ids, so a 4 KiB cpulist of
// repeated "0-1000000" grew a vector of hundreds of millions of ints (GiBs per scrape).
TEST(FuzzFindings, IdListWithMoreIdsThanTheIdSpaceIsRefused) {
  EXPECT_EQ(ParseIdList("0-1000000", "cpulist")->size(), 1'000'001u);
  auto r = ParseIdList("0-1000000,0", "/sys/devices/system/node/node0/cpulist");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(), "/sys/devices/system/node/node0/cpulist:1: more than 1000001 ids; the ranges repeat");
}

}  // namespace
}  // namespace kvmem::procfs
