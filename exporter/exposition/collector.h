// The Collector interface: one subject (numa, hugepages, ksm, ...) read into a MetricSink.
// Collect() is called from the scrape, possibly from different threads but never
// concurrently for one instance. It should not throw; the scrape catches anyway.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/metrics/sink.h"

namespace kvmem {

class Collector {
 public:
  virtual ~Collector() = default;
  // Emits what it can; records each failure with out.Fail(). Missing files are no data.
  virtual void Collect(MetricSink& out) = 0;
  // Every family Collect() may emit, for start-up validation and the metrics reference.
  virtual std::vector<const FamilyDesc*> Families() const = 0;
  // True when Collect() reads what other collectors gathered in the same scrape (host_check
  // reads the libvirt collector's VMs): it runs after all the others, never beside them.
  virtual bool RunsLast() const { return false; }
};

}  // namespace kvmem
