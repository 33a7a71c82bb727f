// MetricSink: what a collector writes samples into during one scrape; FamilyDesc: the
// declared shape (name, help, type, label names) of every family a collector may emit.
// A MetricSink belongs to one scrape on one thread: not thread-safe. Add() throws only
// std::bad_alloc; a label-count mismatch is a programming error caught by tests (assert).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "common/result.h"

namespace kvmem {

struct FamilyDesc {
  std::string name;
  std::string help;
  prometheus::MetricType type = prometheus::MetricType::Gauge;
  std::vector<std::string> labels;
};

// Checks names against Prometheus' rules and our conventions (counters end in _total, nothing
// else does). Returns an error message, or "" when the family is well formed.
std::string ValidateFamily(const FamilyDesc& desc);

class MetricSink {
 public:
  void Add(const FamilyDesc& desc, std::initializer_list<std::string_view> label_values, double value);
  template <class T>
  void Add(const FamilyDesc& desc, std::initializer_list<std::string_view> label_values,
           const std::optional<T>& value) {
    if (value) Add(desc, label_values, static_cast<double>(*value));
  }

  // Drops every later Add() of `desc`: for a collector told to serve fewer families than it
  // declares (the libvirt collector under --collector.libvirt.vm-detail=fleet).
  void Omit(const FamilyDesc& desc) { omitted_.insert(&desc); }

  // Records why this collector is not fully successful; it goes on emitting what it can.
  // A kNotFound error is not a failure ("the kernel lacks it") and is ignored.
  void Fail(const Error& error);

  const std::vector<Error>& errors() const { return errors_; }
  std::vector<prometheus::MetricFamily>& families() { return families_; }

 private:
  std::map<const FamilyDesc*, size_t> index_;
  std::set<const FamilyDesc*> omitted_;
  std::vector<prometheus::MetricFamily> families_;
  std::vector<Error> errors_;
};

}  // namespace kvmem
