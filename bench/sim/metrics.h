// Metrics: the control-quality numbers of one run, and the Recorder that computes them from
// the plant, tick by tick, and from the actions as they are decided. The definitions are in
// docs/simulator.md ("Metrics"); the short form:
//   settled      every node's free memory >= band low x its total, and no guest in OOM;
//   settling     from the disturbance to the start of the settled stretch that lasts to the
//                end (0: never unsettled; none: unsettled at the end); also reported for
//                each half of "settled" alone;
//   overshoot    the most memory, over nodes and time after the disturbance, that a node
//                holds free above both band high x total and its free memory just before the
//                disturbance, while guests on it are ballooned below their maximum (the
//                smaller of the two): memory taken from guests that nobody needed;
//   everything else counts from the end of the warm-up.
// Not thread-safe. Throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/sim/plant.h"
#include "controller/model/action.h"

namespace kvmem::sim {

struct Metrics {
  std::string controller;
  std::optional<double> settling_seconds;       // nullopt: not settled at the end
  std::optional<double> host_settling_seconds;  // the same with host free memory alone
  std::optional<double> oom_settling_seconds;   // the same with guest OOM alone
  double overshoot_bytes = 0;
  uint64_t oom_events = 0;  // a guest's demand rising above its memory
  // Of those, the ones no controller could have prevented: the guest's memory did not shrink
  // at the onset, and one stats period before it the demand still left the guest at least
  // kUnwarnedFreeRatio of its memory free, so no statistic could have warned of it.
  uint64_t oom_unpreventable = 0;
  double oom_vm_seconds = 0;         // summed over guests
  double oom_caused_vm_seconds = 0;  // the part of it in OOMs that were not unpreventable
  double pressure_seconds = 0;       // some node below band low
  uint64_t actions = 0;              // balloon and virtio-mem changes submitted
  uint64_t direction_changes = 0;    // per VM, a change opposite to that VM's previous one
  double bytes_moved = 0;            // sum of |to - from|
  uint64_t blind_shrinks = 0;        // shrinks of a VM inside one of its stats outages
  double priority_bytes_taken = 0;   // bytes shrunk from VMs of priority above 0
  double min_free_ratio = 1;         // lowest node free / total
  // Density (scenarios with ksm / offload): the KSM saving's mean, ksmd's CPU seconds, the
  // share of VM memory compressed offload saves at the end, the worst VM-minute of refaults
  // (refaulted bytes in a minute / the VM's resident bytes), KSM knob writes and reclaims.
  double ksm_saved_mean_bytes = 0;
  double saved_mean_bytes = 0;  // KSM and compressed offload together, time mean
  double ksmd_cpu_seconds = 0;
  double offload_saved_ratio = 0;
  double refault_worst_ratio = 0;
  double refault_mean_ratio = 0;  // the worst VM's refaults over the run / its mean resident, per minute
  uint64_t ksm_writes = 0;
  uint64_t reclaims = 0;
};

// A guest with at least this share of its memory free shows no pressure (kvmem's default
// balloon.pressure.usable_below_ratio): an OOM that follows such a state within one stats
// period came without warning.
inline constexpr double kUnwarnedFreeRatio = 0.10;

class Recorder {
 public:
  explicit Recorder(const Scenario& scenario) : sc_(scenario) {}
  // The plant's state holds for [now, now + dt).
  void Sample(const Plant& plant, Duration dt);
  void Action(Duration now, const model::Action& action);
  Metrics Finish(std::string controller) const;

 private:
  const Scenario& sc_;
  Metrics m_;
  std::map<std::string, int> last_direction_;
  std::map<std::string, bool> was_oom_;
  std::map<std::string, bool> unpreventable_;  // the kind of the OOM each VM is in now
  std::map<std::string, uint64_t> last_memory_;
  void NoteOom(const VmState& vm, Duration now, Duration dt);
  void NoteDensity(const Plant& plant, Duration dt);
  double ksm_saved_sum_ = 0;  // byte-seconds since the warm-up
  double saved_sum_ = 0;      // the same, KSM and offload
  double measured_seconds_ = 0;
  double ksmd_cpu_at_warmup_ = -1;
  Duration next_minute_{0};
  std::vector<double> refaults_at_minute_;  // per VM, at the start of the current minute
  std::vector<double> refaults_at_warmup_;  // per VM
  std::vector<double> resident_minutes_;    // per VM, resident byte-minutes since the warm-up
  std::vector<double> before_;              // node free just before the disturbance
  // One "settled" criterion: whether it failed after the disturbance, whether it holds now,
  // and when it last failed.
  struct Settle {
    bool failed = false;
    bool now = true;
    Duration last_failure_end{0};
    void Note(bool ok, Duration t, Duration dt);
    std::optional<double> Seconds(Duration disturbance) const;
  };
  Settle both_, host_, oom_;
};

}  // namespace kvmem::sim
