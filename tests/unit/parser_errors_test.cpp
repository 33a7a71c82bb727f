// Every way a line of these files can be malformed, with the exact error each gives: the file
// and line, and what was expected. Tables, one row per malformation.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "host/procfs/buddyinfo.h"
#include "host/procfs/meminfo.h"
#include "host/procfs/psi.h"
#include "host/procfs/swap.h"

namespace kvmem::procfs {
namespace {

struct Row {
  std::string text;
  std::string error;  // Error::ToString()
};

template <class Parse>
void ExpectErrors(Parse parse, const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    auto result = parse(r.text);
    ASSERT_FALSE(result) << r.text;
    EXPECT_EQ(result.error().ToString(), r.error) << r.text;
  }
}

TEST(ParserErrors, Buddyinfo) {
  ExpectErrors(
      [](const std::string& t) { return ParseBuddyinfo(t, "/proc/buddyinfo"); },
      {
          {"Node 0, zone\n", "/proc/buddyinfo:1: expected \"Node N, zone NAME counts...\", got \"Node 0, zone\""},
          {"Node 0, zone DMA 1\nNode x, zone Normal 1 2\n", "/proc/buddyinfo:2: bad node id \"x,\""},
          {"Node 0, zone Normal 1 z\n", "/proc/buddyinfo:1: order 1 count is not a number: \"z\""},
      });
}

TEST(ParserErrors, Meminfo) {
  ExpectErrors([](const std::string& t) { return ParseMeminfo(t, "/sys/devices/system/node/node0/meminfo"); },
               {
                   {"Node 0 X MemFree: 5 kB\n",
                    "/sys/devices/system/node/node0/meminfo:1: expected \"Node N Key:\" in \"Node 0 X MemFree: 5 kB\""},
                   {"MemTotal: 1 kB\nMemFree: abc kB\n",
                    "/sys/devices/system/node/node0/meminfo:2: value of MemFree is not a number: \"abc\""},
               });
}

TEST(ParserErrors, Psi) {
  ExpectErrors(
      [](const std::string& t) { return ParsePsi(t, "/proc/pressure/memory"); },
      {
          {"avg10=1.00\n", "/proc/pressure/memory:1: expected a line starting with some or full, got \"avg10=1.00\""},
          {"some avg10\n", "/proc/pressure/memory:1: expected key=value, got \"avg10\""},
      });
}

TEST(ParserErrors, Swaps) {
  ExpectErrors([](const std::string& t) { return ParseSwaps(t, "/proc/swaps"); },
               {
                   {"Name Type\n", "/proc/swaps:1: expected the header \"Filename Type Size Used Priority\""},
                   {"Filename Type Size Used Priority\n/dev/zram0 partition a 2 -1\n",
                    "/proc/swaps:2: size, used and priority must be numbers in \"/dev/zram0 partition a 2 -1\""},
               });
}

TEST(ParserErrors, ZramMmStat) {
  ExpectErrors([](const std::string& t) { return ParseZramMmStat(t, "/sys/block/zram0/mm_stat"); },
               {
                   {"1 2 3\n", "/sys/block/zram0/mm_stat:1: expected at least 7 fields, got 3"},
                   {"1 2 3 4 5 6 x\n", "/sys/block/zram0/mm_stat:1: field 7 is not a number: \"x\""},
               });
}

}  // namespace
}  // namespace kvmem::procfs
