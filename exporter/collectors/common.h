// Small helpers shared by the collector files. Header-only.
#pragma once

#include <string>
#include <vector>

#include <unistd.h>

#include "common/metrics/sink.h"

namespace kvmem::collectors {

constexpr auto kGauge = prometheus::MetricType::Gauge;
constexpr auto kCounter = prometheus::MetricType::Counter;

inline double PageSizeBytes() {
  static const double size = static_cast<double>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Pointers to each element, for Collector::Families().
template <class Container>
void AppendDescs(std::vector<const FamilyDesc*>& out, const Container& c) {
  for (const auto& d : c) out.push_back(&d);
}

}  // namespace kvmem::collectors
