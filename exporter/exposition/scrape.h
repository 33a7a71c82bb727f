// Scraper: runs the enabled collectors for one scrape, isolates their failures, adds the
// kvmem_scrape_collector_{success,duration_seconds} and build_info families, and serializes.
// Thread-safe: scrapes are serialized by an internal mutex (collectors are not re-entrant).
// The constructor throws std::invalid_argument if any declared family is malformed (start-up);
// Scrape() never throws except std::bad_alloc: collector exceptions are caught and counted.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
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
  Scraper(std::vector<NamedCollector> collectors, std::string program, std::string version);

  std::vector<prometheus::MetricFamily> Collect();
  std::string ScrapeText();  // Prometheus text format 0.0.4

  // Every family the enabled collectors may emit (plus the self-metrics).
  std::vector<const FamilyDesc*> Families() const;

 private:
  struct Entry {
    NamedCollector named;
    std::set<std::string> active_errors;  // what was logged and has not recovered yet
  };
  // Logs each newly seen failure once, and each recovery once.
  void LogChanges(Entry& entry, const std::vector<Error>& errors);

  std::vector<Entry> entries_;
  std::string program_, version_;
  std::mutex mutex_;
};

}  // namespace kvmem
