// Scraper: runs the enabled collectors for one scrape, isolates their failures, adds the
// kvmem_scrape_collector_{success,duration_seconds} and build_info families, and serializes.
// Collectors run on two threads where the machine has two CPUs or more (the scrape's thread and
// one helper kept for the Scraper's life), each taking the next collector not yet started, like
// node_exporter's concurrent collectors; RunsLast() collectors run after the others. Output is
// in collector order whichever thread ran what.
// Thread-safe: scrapes are serialized by an internal mutex (collectors are not re-entrant).
// The constructor throws std::invalid_argument if any declared family is malformed (start-up);
// Scrape() never throws except std::bad_alloc: collector exceptions are caught and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/metric_family.h>

#include "exporter/exposition/collector.h"

namespace kvmem {

struct NamedCollector {
  std::string name;
  std::unique_ptr<Collector> collector;
};

class Scraper {
 public:
  // threads: how many run collectors at once; 0 picks min(2, CPUs).
  Scraper(std::vector<NamedCollector> collectors, std::string program, std::string version, unsigned threads = 0);
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  std::vector<prometheus::MetricFamily> Collect();
  std::string ScrapeText();  // Prometheus text format 0.0.4

  // Every family the enabled collectors may emit (plus the self-metrics).
  std::vector<const FamilyDesc*> Families() const;

 private:
  struct Entry {
    NamedCollector named;
    std::set<std::string> active_errors;  // what was logged and has not recovered yet
    MetricSink sink;                      // this scrape's output
    double seconds = 0;
  };
  // Logs each newly seen failure once, and each recovery once.
  void LogChanges(Entry& entry, const std::vector<Error>& errors);
  static void RunOne(Entry& entry);
  // Runs the not-RunsLast entries from next_ on until none is left (both threads call it).
  void Drain();
  void HelperLoop();

  std::vector<Entry> entries_;
  std::string program_, version_;
  std::mutex mutex_;  // one scrape at a time

  // The helper thread: woken per scrape by generation_, reports back through done_.
  std::thread helper_;
  std::mutex helper_mutex_;
  std::condition_variable wake_, finished_;
  uint64_t generation_ = 0;
  bool helper_busy_ = false, stopping_ = false;
  std::atomic<size_t> next_{0};
};

}  // namespace kvmem
