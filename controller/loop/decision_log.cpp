// The decision log: JSON lines, one write() + fdatasync() per record, tail recovery.
#include "controller/loop/decision_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace kvmem::loop {
namespace {

using prometheus::MetricType;
const FamilyDesc kWritten{"kvmem_controller_decision_log_records_total",
                          "Records written to the decision log (--decision-log.file).",
                          MetricType::Counter,
                          {}};
const FamilyDesc kFailures{
    "kvmem_controller_decision_log_write_failures_total",
    "Decision log records that could not be written (ENOSPC, EIO...); the loop goes on without them.",
    MetricType::Counter,
    {}};
const FamilyDesc kWritable{"kvmem_controller_decision_log_writable",
                           "1 when the last decision log write succeeded, 0 while writes fail.",
                           MetricType::Gauge,
                           {}};
const FamilyDesc kInterrupted{"kvmem_controller_interrupted_actions_total",
                              "Actions the previous process recorded the intent of but not the outcome (it died "
                              "mid-action), found in the decision log at start.",
                              MetricType::Counter,
                              {}};

constexpr int kMode = 0640;

int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kMode);
}

std::string Dump(const nlohmann::json& j) {
  // Domain names are the user's: never let invalid UTF-8 throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json Common(const char* event, const std::string& id, const model::Action& action, bool dry_run,
                      DecisionLog::WallTime now) {
  const auto& reason = model::ReasonOf(action);
  return nlohmann::json{{"time", Rfc3339Millis(now)},
                        {"event", event},
                        {"id", id},
                        {"action", model::Summary(action)},
                        {"actuator", std::string(model::ActuatorOf(action))},
                        {"rule", reason.rule},
                        {"dry_run", dry_run}};
}

std::string RunId() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  return std::to_string(ms.count()) + "-" + std::to_string(::getpid());
}

// The last `tail` bytes of the file at `path`, from the first whole line; "" when unreadable.
std::string ReadTail(const std::string& path, size_t tail, std::string* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = std::strerror(errno);
    return {};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *err = std::strerror(errno);
    ::close(fd);
    return {};
  }
  const auto size = static_cast<size_t>(st.st_size);
  const size_t from = size > tail ? size - tail : 0;
  std::string text(size - from, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  if (from > 0) {
    auto nl = text.find('\n');
    text.erase(0, nl == std::string::npos ? text.size() : nl + 1);
  }
  return text;
}

}  // namespace

std::string Rfc3339Millis(DecisionLog::WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the format could print, so -Wformat-truncation is satisfied
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

Result<std::unique_ptr<DecisionLog>> DecisionLog::Open(const std::string& path) {
  int fd = OpenAppend(path);
  if (fd < 0) {
    return Fail(ErrorKind::kConfig,
                std::string("--decision-log.file: cannot open for appending: ") + std::strerror(errno) +
                    " (create its directory, or make it writable by this user)",
                path);
  }
  // A line torn by a crash (no newline at the end) must not swallow the next record.
  struct stat st {};
  char last = '\n';
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    int rd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rd >= 0) {
      if (::pread(rd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rd);
    }
  }
  if (last != '\n' && ::write(fd, "\n", 1) != 1) {
    log::Warn("cannot end the decision log's torn last line", {{"file", path}, {"err", std::strerror(errno)}});
  }
  return std::unique_ptr<DecisionLog>(new DecisionLog(path, fd));
}

DecisionLog::DecisionLog(std::string path, int fd) : path_(std::move(path)), fd_(fd), run_(RunId()) {}

DecisionLog::~DecisionLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string DecisionLog::IntentLine(const std::string& id, const model::Action& action, bool dry_run, WallTime now) {
  auto j = Common("intent", id, action, dry_run, now);
  const auto& reason = model::ReasonOf(action);
  j["threshold"] = reason.threshold;
  j["reason"] = reason.text;
  return Dump(j);
}

std::string DecisionLog::OutcomeLine(const std::string& id, const model::Action& action, const model::Outcome& outcome,
                                     bool dry_run, WallTime now) {
  auto j = Common("outcome", id, action, dry_run, now);
  j["result"] = !outcome.ok ? "failed" : outcome.dry_run ? "dry_run" : "applied";
  j["error"] = outcome.error;
  j["duration_seconds"] = std::chrono::duration<double>(outcome.duration).count();
  return Dump(j);
}

std::string DecisionLog::Intent(const model::Action& action, bool dry_run, WallTime now) {
  std::string id = run_ + "-" + std::to_string(++seq_);
  Write(IntentLine(id, action, dry_run, now), false);
  return id;
}

void DecisionLog::Finish(const std::string& id, const model::Action& action, const model::Outcome& outcome,
                         bool dry_run, WallTime now) {
  Write(OutcomeLine(id, action, outcome, dry_run, now), true);
}

// One write() of the whole line, then fdatasync(): the record is on disk before the action
// runs. A short write (the disk filled up mid-line) is cut off again so that the file stays
// a sequence of whole lines and the next record starts on its own line. "" when written.
std::string DecisionLog::Append(const std::string& record) {
  std::string line = record + '\n';
  struct stat st {};
  const bool sized = ::fstat(fd_, &st) == 0;
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::string("write: ") + std::strerror(errno);
  if (static_cast<size_t>(n) != line.size()) {
    std::string err =
        "short write (" + std::to_string(n) + " of " + std::to_string(line.size()) + " bytes; disk full?)";
    if (sized && ::ftruncate(fd_, st.st_size) != 0)
      err += "; cutting it off failed: " + std::string(std::strerror(errno));
    return err;
  }
  if (::fdatasync(fd_) != 0) return std::string("fdatasync: ") + std::strerror(errno);
  return {};
}

// Outcomes that could not be written are kept and written first once writing works again:
// an intent left without its outcome would read as an interrupted action at the next start.
// Lost intents are only counted: an outcome without its intent misleads no one.
void DecisionLog::Write(const std::string& record, bool keep) {
  std::string err;
  uint64_t flushed = 0;
  while (err.empty() && !pending_.empty()) {
    err = Append(pending_.front());
    if (err.empty()) {
      pending_.pop_front();
      ++flushed;
    }
  }
  if (err.empty()) err = Append(record);
  std::lock_guard lock(mutex_);
  written_ += flushed;
  if (err.empty()) {
    ++written_;
    writable_ = true;
    if (failing_) {
      log::Info("decision log writable again", {{"file", path_},
                                                {"failed_records", std::to_string(failures_)},
                                                {"late_outcomes", std::to_string(flushed)},
                                                {"dropped_outcomes", std::to_string(dropped_)}});
    }
    failing_ = false;
    return;
  }
  ++failures_;
  writable_ = false;
  if (keep) {
    if (pending_.size() >= kMaxPending) {
      pending_.pop_front();
      ++dropped_;
    }
    pending_.push_back(record);
  }
  if (!failing_) {
    log::Error(
        "cannot write the decision log; the controller goes on, counting the lost records "
        "(logged once until a write succeeds)",
        {{"file", path_}, {"err", err}});
  }
  failing_ = true;
}

DecisionLog::Recovery DecisionLog::Recover(size_t tail_bytes) {
  Recovery r;
  std::string err;
  std::string text = ReadTail(path_, tail_bytes, &err);
  if (!err.empty()) {
    log::Warn("cannot read the decision log back", {{"file", path_}, {"err", err}});
    return r;
  }
  std::map<std::string, Unfinished> open;  // by id
  std::vector<std::string> order;          // ids in the order their intents appear
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("event") || !j.contains("id") || !j["event"].is_string() ||
        !j["id"].is_string()) {
      ++r.malformed;
      continue;
    }
    ++r.records;
    const std::string id = j["id"].get<std::string>();
    if (j["event"] == "intent") {
      Unfinished u;
      u.id = id;
      u.time = j.value("time", "");
      u.action = j.value("action", "");
      u.rule = j.value("rule", "");
      u.dry_run = j.value("dry_run", false);
      open[id] = std::move(u);
      order.push_back(id);
    } else if (j["event"] == "outcome") {
      open.erase(id);
    }
  }
  if (r.malformed > 0) {
    log::Warn("decision log: lines that are not decision records were skipped",
              {{"file", path_}, {"lines", std::to_string(r.malformed)}});
  }
  for (const auto& id : order) {
    auto it = open.find(id);
    if (it == open.end()) continue;
    Unfinished u = std::move(it->second);
    open.erase(it);
    log::Warn(
        "the previous run ended during an action; its outcome is unknown, so nothing is assumed: "
        "the host is observed again before any decision",
        {{"action", u.action},
         {"rule", u.rule},
         {"started", u.time},
         {"id", u.id},
         {"dry_run", u.dry_run ? "true" : "false"}});
    nlohmann::json j{{"time", Rfc3339Millis(std::chrono::system_clock::now())},
                     {"event", "outcome"},
                     {"id", u.id},
                     {"action", u.action},
                     {"rule", u.rule},
                     {"dry_run", u.dry_run},
                     {"result", "unknown"},
                     {"error", "the process ended before the outcome was recorded (found at start-up)"}};
    Write(Dump(j), true);
    r.unfinished.push_back(std::move(u));
  }
  log::Info("decision log read back", {{"file", path_},
                                       {"records", std::to_string(r.records)},
                                       {"interrupted_actions", std::to_string(r.unfinished.size())}});
  std::lock_guard lock(mutex_);
  interrupted_ += r.unfinished.size();
  return r;
}

void DecisionLog::Reopen() {
  int fd = OpenAppend(path_);
  if (fd < 0) {
    log::Error("cannot reopen the decision log; writing on to the old file",
               {{"file", path_}, {"err", std::strerror(errno)}});
    return;
  }
  ::close(fd_);
  fd_ = fd;
  log::Info("decision log reopened", {{"file", path_}});
}

uint64_t DecisionLog::write_failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

std::vector<const FamilyDesc*> DecisionLog::Families() { return {&kWritten, &kFailures, &kWritable, &kInterrupted}; }

void DecisionLog::Collect(MetricSink& out) const {
  std::lock_guard lock(mutex_);
  out.Add(kWritten, {}, static_cast<double>(written_));
  out.Add(kFailures, {}, static_cast<double>(failures_));
  out.Add(kWritable, {}, writable_ ? 1 : 0);
  out.Add(kInterrupted, {}, static_cast<double>(interrupted_));
}

}  // namespace kvmem::loop
