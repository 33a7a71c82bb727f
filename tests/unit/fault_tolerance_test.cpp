// The controller under faults: the decision log (records, tail recovery, full disk), the
// deadline on actions (a sysfs write that blocks on a FIFO, a libvirt daemon that never
// answers), and the stop flag (no action starts after SIGTERM).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/metrics/text_format.h"
#include "controller/actuate/compaction.h"
#include "controller/actuate/deadline.h"
#include "controller/actuate/libvirt.h"
#include "controller/loop/controller.h"
#include "controller/loop/decision_log.h"
#include "host/write/libvirt_writer.h"

namespace kvmem {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("kvmem-faults-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

model::Action Shrink(std::string name) {
  model::SetBalloon b;
  b.vm = {"u-" + name, name};
  b.from_bytes = 4ULL << 30;
  b.to_bytes = 3ULL << 30;
  b.reason.rule = "balloon.reclaim";
  b.reason.threshold = "balloon.reclaim_below";
  b.reason.text = "node 0 available 1 GiB < reclaim_below 6.4 GiB";
  return b;
}

std::string Metrics(const loop::DecisionLog& log) {
  MetricSink sink;
  log.Collect(sink);
  return SerializeText(sink.families());
}

TEST(DecisionLog, IntentAndOutcomeAreOneJsonLineEach) {
  TempDir dir;
  auto log = loop::DecisionLog::Open((dir.path / "decisions.jsonl").string()).value();
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714557600123));
  const auto action = Shrink("web-1");
  std::string id = log->Intent(action, false, t);
  model::Outcome failed;
  failed.ok = false;
  failed.error = "virDomainSetMemoryFlags web-1: refused";
  failed.duration = 250ms;
  log->Finish(id, action, failed, false, t + 250ms);
  auto lines = Lines(dir.path / "decisions.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "{\"action\":\"balloon web-1: 4 GiB -> 3 GiB\",\"actuator\":\"balloon\",\"dry_run\":false,"
            "\"event\":\"intent\",\"id\":\"" +
                id +
                "\",\"reason\":\"node 0 available 1 GiB < reclaim_below 6.4 GiB\","
                "\"rule\":\"balloon.reclaim\",\"threshold\":\"balloon.reclaim_below\",\"time\":\"2024-05-01T10:00:00."
                "123Z\"}");
  EXPECT_EQ(lines[1],
            "{\"action\":\"balloon web-1: 4 GiB -> 3 GiB\",\"actuator\":\"balloon\",\"dry_run\":false,"
            "\"duration_seconds\":0.25,\"error\":\"virDomainSetMemoryFlags web-1: refused\",\"event\":\"outcome\","
            "\"id\":\"" +
                id + "\",\"result\":\"failed\",\"rule\":\"balloon.reclaim\",\"time\":\"2024-05-01T10:00:00.373Z\"}");
  EXPECT_EQ(id.rfind("-1"), id.size() - 2);  // the sequence number ends the id
  EXPECT_NE(log->Intent(action, true, t), id);
  EXPECT_NE(Metrics(*log).find("kvmem_controller_decision_log_records_total 3\n"), std::string::npos);
}

TEST(DecisionLog, InvalidUtf8InADomainNameIsReplacedNotThrown) {
  auto line = loop::DecisionLog::IntentLine("x", Shrink("bad\xff"), true, std::chrono::system_clock::time_point{});
  EXPECT_NE(line.find("balloon bad\xef\xbf\xbd: 4 GiB"), std::string::npos) << line;
  EXPECT_NE(line.find("\"time\":\"1970-01-01T00:00:00.000Z\""), std::string::npos) << line;
}

TEST(DecisionLog, RecoverReportsAnIntentWithoutOutcomeOnce) {
  TempDir dir;
  const auto file = dir.path / "decisions.jsonl";
  {
    std::ofstream out(file);
    out << "{\"event\":\"intent\",\"id\":\"a\",\"action\":\"compact node "
           "0\",\"rule\":\"compaction.fragmentation\",\"time\":\"t0\"}\n"
        << "{\"event\":\"outcome\",\"id\":\"a\",\"result\":\"applied\"}\n"
        << "{\"event\":\"intent\",\"id\":\"b\",\"action\":\"balloon web-1: 4 GiB -> 3 "
           "GiB\",\"rule\":\"balloon.reclaim\","
           "\"time\":\"t1\",\"dry_run\":false}\n"
        << "{\"event\":\"outc";  // torn by a crash
  }
  auto log = loop::DecisionLog::Open(file.string()).value();
  auto r = log->Recover();
  ASSERT_EQ(r.unfinished.size(), 1u);
  EXPECT_EQ(r.unfinished[0].id, "b");
  EXPECT_EQ(r.unfinished[0].action, "balloon web-1: 4 GiB -> 3 GiB");
  EXPECT_EQ(r.unfinished[0].time, "t1");
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.malformed, 1u);
  EXPECT_NE(Metrics(*log).find("kvmem_controller_interrupted_actions_total 1\n"), std::string::npos);
  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 5u);
  auto closed = nlohmann::json::parse(lines[4]);
  EXPECT_EQ(closed["event"], "outcome");
  EXPECT_EQ(closed["id"], "b");
  EXPECT_EQ(closed["result"], "unknown");

  // The next start finds nothing open: the "unknown" outcome closed it.
  auto again = loop::DecisionLog::Open(file.string()).value();
  EXPECT_EQ(again->Recover().unfinished.size(), 0u);
}

TEST(DecisionLog, RecoverReadsOnlyTheTailFromAWholeLine) {
  TempDir dir;
  const auto file = dir.path / "decisions.jsonl";
  {
    std::ofstream out(file);
    out << "{\"event\":\"intent\",\"id\":\"old\"}\n";  // outside the tail: not reported
    out << std::string(100, 'x') << "\n";
    out << "{\"event\":\"intent\",\"id\":\"new\"}\n";
  }
  auto log = loop::DecisionLog::Open(file.string()).value();
  auto r = log->Recover(60);  // starts inside the x line, which is skipped as partial
  ASSERT_EQ(r.unfinished.size(), 1u);
  EXPECT_EQ(r.unfinished[0].id, "new");
  EXPECT_EQ(r.malformed, 0u);
}

// RLIMIT_FSIZE stands in for a full disk: a write past it fails (EFBIG) or is cut short.
struct FileSizeLimit {
  rlimit saved{};
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved);
    rlimit l = saved;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved); }
};

TEST(DecisionLog, AFullDiskIsCountedAndWritingResumesWithWholeLines) {
  TempDir dir;
  const auto file = dir.path / "decisions.jsonl";
  auto log = loop::DecisionLog::Open(file.string()).value();
  const auto action = Shrink("web-1");
  const auto t = std::chrono::system_clock::now();
  log->Intent(action, true, t);
  const auto size = fs::file_size(file);
  {
    FileSizeLimit limit(size + 40);  // room for part of one more line
    log->Intent(action, true, t);    // short write: cut off again
    log->Intent(action, true, t);    // no room at all
    EXPECT_EQ(fs::file_size(file), size);
    EXPECT_EQ(log->write_failures(), 2u);
    std::string m = Metrics(*log);
    EXPECT_NE(m.find("kvmem_controller_decision_log_writable 0\n"), std::string::npos) << m;
    EXPECT_NE(m.find("kvmem_controller_decision_log_write_failures_total 2\n"), std::string::npos) << m;
  }
  log->Intent(action, true, t);
  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) EXPECT_FALSE(nlohmann::json::parse(l, nullptr, false).is_discarded()) << l;
  std::string m = Metrics(*log);
  EXPECT_NE(m.find("kvmem_controller_decision_log_writable 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kvmem_controller_decision_log_records_total 2\n"), std::string::npos) << m;
}

TEST(DecisionLog, AnOutcomeLostToAFullDiskIsWrittenLateSoItsIntentIsNotInterrupted) {
  TempDir dir;
  const auto file = dir.path / "decisions.jsonl";
  auto log = loop::DecisionLog::Open(file.string()).value();
  const auto action = Shrink("web-1");
  const auto t = std::chrono::system_clock::now();
  std::string id = log->Intent(action, false, t);
  {
    FileSizeLimit limit(fs::file_size(file));
    log->Finish(id, action, model::Outcome{}, false, t);  // kept for later
    log->Intent(action, false, t);                        // lost
  }
  EXPECT_EQ(log->write_failures(), 2u);
  std::string next = log->Intent(action, false, t);  // writes the kept outcome first
  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["id"], id);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["event"], "outcome");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["id"], next);
  auto reopened = loop::DecisionLog::Open(file.string()).value();
  auto r = reopened->Recover();
  ASSERT_EQ(r.unfinished.size(), 1u);  // only `next`, whose outcome never came
  EXPECT_EQ(r.unfinished[0].id, next);
}

TEST(DecisionLog, OpenNamesThePathWhenItCannotBeCreated) {
  auto r = loop::DecisionLog::Open("/nonexistent-dir/decisions.jsonl");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::kConfig);
  EXPECT_EQ(r.error().ToString(),
            "/nonexistent-dir/decisions.jsonl: --decision-log.file: cannot open for appending: No such file or "
            "directory (create its directory, or make it writable by this user)");
}

// A FIFO as nodeN/compact: the compaction write blocks until someone opens it for reading.
struct FifoNode {
  TempDir dir;
  std::string fifo;
  FifoNode() {
    fs::create_directories(dir.path / "sys/devices/system/node/node0");
    fs::create_directories(dir.path / "proc");
    fifo = (dir.path / "sys/devices/system/node/node0/compact").string();
    ::mkfifo(fifo.c_str(), 0600);
  }
  procfs::Root root() const { return {(dir.path / "proc").string(), (dir.path / "sys").string()}; }
  // Opens the FIFO for reading (releasing the blocked writer) and drains it.
  std::string Drain() const {
    std::ifstream in(fifo);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

template <class F>
bool Eventually(F f, std::chrono::milliseconds within = 5s) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

TEST(Deadline, ABlockedSysfsWriteTimesOutAndRefusesMoreUntilItReturns) {
  FifoNode node;
  actuate::SysfsCompaction compaction(node.root(), nullptr);
  actuate::Deadline deadline(&compaction, 200ms);
  model::CompactNode compact{0, std::nullopt, {}};
  auto t0 = std::chrono::steady_clock::now();
  auto o = deadline.Apply(compact);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error,
            "timed out after 0.2 s; the call goes on in the background and its effect is observed, never assumed");
  EXPECT_EQ(o.duration, 200ms);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1s);
  EXPECT_TRUE(deadline.stuck());
  auto refused = deadline.Apply(compact);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(
      refused.error.rfind("not started: the previous action (compact node 0) timed out and has been running for ", 0),
      0u)
      << refused.error;

  EXPECT_EQ(node.Drain(), "1\n");  // the blocked write completes
  EXPECT_TRUE(Eventually([&] { return !deadline.stuck(); }));
  std::thread reader([&] { node.Drain(); });
  auto ok = deadline.Apply(compact);
  reader.join();
  EXPECT_TRUE(ok.ok) << ok.error;
}

TEST(Deadline, PassesAFastOutcomeThrough) {
  FifoNode node;
  actuate::SysfsCompaction compaction(node.root(), nullptr);
  actuate::Deadline deadline(&compaction, 5s);
  std::thread reader([&] { node.Drain(); });
  auto o = deadline.Apply(model::CompactNode{0, std::nullopt, {}});
  reader.join();
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_FALSE(deadline.stuck());
  auto other = deadline.Apply(Shrink("web-1"));  // the compaction actuator refuses it, quickly
  EXPECT_FALSE(other.ok);
  EXPECT_EQ(other.error, "the compaction actuator only compacts nodes");
}

// A libvirt daemon that accepts connections and never answers: virConnectOpen blocks until
// the socket goes away. The deadline answers in time; closing the socket releases the call.
TEST(Deadline, BoundsALibvirtCallToADaemonThatNeverAnswers) {
  TempDir dir;
  std::string path = (dir.path / "silent.sock").string();
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  int accepted = -1;
  std::thread acceptor([&] { accepted = ::accept(listener, nullptr, nullptr); });

  hostwrite::LibvirtWriter writer("qemu:///system?socket=" + path);
  actuate::LibvirtActuator libvirt(writer);
  actuate::Deadline deadline(&libvirt, 300ms);
  auto o = deadline.Apply(Shrink("web-1"));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error.rfind("timed out after 0.3 s", 0), 0u) << o.error;
  EXPECT_TRUE(deadline.stuck());
  acceptor.join();
  ASSERT_GE(accepted, 0);
  ::close(accepted);  // the daemon "dies": the blocked open fails and returns
  ::close(listener);
  EXPECT_TRUE(Eventually([&] { return !deadline.stuck(); }, 10s));
}

// Node 0 deep in reclaim with two idle VMs: two balloon shrinks per cycle.
loop::ObserveFn TwoShrinks() {
  return [](model::TimePoint now) -> Result<model::Observation> {
    model::Observation o;
    o.time = now;
    model::NodeObservation n;
    n.id = 0;
    n.total_bytes = 64ULL << 30;
    n.available_bytes = n.free_bytes = 1ULL << 30;
    o.nodes.push_back(n);
    o.psi_some_avg10 = 0;
    for (const char* name : {"a", "b"}) {
      model::VmObservation v;
      v.name = name;
      v.uuid = std::string("u-") + name;
      v.running = true;
      v.balloon_current_bytes = 8ULL << 30;
      v.guest_available_bytes = 8ULL << 30;
      v.balloon_maximum_bytes = 8ULL << 30;
      v.guest_usable_bytes = 6ULL << 30;
      v.guest_unused_bytes = 6ULL << 30;
      v.guest_stats_time = now;
      v.memory_per_node = {{0, 8ULL << 30}};
      o.vms.push_back(v);
    }
    return o;
  };
}

// Sets the stop flag while applying, as a SIGTERM during the first action would.
class StopDuringApply final : public actuate::Actuator {
 public:
  explicit StopDuringApply(std::atomic<bool>* stop) : stop_(stop) {}
  int applied = 0;
  model::Outcome Apply(const model::Action&) noexcept override {
    ++applied;
    stop_->store(true);
    return {};
  }

 private:
  std::atomic<bool>* stop_;
};

TEST(ControllerLoop, NoActionStartsAfterStopAndTheOneInFlightIsRecorded) {
  TempDir dir;
  const auto file = dir.path / "decisions.jsonl";
  auto log = loop::DecisionLog::Open(file.string()).value();
  std::atomic<bool> stop{false};
  StopDuringApply act(&stop);
  loop::Controller c(TwoShrinks(), act, model::Policy{}, false);
  c.SetStopFlag(&stop);
  c.SetDecisionLog(log.get());
  auto plan = c.RunOnce(model::TimePoint(std::chrono::seconds(100)), std::chrono::system_clock::now());
  ASSERT_EQ(plan.actions.size(), 2u) << model::ToString(plan);
  EXPECT_EQ(act.applied, 1);
  auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 2u);
  auto intent = nlohmann::json::parse(lines[0]), outcome = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(intent["event"], "intent");
  EXPECT_EQ(outcome["event"], "outcome");
  EXPECT_EQ(outcome["id"], intent["id"]);
  EXPECT_EQ(outcome["result"], "applied");
  EXPECT_EQ(intent["action"], model::Summary(plan.actions[0]));

  c.RunOnce(model::TimePoint(std::chrono::seconds(200)), std::chrono::system_clock::now());
  EXPECT_EQ(act.applied, 1);  // stopped: nothing more, ever
  EXPECT_EQ(Lines(file).size(), 2u);
  MetricSink sink;
  c.Collect(sink);
  std::string text = SerializeText(sink.families());
  EXPECT_NE(text.find("kvmem_controller_decision_log_records_total 2\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace kvmem
