// Builders for controller tests: observations, nodes and VMs with readable defaults, fixed
// times, and small helpers to run Decide on them. Header-only. Not thread-safe. Throws only
// std::bad_alloc.
//
// Defaults: a node has 64 GiB, 9.6 GiB available (15%: the dead band of the default policy,
// whose band on 64 GiB is [6.4 GiB, 12.8 GiB]), no free huge-page problem (index -1).
// A VM "web" has uuid "uuid-web", runs with an 8 GiB balloon of 8 GiB maximum, a guest that
// sees all of it with 4 GiB usable and 2 GiB unused, and stats as fresh as the observation.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"
#include "controller/model/units.h"
#include "controller/policy/decide.h"
#include "controller/policy/state.h"
#include "controller/policy/window.h"

namespace kvmem::test {

using model::kGiB;
using model::kMiB;
using std::chrono::seconds;

// An arbitrary fixed epoch, far from zero so that "60 s ago" never goes negative.
inline constexpr model::TimePoint kT0{std::chrono::hours{1000}};
inline model::TimePoint At(double s) { return kT0 + model::Duration{static_cast<int64_t>(s * 1000.0)}; }
inline uint64_t GiB(double g) { return static_cast<uint64_t>(g * static_cast<double>(kGiB)); }
inline uint64_t MiB(double m) { return static_cast<uint64_t>(m * static_cast<double>(kMiB)); }

class NodeBuilder {
 public:
  explicit NodeBuilder(int id = 0) {
    n_.id = id;
    n_.total_bytes = 64 * kGiB;
    n_.available_bytes = GiB(9.6);
    n_.free_bytes = n_.available_bytes;
    n_.fragmentation_index = -1;
    n_.unusable_ratio = 0;
  }
  NodeBuilder& Total(uint64_t b) {
    n_.total_bytes = b;
    return *this;
  }
  // Sets available and, unless Free() is called later, free to the same value.
  NodeBuilder& Available(uint64_t b) {
    n_.available_bytes = b;
    n_.free_bytes = b;
    return *this;
  }
  NodeBuilder& Free(uint64_t b) {
    n_.free_bytes = b;
    return *this;
  }
  NodeBuilder& Frag(double index) {
    n_.fragmentation_index = index;
    return *this;
  }
  NodeBuilder& NoFrag() {
    n_.fragmentation_index.reset();
    return *this;
  }
  NodeBuilder& NoMemory() {
    n_.has_memory = false;
    return *this;
  }
  NodeBuilder& NoCpus() {
    n_.has_cpus = false;
    return *this;
  }
  // A hugepage pool of `total` pages of `page` bytes, `free` of them free.
  NodeBuilder& Pool(uint64_t page, uint64_t total, uint64_t free) {
    n_.hugepages.push_back({page, total, free, 0});
    return *this;
  }
  model::NodeObservation Build() const { return n_; }

 private:
  model::NodeObservation n_;
};

class VmBuilder {
 public:
  explicit VmBuilder(std::string name = "web") {
    vm_.uuid = "uuid-" + name;
    vm_.name = std::move(name);
    vm_.running = true;
    vm_.balloon_current_bytes = 8 * kGiB;
    vm_.balloon_maximum_bytes = 8 * kGiB;
    vm_.guest_usable_bytes = 4 * kGiB;
    vm_.guest_unused_bytes = 2 * kGiB;
  }
  VmBuilder& Uuid(std::string u) {
    vm_.uuid = std::move(u);
    return *this;
  }
  VmBuilder& Balloon(uint64_t current, uint64_t maximum) {
    vm_.balloon_current_bytes = current;
    vm_.balloon_maximum_bytes = maximum;
    return *this;
  }
  VmBuilder& GuestAvailable(uint64_t b) {
    guest_available_ = b;
    return *this;
  }
  VmBuilder& Usable(uint64_t b) {
    vm_.guest_usable_bytes = b;
    return *this;
  }
  VmBuilder& Unused(uint64_t b) {
    vm_.guest_unused_bytes = b;
    return *this;
  }
  VmBuilder& StatsAge(model::Duration age) {
    stats_age_ = age;
    return *this;
  }
  VmBuilder& NoStatsTime() {
    stats_age_.reset();
    return *this;
  }
  VmBuilder& NoStats() {
    no_stats_ = true;
    return *this;
  }
  VmBuilder& On(std::map<int, uint64_t> per_node) {
    vm_.memory_per_node = std::move(per_node);
    return *this;
  }
  VmBuilder& Priority(int p) {
    vm_.priority = p;
    return *this;
  }
  VmBuilder& MinGuarantee(uint64_t b) {
    vm_.min_guarantee_bytes = b;
    return *this;
  }
  VmBuilder& SwapIn(uint64_t total) {
    vm_.swap_in_bytes_total = total;
    return *this;
  }
  VmBuilder& MajorFaults(uint64_t total) {
    vm_.major_faults_total = total;
    return *this;
  }
  VmBuilder& NotRunning() {
    vm_.running = false;
    return *this;
  }
  // Defined and shut off; `autostart` makes its hugepage demand future demand.
  VmBuilder& Stopped(bool autostart) {
    vm_.running = false;
    vm_.stopped = true;
    vm_.autostart = autostart;
    return *this;
  }
  VmBuilder& Hugepages(int node, uint64_t page, uint64_t bytes) {
    vm_.hugepage_demand.push_back({node, page, bytes});
    return *this;
  }
  VmBuilder& Vcpus(std::map<int, uint64_t> per_node) {
    vm_.vcpus_per_node = std::move(per_node);
    return *this;
  }
  VmBuilder& Pid(int pid) {
    vm_.qemu_pid = pid;
    return *this;
  }
  VmBuilder& Cgroup(model::VmCgroup cg) {
    vm_.cgroup = std::move(cg);
    return *this;
  }
  VmBuilder& PlacementFixed() {
    vm_.placement_fixed = true;
    return *this;
  }
  VmBuilder& VirtioMem(std::string alias, int node, uint64_t size, uint64_t block, uint64_t requested,
                       uint64_t current) {
    vm_.virtio_mem.push_back({std::move(alias), node, size, block, requested, current});
    return *this;
  }
  // The VM as observed at `now`.
  model::VmObservation Build(model::TimePoint now) const {
    model::VmObservation vm = vm_;
    if (no_stats_) {
      vm.guest_usable_bytes.reset();
      vm.guest_unused_bytes.reset();
      return vm;
    }
    vm.guest_available_bytes = guest_available_.value_or(vm.balloon_current_bytes);
    if (stats_age_) vm.guest_stats_time = now - *stats_age_;
    return vm;
  }

 private:
  model::VmObservation vm_;
  std::optional<uint64_t> guest_available_;
  std::optional<model::Duration> stats_age_ = model::Duration{0};
  bool no_stats_ = false;
};

class ObservationBuilder {
 public:
  explicit ObservationBuilder(model::TimePoint at = kT0) {
    obs_.time = at;
    obs_.psi_some_avg10 = 0;
    obs_.thp_fault_fallback_total = 0;
  }
  ObservationBuilder& Time(model::TimePoint at) {
    obs_.time = at;
    return *this;
  }
  ObservationBuilder& Node(const NodeBuilder& n) {
    obs_.nodes.push_back(n.Build());
    return *this;
  }
  ObservationBuilder& Vm(const VmBuilder& v) {
    vms_.push_back(v);
    return *this;
  }
  ObservationBuilder& Psi(double ratio) {
    obs_.psi_some_avg10 = ratio;
    return *this;
  }
  ObservationBuilder& NoPsi() {
    obs_.psi_some_avg10.reset();
    return *this;
  }
  ObservationBuilder& Reserved(uint64_t page, uint64_t pages) {
    obs_.hugepages_reserved_pages[page] = pages;
    return *this;
  }
  ObservationBuilder& DefaultHugepage(uint64_t page) {
    obs_.default_hugepage_bytes = page;
    return *this;
  }
  ObservationBuilder& Swap(model::SwapObservation swap) {
    obs_.swap = swap;
    return *this;
  }
  ObservationBuilder& ThpFallbacks(uint64_t total) {
    obs_.thp_fault_fallback_total = total;
    return *this;
  }
  model::Observation Build() const {
    model::Observation o = obs_;
    if (o.nodes.empty()) o.nodes.push_back(NodeBuilder(0).Build());
    for (const auto& v : vms_) o.vms.push_back(v.Build(o.time));
    return o;
  }

 private:
  model::Observation obs_;
  std::vector<VmBuilder> vms_;
};

// One node and its VMs at time `t` (seconds after kT0).
inline model::Observation One(const NodeBuilder& node, const std::vector<VmBuilder>& vms = {}, double t = 0) {
  ObservationBuilder b(At(t));
  b.Node(node);
  for (const auto& v : vms) b.Vm(v);
  return b.Build();
}

// Observations every 10 s from 0 to `until` of the same node and VMs.
inline std::vector<model::Observation> Held(int until, const NodeBuilder& node,
                                            const std::vector<VmBuilder>& vms = {}) {
  std::vector<model::Observation> out;
  for (int t = 0; t <= until; t += 10) out.push_back(One(node, vms, t));
  return out;
}

// A window sized for `policy` holding `observations` in order.
inline policy::Window WindowOf(const std::vector<model::Observation>& observations, const model::Policy& p = {}) {
  policy::Window w(policy::RequiredKeep(p));
  for (const auto& o : observations) w.Push(o);
  return w;
}

inline model::Plan DecideOn(const std::vector<model::Observation>& observations,
                            const policy::ControllerState& state = {}, const model::Policy& p = {}) {
  return policy::Decide(WindowOf(observations, p), state, p);
}

inline model::Plan DecideOn(const model::Observation& obs, const policy::ControllerState& state = {},
                            const model::Policy& p = {}) {
  return DecideOn(std::vector<model::Observation>{obs}, state, p);
}

// Summary() of every action, in order: {"balloon web: 8 GiB -> 7.5 GiB"}.
inline std::vector<std::string> Actions(const model::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.actions) out.push_back(model::Summary(a));
  return out;
}

// Skip::ToString() of every skip, in order.
inline std::vector<std::string> Skips(const model::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.skips) out.push_back(s.ToString());
  return out;
}

// Skips about `subject` only (e.g. "vm web"), as "rule: reason".
inline std::vector<std::string> SkipsFor(const model::Plan& plan, const std::string& subject) {
  std::vector<std::string> out;
  for (const auto& s : plan.skips) {
    if (s.subject == subject) out.push_back(s.rule + ": " + s.reason);
  }
  return out;
}

// One row of a decision table: observations in, the exact plan (actions, then skips) out.
struct Row {
  std::string name;
  std::vector<model::Observation> obs;
  std::vector<std::string> actions;
  std::vector<std::string> skips;
  model::Policy policy = {};
  policy::ControllerState state = {};
};

// Decides on each row and checks its actions and skips word for word.
inline void RunTable(const std::vector<Row>& rows) {
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    const model::Plan plan = DecideOn(r.obs, r.state, r.policy);
    EXPECT_EQ(Actions(plan), r.actions) << model::ToString(plan);
    EXPECT_EQ(Skips(plan), r.skips) << model::ToString(plan);
  }
}

}  // namespace kvmem::test
