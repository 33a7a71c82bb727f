// One scrape: run collectors, catch, time, log each distinct failure once.
#include "exporter/exposition/scrape.h"

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

Scraper::Scraper(std::vector<NamedCollector> collectors, std::string program, std::string version)
    : program_(std::move(program)), version_(std::move(version)) {
  for (auto& c : collectors) entries_.push_back({std::move(c), {}});
  for (const FamilyDesc* desc : Families()) {
    if (std::string err = ValidateFamily(*desc); !err.empty()) throw std::invalid_argument(err);
  }
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

std::vector<prometheus::MetricFamily> Scraper::Collect() {
  std::lock_guard lock(mutex_);
  procfs::ReadScope scope;  // each file is read once per scrape, however many collectors use it
  MetricSink out;
  std::vector<std::pair<std::string, std::pair<bool, double>>> results;
  for (auto& e : entries_) {
    MetricSink sink;
    auto start = std::chrono::steady_clock::now();
    try {
      e.named.collector->Collect(sink);
    } catch (const std::exception& ex) {
      sink.Fail({ErrorKind::kIo, std::string("collector threw: ") + ex.what(), {}, 0});
    } catch (...) {
      sink.Fail({ErrorKind::kIo, "collector threw an unknown exception", {}, 0});
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    LogChanges(e, sink.errors());
    results.push_back({e.named.name, {sink.errors().empty(), seconds}});
    for (auto& f : sink.families()) out.families().push_back(std::move(f));
  }
  for (const auto& [name, r] : results) {
    out.Add(kSuccess, {name}, r.first ? 1 : 0);
    out.Add(kDuration, {name}, r.second);
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
