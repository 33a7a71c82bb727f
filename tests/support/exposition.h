// Test helpers: run collectors on a fixture root and render deterministic, sorted exposition.
#pragma once

#include <string>
#include <vector>

#include "exporter/collectors/collectors.h"
#include "exporter/exposition/scrape.h"

namespace kvmem::testing {

inline std::string FixtureHost(const std::string& scenario) {
  return std::string(KVMEM_FIXTURES) + "/hosts/" + scenario;
}

// A Scraper over every host collector (not libvirt) reading the fixture scenario.
inline Scraper HostScraper(const std::string& scenario) {
  collectors::CollectorContext ctx;
  ctx.root = {FixtureHost(scenario) + "/proc", FixtureHost(scenario) + "/sys"};
  std::vector<NamedCollector> list;
  for (const auto& c : collectors::AllCollectors()) {
    if (c.name == "libvirt") continue;
    list.push_back({c.name, c.make(ctx)});
  }
  return Scraper(std::move(list), "kvmem_exporter", "test");
}

// Exposition text without the lines that vary from run to run (durations, compiler), sorted
// so that golden files diff cleanly. HELP/TYPE lines sort to the top of each family.
std::string StableExposition(Scraper& scraper);

// The value of the sample whose line starts with `series` (e.g. `kvmem_x{node="0"}`),
// or NaN when absent.
double SampleValue(const std::string& exposition, const std::string& series);

}  // namespace kvmem::testing
