// One scrape: run collectors, catch, time, log each distinct failure once.
#include "exporter/exposition/scrape.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/log.h"
#include "common/metrics/text_format.h"
#include "host/procfs/read.h"

namespace kvmem {
namespace {

const FamilyDesc kSuccess{"kvmem_scrape_collector_success",
                          "Whether the collector succeeded in this scrape (1) or met malformed or unreadable data (0).",
                          prometheus::MetricType::Gauge,
                          {"collector"}};
const FamilyDesc kDuration{"kvmem_scrape_collector_duration_seconds",
                           "Time the collector took in this scrape.",
                           prometheus::MetricType::Gauge,
                           {"collector"}};
const FamilyDesc kBuildInfo{"kvmem_exporter_build_info",
                            "Build facts of the running binary. Always 1.",
                            prometheus::MetricType::Gauge,
                            {"program", "version", "compiler"}};

#define KVMEM_STR2(x) #x
#define KVMEM_STR(x) KVMEM_STR2(x)
constexpr const char* kCompiler = "gcc-" KVMEM_STR(__GNUC__) "." KVMEM_STR(__GNUC_MINOR__);

}  // namespace

Scraper::Scraper(std::vector<NamedCollector> collectors, std::string program, std::string version, unsigned threads)
    : program_(std::move(program)), version_(std::move(version)) {
  for (auto& c : collectors) entries_.push_back({std::move(c), {}, {}, 0});
  for (const FamilyDesc* desc : Families()) {
    if (std::string err = ValidateFamily(*desc); !err.empty()) throw std::invalid_argument(err);
  }
  if (threads == 0) threads = std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
  if (threads >= 2 && entries_.size() >= 2) helper_ = std::thread(&Scraper::HelperLoop, this);
}

Scraper::~Scraper() {
  {
    std::lock_guard lock(helper_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (helper_.joinable()) helper_.join();
}

std::vector<const FamilyDesc*> Scraper::Families() const {
  std::vector<const FamilyDesc*> out;
  for (const auto& e : entries_) {
    auto f = e.named.collector->Families();
    out.insert(out.end(), f.begin(), f.end());
  }
  out.insert(out.end(), {&kSuccess, &kDuration, &kBuildInfo});
  return out;
}

void Scraper::RunOne(Entry& e) {
  e.sink = MetricSink();
  auto start = std::chrono::steady_clock::now();
  try {
    e.named.collector->Collect(e.sink);
  } catch (const std::exception& ex) {
    e.sink.Fail({ErrorKind::kIo, std::string("collector threw: ") + ex.what(), {}, 0});
  } catch (...) {
    e.sink.Fail({ErrorKind::kIo, "collector threw an unknown exception", {}, 0});
  }
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Scraper::Drain() {
  procfs::ReadScope scope;  // a file two collectors on this thread read is read once
  for (size_t i = next_.fetch_add(1); i < entries_.size(); i = next_.fetch_add(1)) {
    if (!entries_[i].named.collector->RunsLast()) RunOne(entries_[i]);
  }
}

void Scraper::HelperLoop() {
  uint64_t seen = 0;
  std::unique_lock lock(helper_mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    lock.unlock();
    Drain();
    lock.lock();
    helper_busy_ = false;
    finished_.notify_all();
  }
}

std::vector<prometheus::MetricFamily> Scraper::Collect() {
  std::lock_guard lock(mutex_);
  procfs::ReadScope scope;  // each file is read once per scrape and thread, however many collectors use it
  next_ = 0;
  if (helper_.joinable()) {
    {
      std::lock_guard helper_lock(helper_mutex_);
      ++generation_;
      helper_busy_ = true;
    }
    wake_.notify_one();
  }
  Drain();
  if (helper_.joinable()) {
    std::unique_lock helper_lock(helper_mutex_);
    finished_.wait(helper_lock, [&] { return !helper_busy_; });
  }
  for (auto& e : entries_) {
    if (e.named.collector->RunsLast()) RunOne(e);
  }
  MetricSink out;
  for (auto& e : entries_) {
    LogChanges(e, e.sink.errors());
    for (auto& f : e.sink.families()) out.families().push_back(std::move(f));
  }
  for (const auto& e : entries_) {
    out.Add(kSuccess, {e.named.name}, e.sink.errors().empty() ? 1 : 0);
    out.Add(kDuration, {e.named.name}, e.seconds);
  }
  out.Add(kBuildInfo, {program_, version_, kCompiler}, 1);
  return std::move(out.families());
}

std::string Scraper::ScrapeText() { return SerializeText(Collect()); }

void Scraper::LogChanges(Entry& entry, const std::vector<Error>& errors) {
  std::set<std::string> now;
  for (const auto& e : errors) now.insert(e.ToString());
  for (const auto& msg : now) {
    if (entry.active_errors.insert(msg).second) {
      log::Error("collector failed", {{"collector", entry.named.name}, {"err", msg}});
    }
  }
  for (auto it = entry.active_errors.begin(); it != entry.active_errors.end();) {
    if (now.contains(*it)) {
      ++it;
      continue;
    }
    log::Info("collector recovered", {{"collector", entry.named.name}, {"was", *it}});
    it = entry.active_errors.erase(it);
  }
}

}  // namespace kvmem
