// Report: the Markdown that `kvmem_sim --all` prints and saves as bench/sim/REPORT.md: per
// scenario one table (metrics by row, kvmem / MOM / Proxmox by column), where kvmem is ahead
// or behind, and the targets checked against the numbers.
// Thread-safe (pure functions). Throws only std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include "bench/sim/metrics.h"
#include "bench/sim/scenario.h"

namespace kvmem::sim {

struct ScenarioResult {
  Scenario scenario;
  bool safe = true;           // SafeAllocationExists
  std::vector<Metrics> runs;  // kvmem first, then the baselines
};

// One scenario: heading, description, the table and the ahead/behind line.
std::string RenderScenario(const ScenarioResult& result);
// The targets of every scenario, PASS or FAIL with the numbers behind them.
std::string RenderTargets(const std::vector<ScenarioResult>& results);
// The whole report: `header` (how it was made), the targets, then every scenario.
std::string RenderReport(const std::vector<ScenarioResult>& results, const std::string& header);

}  // namespace kvmem::sim
