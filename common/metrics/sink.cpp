// Sample accumulation into prometheus-cpp MetricFamily values.
#include "common/metrics/sink.h"

#include <cassert>

#include <prometheus/check_names.h>

namespace kvmem {

namespace {
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

std::string ValidateFamily(const FamilyDesc& desc) {
  if (!prometheus::CheckMetricName(desc.name)) return "invalid metric name " + desc.name;
  if (desc.help.empty()) return desc.name + " has no help text";
  bool counter = desc.type == prometheus::MetricType::Counter;
  if (counter != EndsWith(desc.name, "_total")) {
    return desc.name + (counter ? ": counters must end in _total" : ": only counters may end in _total");
  }
  for (const auto& label : desc.labels) {
    if (!prometheus::CheckLabelName(label)) {
      return desc.name + ": invalid label name " + label;
    }
  }
  return {};
}

void MetricSink::Add(const FamilyDesc& desc, std::initializer_list<std::string_view> label_values, double value) {
  assert(label_values.size() == desc.labels.size());
  if (!omitted_.empty() && omitted_.contains(&desc)) return;
  auto [it, inserted] = index_.try_emplace(&desc, families_.size());
  if (inserted) {
    prometheus::MetricFamily family;
    family.name = desc.name;
    family.help = desc.help;
    family.type = desc.type;
    families_.push_back(std::move(family));
  }
  prometheus::ClientMetric metric;
  metric.label.reserve(desc.labels.size());
  size_t i = 0;
  for (std::string_view v : label_values) {
    if (i >= desc.labels.size()) break;
    metric.label.push_back({desc.labels[i++], std::string(v)});
  }
  if (desc.type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  families_[it->second].metric.push_back(std::move(metric));
}

void MetricSink::Fail(const Error& error) {
  if (error.kind == ErrorKind::kNotFound) return;
  errors_.push_back(error);
}

}  // namespace kvmem
