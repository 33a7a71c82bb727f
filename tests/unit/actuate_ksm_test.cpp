// The KSM actuator against a real temporary sysfs-shaped directory (plain files, read back by
// the real observe::HostReadBack), a missing one, and a read-only bind mount of one.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "controller/actuate/actuator.h"
#include "controller/actuate/ksm.h"
#include "controller/observe/read_back.h"

namespace kvmem::actuate {
namespace {

namespace fs = std::filesystem;

class KsmSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kvmem-ksm-act-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(dir());
    Write("run", "0");
    Write("pages_to_scan", "100");
    Write("sleep_millisecs", "20");
    Write("merge_across_nodes", "1");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path dir() const { return root_ / "sys/kernel/mm/ksm"; }
  void Write(const std::string& file, const std::string& v) { std::ofstream(dir() / file) << v << "\n"; }
  std::string Read(const std::string& file) const {
    std::ifstream in(dir() / file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  procfs::Root root() const { return {(root_ / "proc").string(), (root_ / "sys").string()}; }
  static model::Action Set(model::KsmSettings to) { return model::SetKsm{{0, 100, 20}, to, {}}; }
  fs::path root_;
};

TEST_F(KsmSysfs, WritesTheThreeKnobsAndReadsThemBack) {
  observe::HostReadBack read_back(root());
  KsmActuator ksm(root(), &read_back);
  EXPECT_EQ(ksm.Refusal(Set({1, 400, 50})), "");
  model::Outcome o = ksm.Apply(Set({1, 400, 50}));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(Read("pages_to_scan"), "400\n");
  EXPECT_EQ(Read("sleep_millisecs"), "50\n");
  EXPECT_EQ(Read("run"), "1\n");
  EXPECT_EQ(Read("merge_across_nodes"), "1\n");  // never written
  o = ksm.Apply(Set({0, 400, 50}));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(Read("run"), "0\n");
}

TEST_F(KsmSysfs, RefusesWhatItNeverWrites) {
  KsmActuator ksm(root(), nullptr);
  EXPECT_EQ(ksm.Refusal(Set({2, 100, 20})), "run 2 is never written");
  EXPECT_EQ(ksm.Refusal(Set({1, 0, 20})), "pages_to_scan and sleep_millisecs must be at least 1");
  EXPECT_EQ(ksm.Refusal(model::CompactNode{0, std::nullopt, {}}), "the ksm actuator only sets KSM's knobs");
  model::Outcome o = ksm.Apply(Set({2, 100, 20}));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error, "run 2 is never written");
  EXPECT_EQ(Read("run"), "0\n");
}

TEST_F(KsmSysfs, MissingKsmIsRefusedInDryRunToo) {
  fs::remove_all(dir());
  KsmActuator ksm(root(), nullptr);
  const std::string want = dir().string() + " is missing: this kernel has no KSM";
  EXPECT_EQ(ksm.Refusal(Set({1, 100, 20})), want);
  DryRun dry(&ksm);
  model::Outcome o = dry.Apply(Set({1, 100, 20}));
  EXPECT_FALSE(o.ok);
  EXPECT_FALSE(o.dry_run);
  EXPECT_EQ(o.error, want);
}

TEST_F(KsmSysfs, ReadBackDisagreementFails) {
  // A kernel that stores another value than the one written: plain files cannot do that, so
  // the real read-back is wrapped to report sleep_millisecs 10.
  observe::HostReadBack read_back(root());
  class Clamping final : public model::ReadBack {
   public:
    explicit Clamping(model::ReadBack* inner) : inner_(inner) {}
    std::optional<double> FragmentationIndex(int) override { return std::nullopt; }
    Result<uint64_t> PoolPages(int, uint64_t) override { return 0; }
    Result<model::NodeBytes> ResidentBytesPerNode(int) override { return model::NodeBytes{}; }
    std::optional<int> QemuPid(const std::string&) override { return std::nullopt; }
    Result<CommandLineUuid> QemuUuid(int) override { return CommandLineUuid{}; }
    Result<uint64_t> CgroupMemoryBytes(const std::string&) override { return 0; }
    Result<model::KsmSettings> KsmKnobs() override {
      auto k = inner_->KsmKnobs();
      if (k) k->sleep_millisecs = 10;
      return k;
    }

   private:
    model::ReadBack* inner_;
  } clamping(&read_back);
  KsmActuator ksm(root(), &clamping);
  model::Outcome o = ksm.Apply(Set({1, 400, 50}));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error,
            "wrote run 1, pages_to_scan 400, sleep_millisecs 50 but reads back run 1, pages_to_scan 400, "
            "sleep_millisecs 10");
}

// A read-only sysfs (a container's): in a child with its own mount namespace, the directory is
// bind-mounted read-only over itself. The child exits 0 when the refusal and the failed Apply
// are exactly as expected, 77 when it cannot make the mount (not root).
TEST_F(KsmSysfs, ReadOnlySysfsIsRefused) {
  const std::string d = dir().string();
  const std::string want = d + "/run is not writable (read-only sysfs, or not root)";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(d.c_str(), d.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        mount(nullptr, d.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      _exit(77);
    }
    KsmActuator ksm(root(), nullptr);
    DryRun dry(&ksm);
    const bool refused = ksm.Refusal(Set({1, 100, 20})) == want;
    const model::Outcome real = ksm.Apply(Set({1, 100, 20}));
    const model::Outcome dry_run = dry.Apply(Set({1, 100, 20}));
    _exit(refused && !real.ok && real.error == want && !dry_run.ok && dry_run.error == want ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot bind-mount read-only here (needs root)";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(Read("run"), "0\n");  // the parent's view: untouched
}

}  // namespace
}  // namespace kvmem::actuate
