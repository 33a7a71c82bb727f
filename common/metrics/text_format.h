// Prometheus text exposition format 0.0.4 for gauge and counter families.
// prometheus-cpp's TextSerializer formats every number through an ostream, which took a third
// of a scrape's CPU; this writer uses std::to_chars (integers exactly, other values as the
// shortest string that round-trips). A test checks both give the same samples.
// Pure and thread-safe; throws only std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace kvmem {

std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace kvmem
