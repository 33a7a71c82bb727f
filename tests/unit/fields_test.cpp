// Tokenising and number parsing edge cases.
#include <gtest/gtest.h>

#include "host/procfs/fields.h"

namespace kvmem::procfs {
namespace {

TEST(Fields, SplitsOnRunsOfWhitespace) {
  auto f = SplitFields("  a \t bb   c  ");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "a");
  EXPECT_EQ(f[1], "bb");
  EXPECT_EQ(f[2], "c");
  EXPECT_TRUE(SplitFields("   ").empty());
}

TEST(Fields, ParseU64RejectsJunkSignsAndOverflow) {
  EXPECT_EQ(ParseU64("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(ParseU64("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseU64("-1"), std::nullopt);
  EXPECT_EQ(ParseU64("12x"), std::nullopt);
  EXPECT_EQ(ParseU64(""), std::nullopt);
  EXPECT_EQ(ParseU64("8000000", 16), 0x8000000u);
  EXPECT_EQ(ParseI64("-42"), -42);
  EXPECT_EQ(ParseDouble("12.5"), 12.5);
}

TEST(Fields, SingleNumberFilesNameTheFile) {
  EXPECT_EQ(ParseSingleU64("1024\n", "f").value(), 1024u);
  auto bad = ParseSingleU64("lots\n", "/sys/x/free_hugepages");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString(), "/sys/x/free_hugepages:1: expected an unsigned number, got \"lots\"");
  auto empty = ParseSingleU64("", "f");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "empty file; expected one number");
}

TEST(Fields, IdLists) {
  EXPECT_EQ(ParseIdList("0-3,8,10-11\n", "f").value(), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseIdList("\n", "f").value(), std::vector<int>{});
  EXPECT_FALSE(ParseIdList("3-1", "f"));
  EXPECT_FALSE(ParseIdList("a", "f"));
}

TEST(Fields, Choices) {
  auto c = ParseChoice("always [madvise] never\n", "f").value();
  EXPECT_EQ(c.selected, "madvise");
  EXPECT_EQ(c.options, (std::vector<std::string>{"always", "madvise", "never"}));
  EXPECT_FALSE(ParseChoice("always madvise never", "f"));
}

TEST(Fields, ForEachLineNumbersLines) {
  std::vector<std::pair<std::string, int>> seen;
  ForEachLine("a\nb\n\nc", [&](std::string_view l, int n) { seen.emplace_back(std::string(l), n); });
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3], (std::pair<std::string, int>{"c", 4}));
}

}  // namespace
}  // namespace kvmem::procfs
