// The pressure collector: memory PSI ("some" and "full").
#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/psi.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kStalled{"kvmem_memory_pressure_stalled_seconds_total",
                          "Time tasks stalled on memory (/proc/pressure/memory total); kind some: at least one task, "
                          "full: all non-idle tasks.",
                          kCounter,
                          {"kind"}};
const FamilyDesc kAvg10{"kvmem_memory_pressure_avg10_ratio",
                        "Share of the last 10 s that tasks stalled on memory (PSI avg10 / 100).",
                        kGauge,
                        {"kind"}};
const FamilyDesc kAvg60{"kvmem_memory_pressure_avg60_ratio",
                        "Share of the last 60 s that tasks stalled on memory (PSI avg60 / 100).",
                        kGauge,
                        {"kind"}};
const FamilyDesc kAvg300{"kvmem_memory_pressure_avg300_ratio",
                         "Share of the last 300 s that tasks stalled on memory (PSI avg300 / 100).",
                         kGauge,
                         {"kind"}};

class PressureCollector final : public Collector {
 public:
  explicit PressureCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    auto psi = procfs::ReadMemoryPressure(root_);
    if (!psi) return out.Fail(psi.error());
    for (auto [kind, line] : {std::pair{"some", &psi->some}, std::pair{"full", &psi->full}}) {
      if (!*line) continue;
      const auto& p = **line;
      out.Add(kStalled, {kind}, static_cast<double>(p.total_us) / 1e6);
      out.Add(kAvg10, {kind}, p.avg10);
      out.Add(kAvg60, {kind}, p.avg60);
      out.Add(kAvg300, {kind}, p.avg300);
    }
  }

  std::vector<const FamilyDesc*> Families() const override { return {&kStalled, &kAvg10, &kAvg60, &kAvg300}; }

 private:
  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakePressureCollector(const procfs::Root& root) {
  return std::make_unique<PressureCollector>(root);
}

}  // namespace kvmem::collectors
