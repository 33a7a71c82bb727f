// ksmd's CPU time: the /proc/PID/stat parser, and KsmdCpu finding, caching and re-finding the
// thread in a real temporary /proc-shaped tree.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "host/procfs/ksmd.h"

namespace kvmem::procfs {
namespace {

namespace fs = std::filesystem;

const std::string kKsmdStat =
    "40 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 521 79 0 0 25 5 1 0 27 0 0 18446744073709551615 0 0 0 0 0 0 0 "
    "2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ParseProcStatCpu, KsmdLine) {
  auto s = ParseProcStatCpu(kKsmdStat, "/proc/40/stat");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->comm, "ksmd");
  EXPECT_EQ(s->utime_ticks, 521u);
  EXPECT_EQ(s->stime_ticks, 79u);
}

TEST(ParseProcStatCpu, CommWithSpacesAndParentheses) {
  auto s = ParseProcStatCpu("7 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0\n", "f");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->comm, "a) b (c)");
  EXPECT_EQ(s->utime_ticks, 11u);
  EXPECT_EQ(s->stime_ticks, 22u);
}

TEST(ParseProcStatCpu, Errors) {
  EXPECT_EQ(ParseProcStatCpu("40 ksmd S 2", "/proc/40/stat").error().ToString(),
            "/proc/40/stat:1: no \"(comm)\" field");
  EXPECT_EQ(ParseProcStatCpu("40 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 521", "f").error().ToString(),
            "f:1: expected at least 15 fields, got 14");
  EXPECT_EQ(ParseProcStatCpu("40 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 x 79 0", "f").error().ToString(),
            "f:1: utime or stime is not a number: \"x\" \"79\"");
}

class ProcTree : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kvmem-ksmd-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Process(1, "init", "1 (init) S 0 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Process(int pid, const std::string& comm, const std::string& stat) {
    fs::create_directories(dir_ / std::to_string(pid));
    std::ofstream(dir_ / std::to_string(pid) / "comm") << comm << "\n";
    std::ofstream(dir_ / std::to_string(pid) / "stat") << stat;
  }
  Root root() const { return {dir_.string(), "/nonexistent"}; }
  fs::path dir_;
};

TEST_F(ProcTree, FindsCachesAndRefindsKsmd) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  Process(40, "ksmd", kKsmdStat);
  KsmdCpu ksmd(root());
  EXPECT_EQ(ksmd.CpuSeconds(), 600 / hz);
  EXPECT_EQ(ksmd.Pid(), 40);
  // The PID is reused by another process: ksmd is searched for again and found under 41.
  Process(40, "bash", "40 (bash) S 1 0 0 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0\n");
  Process(41, "ksmd", "41 (ksmd) S 2 0 0 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0\n");
  EXPECT_EQ(ksmd.CpuSeconds(), 100 / hz);
  EXPECT_EQ(ksmd.Pid(), 41);
}

TEST_F(ProcTree, NoKsmdIsNoDataAndIsNotRescannedAtOnce) {
  KsmdCpu ksmd(root(), std::chrono::seconds{3600});
  EXPECT_EQ(ksmd.CpuSeconds(), std::nullopt);
  EXPECT_EQ(ksmd.Pid(), std::nullopt);
  Process(40, "ksmd", kKsmdStat);  // appears, but the miss is trusted for an hour
  EXPECT_EQ(ksmd.CpuSeconds(), std::nullopt);
  KsmdCpu eager(root(), std::chrono::seconds{0});
  EXPECT_TRUE(eager.CpuSeconds().has_value());
}

TEST(KsmdCpu, MissingProcIsNoData) {
  KsmdCpu ksmd({"/nonexistent", "/nonexistent"});
  EXPECT_EQ(ksmd.CpuSeconds(), std::nullopt);
}

}  // namespace
}  // namespace kvmem::procfs
