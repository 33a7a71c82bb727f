// Controller: the one interface the simulator drives, so the same scenarios run kvmem's real
// decision core and the two baselines. Each sees the plant's model::Observation at its own
// period and answers with model::Actions (balloon targets; kvmem also virtio-mem sizes), which
// the plant applies after the actuation delay.
// Not thread-safe (one run owns a controller). Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "controller/model/action.h"
#include "controller/model/observation.h"
#include "controller/model/policy.h"

namespace kvmem::sim {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string Name() const = 0;
  // How often the run loop calls Cycle: kvmem's policy interval, MOM 15 s, Proxmox 10 s.
  virtual model::Duration Period() const = 0;
  // One decision on the observation at obs.time; the actions are applied in order.
  virtual std::vector<model::Action> Cycle(const model::Observation& obs) = 0;
};

// kvmem: the daemon's own cycle (loop::ControlCycle: window, track, decide, apply with the
// donor rule), with every action accepted by the plant. With `skips`,
// each cycle's skips that were not in the previous cycle are written there, one per line.
std::unique_ptr<Controller> MakeKvmem(const model::Policy& policy, std::ostream* skips = nullptr);

// The KSM rule MOM's ksm policy and ksmtuned share (docs/simulator.md): KSM stops while the
// guests' committed memory plus the threshold fits MemTotal and free memory is above the
// threshold; otherwise it runs, pages_to_scan grows by `boost` while free memory is below the
// threshold and shrinks by `decay` above it (within [npages_min, npages_max]), and
// sleep_millisecs is sleep_baseline_ms scaled by 16 GiB / MemTotal (at least sleep_min_ms).
struct KsmRuleParams {
  double threshold = 0.20;  // of MemTotal
  int64_t boost = 300;
  int64_t decay = -50;
  uint64_t npages_min = 64;
  uint64_t npages_max = 1250;
  uint64_t sleep_baseline_ms = 10;
  uint64_t sleep_min_ms = 0;  // ksmtuned: 10; MOM has none
};
// The knobs the rule wants given `free` bytes (the caller's own measure of free memory) and
// `npages`, the pages_to_scan it adds to; nullopt without KSM on the host. KsmAction makes the
// SetKsm, or nothing when the knobs are already so.
std::optional<model::KsmSettings> KsmRule(const KsmRuleParams& p, const model::Observation& obs, double free,
                                          uint64_t npages);
std::optional<model::Action> KsmAction(const model::Observation& obs, const model::KsmSettings& to,
                                       const std::string& rule);

// oVirt MOM's balloon rules (vdsm's policy), docs/simulator.md lists the constants.
struct MomParams {
  model::Duration period = std::chrono::seconds{15};
  size_t samples = 10;               // StatAvg: mean of the last 10 samples, one per period
  double pressure_threshold = 0.20;  // host free / MemTotal below this: shrink, else grow
  double pressure_critical = 0.05;   // at or below: guests' free target goes negative
  double min_guest_free = 0.20;      // free share a guest keeps (scaled down under pressure)
  double max_change = 0.05;          // per guest per cycle, of its current balloon
  double min_change = 0.0025;        // smaller changes are not made
  KsmRuleParams ksm;                 // its ksm policy, in the same 15 s cycle
};
std::unique_ptr<Controller> MakeMom(const MomParams& params = {});

// Proxmox VE's auto-ballooning (pvestatd + PVE::AutoBalloon).
struct ProxmoxParams {
  model::Duration period = std::chrono::seconds{10};
  double target_usage = 0.80;          // host (MemTotal - MemAvailable) / MemTotal to aim at
  uint64_t max_change = 100ULL << 20;  // per VM per cycle
  uint64_t dead_band = 10ULL << 20;    // |goal| up to this: do nothing
  uint64_t default_shares = 1000;
  double idle_free_ratio = 0.25;  // guest free > this share of its minimum: "has enough free memory"
  KsmRuleParams ksm{0.20, 300, -50, 64, 1250, 10, 10};    // ksmtuned, Proxmox's KSM daemon
  model::Duration ksm_period = std::chrono::seconds{60};  // KSM_MONITOR_INTERVAL
};
// `shares` by VM uuid; VMs not listed get default_shares.
std::unique_ptr<Controller> MakeProxmox(const ProxmoxParams& params = {}, std::map<std::string, uint64_t> shares = {});

}  // namespace kvmem::sim
