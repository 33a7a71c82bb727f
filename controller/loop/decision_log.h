// DecisionLog: the controller's durable record of what it set out to do and how it ended
// (--decision-log.file), as JSON lines: an "intent" record just before an action is applied and
// an "outcome" record right after, sharing an id. Each record is one write() of a whole line to
// an O_APPEND descriptor followed by fdatasync(), so an intent is on disk before the action
// touches the host. A failed write (ENOSPC, EIO, a read-only remount) never stops the loop: a
// partial line is cut off again, the failure is counted, logged once per streak, and the next
// record is tried as usual, so writing resumes by itself when space returns. Outcomes that could
// not be written are kept (up to 1000) and written first then, so that their intents are not
// mistaken for interrupted actions.
// At start-up Recover() reads the file's tail: an intent without an outcome means the previous
// process died mid-action. It is logged, counted and closed with an outcome of "unknown"; the
// controller never assumes it happened (the next observation reads libvirt and sysfs).
// Generic over model::Action (Summary, ActuatorOf, ReasonOf only).
// Thread-safety: Intent/Finish/Recover/Reopen from the loop thread; Collect from any thread.
// Open() and the writers throw only std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/sink.h"
#include "common/result.h"
#include "controller/model/action.h"

namespace kvmem::loop {

class DecisionLog {
 public:
  using WallTime = std::chrono::system_clock::time_point;

  // Opens (creating it with mode 0640) `path` for appending. A kConfig error names the path.
  static Result<std::unique_ptr<DecisionLog>> Open(const std::string& path);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // An action the previous process started and never recorded the end of.
  struct Unfinished {
    std::string id;
    std::string time;    // when its intent was written
    std::string action;  // model::Summary
    std::string rule;
    bool dry_run = false;
  };
  struct Recovery {
    std::vector<Unfinished> unfinished;
    uint64_t records = 0;    // well-formed records read from the tail
    uint64_t malformed = 0;  // lines that are not a decision record (torn or foreign)
  };
  // Reads at most the last `tail_bytes` of the file; logs and counts each unfinished action
  // and appends an "unknown" outcome for it, so the next start does not report it again.
  Recovery Recover(size_t tail_bytes = 1 << 20);

  // Writes the intent record; returns the id to pass to Finish().
  std::string Intent(const model::Action& action, bool dry_run, WallTime now);
  // Writes the outcome record: result "applied", "dry_run" or "failed" (with the error).
  void Finish(const std::string& id, const model::Action& action, const model::Outcome& outcome, bool dry_run,
              WallTime now);
  // Closes and reopens the path (after a rename by log rotation; SIGHUP). Keeps the old
  // descriptor when the path cannot be opened, and says so in the log.
  void Reopen();

  void Collect(MetricSink& out) const;
  static std::vector<const FamilyDesc*> Families();

  uint64_t write_failures() const;
  const std::string& path() const { return path_; }

  // The record as one line (no newline), with invalid UTF-8 replaced; exposed for tests.
  static std::string IntentLine(const std::string& id, const model::Action& action, bool dry_run, WallTime now);
  static std::string OutcomeLine(const std::string& id, const model::Action& action, const model::Outcome& outcome,
                                 bool dry_run, WallTime now);

 private:
  DecisionLog(std::string path, int fd);
  std::string Append(const std::string& record);     // loop thread only; "" when written
  void Write(const std::string& record, bool keep);  // keep: retry it after a failure
  static constexpr size_t kMaxPending = 1000;        // outcomes kept while writes fail

  const std::string path_;
  int fd_;
  const std::string run_;  // id prefix unique to this process: start time in ms and pid
  uint64_t seq_ = 0;
  bool failing_ = false;             // inside a streak of failed writes (logged once)
  std::deque<std::string> pending_;  // outcomes not yet written, oldest first

  mutable std::mutex mutex_;  // guards the counters
  uint64_t written_ = 0, failures_ = 0, interrupted_ = 0, dropped_ = 0;
  bool writable_ = true;
};

// "2024-05-01T10:00:00.123Z".
std::string Rfc3339Millis(DecisionLog::WallTime t);

}  // namespace kvmem::loop
