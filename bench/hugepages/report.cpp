// Medians, spreads and ratios as Markdown tables.
#include "bench/hugepages/report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace kvmem::hugepage_bench {
namespace {

std::string Format(int decimals, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

struct Metric {
  const char* header;
  int decimals;
  std::function<double(const RunSample&)> get;
  bool in_summary = true;  // false: only in the raw table
};

const std::vector<Metric>& Metrics() {
  static const std::vector<Metric> metrics = {
      {"ns/access (chase)", 1, [](const RunSample& s) { return s.chase_ns; }},
      {"ns/access wall", 1, [](const RunSample& s) { return s.chase_wall_ns; }},
      {"GB/s read", 2, [](const RunSample& s) { return s.read_gbs; }},
      {"GB/s read wall", 2, [](const RunSample& s) { return s.read_wall_gbs; }, false},
      {"GB/s write", 2, [](const RunSample& s) { return s.write_gbs; }},
      {"GB/s write wall", 2, [](const RunSample& s) { return s.write_wall_gbs; }, false},
      {"CPU s", 3, [](const RunSample& s) { return s.cpu_s; }},
      {"sys s", 3, [](const RunSample& s) { return s.sys_s; }},
      {"wall s", 3, [](const RunSample& s) { return s.wall_s; }},
      {"minor faults", 0, [](const RunSample& s) { return static_cast<double>(s.minor_faults); }},
      {"fault-in ms", 1, [](const RunSample& s) { return s.fault_in_s * 1e3; }},
  };
  return metrics;
}

std::vector<Metric> SummaryMetrics() {
  std::vector<Metric> out;
  for (const auto& m : Metrics())
    if (m.in_summary) out.push_back(m);
  return out;
}

std::vector<std::string> Placements(const std::vector<RunSample>& samples) {
  std::vector<std::string> out;
  for (const auto& s : samples)
    if (std::find(out.begin(), out.end(), s.placement) == out.end()) out.push_back(s.placement);
  return out;
}

std::vector<const RunSample*> Measured(const std::vector<RunSample>& samples, const std::string& placement,
                                       const std::string& mode) {
  std::vector<const RunSample*> out;
  for (const auto& s : samples)
    if (!s.warmup && s.placement == placement && s.mode == mode) out.push_back(&s);
  return out;
}

Spread SpreadOf(const std::vector<const RunSample*>& runs, const Metric& m) {
  std::vector<double> values;
  for (const RunSample* r : runs) values.push_back(m.get(*r));
  return Summarize(std::move(values));
}

std::string Header(const std::vector<std::string>& columns) {
  std::string head = "|", rule = "|";
  for (const auto& c : columns) {
    head += " " + c + " |";
    rule += "---|";
  }
  return head + "\n" + rule + "\n";
}

std::string Row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + c + " |";
  return out + "\n";
}

}  // namespace

Spread Summarize(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

std::string MedianTable(const std::vector<RunSample>& samples, const std::vector<std::string>& modes) {
  std::vector<std::string> columns = {"placement", "mode"};
  for (const auto& m : SummaryMetrics()) columns.push_back(m.header);
  columns.push_back("runs");
  columns.push_back("page size seen");
  std::string out = Header(columns);
  for (const auto& placement : Placements(samples)) {
    std::vector<std::vector<double>> medians;
    for (const auto& mode : modes) {
      auto runs = Measured(samples, placement, mode);
      std::vector<std::string> cells = {placement, mode};
      std::vector<double> row;
      for (const auto& m : SummaryMetrics()) {
        row.push_back(SpreadOf(runs, m).median);
        cells.push_back(Format(m.decimals, row.back()));
      }
      medians.push_back(row);
      cells.push_back(std::to_string(runs.size()));
      cells.push_back(runs.empty() ? "-" : runs.back()->pages_seen);
      out += Row(cells);
    }
    for (size_t i = 1; i < modes.size(); ++i) {
      std::vector<std::string> cells = {placement, modes[i] + "/" + modes[0]};
      for (size_t k = 0; k < medians[i].size(); ++k) {
        cells.push_back(medians[0][k] == 0 ? "-" : Format(2, medians[i][k] / medians[0][k]) + "x");
      }
      cells.push_back("");
      cells.push_back("");
      out += Row(cells);
    }
  }
  return out;
}

std::string SpreadTable(const std::vector<RunSample>& samples, const std::vector<std::string>& modes) {
  std::vector<std::string> columns = {"placement", "mode"};
  for (const auto& m : SummaryMetrics()) columns.push_back(std::string(m.header) + " min-max");
  columns.push_back("invol. ctx switches (median)");
  std::string out = Header(columns);
  for (const auto& placement : Placements(samples)) {
    for (const auto& mode : modes) {
      auto runs = Measured(samples, placement, mode);
      std::vector<std::string> cells = {placement, mode};
      for (const auto& m : SummaryMetrics()) {
        Spread s = SpreadOf(runs, m);
        cells.push_back(Format(m.decimals, s.min) + "-" + Format(m.decimals, s.max));
      }
      Metric switches{"", 0, [](const RunSample& s) { return static_cast<double>(s.invol_switches); }};
      cells.push_back(Format(switches.decimals, SpreadOf(runs, switches).median));
      out += Row(cells);
    }
  }
  return out;
}

std::string RawTable(const std::vector<RunSample>& samples) {
  std::vector<std::string> columns = {"round", "placement", "mode"};
  for (const auto& m : Metrics()) columns.push_back(m.header);
  columns.push_back("fault-in faults");
  columns.push_back("invol. ctx switches");
  std::string out = Header(columns);
  for (const auto& s : samples) {
    std::vector<std::string> cells = {std::to_string(s.round) + (s.warmup ? " (warm-up)" : ""), s.placement, s.mode};
    for (const auto& m : Metrics()) cells.push_back(Format(m.decimals, m.get(s)));
    cells.push_back(std::to_string(s.fault_in_faults));
    cells.push_back(std::to_string(s.invol_switches));
    out += Row(cells);
  }
  return out;
}

}  // namespace kvmem::hugepage_bench
