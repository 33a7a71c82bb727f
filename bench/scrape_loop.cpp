// In-process scrape loop over this host's /proc and /sys (no HTTP), for profiling with
// valgrind --tool=callgrind. Usage: kvmem_scrape_loop [ITERATIONS]; prints the median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/log.h"
#include "exporter/collectors/collectors.h"
#include "exporter/exposition/scrape.h"

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  kvmem::collectors::CollectorContext ctx;
  std::vector<kvmem::NamedCollector> list;
  for (const auto& c : kvmem::collectors::AllCollectors()) {
    if (c.enabled_by_default && c.name != "libvirt") list.push_back({c.name, c.make(ctx)});
  }
  kvmem::Scraper scraper(std::move(list), "bench", "0");
  std::vector<double> us;
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    bytes += scraper.ScrapeText().size();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("median %.1f us per scrape, %zu bytes\n", us[us.size() / 2], bytes / static_cast<size_t>(n));
}
