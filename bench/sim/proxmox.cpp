// Proxmox VE auto-ballooning (pvestatd every 10 s, PVE::AutoBalloon), written from the
// published algorithm and constants (../shared/notes/anchors.md, docs/simulator.md):
//   goal = 80 % of MemTotal - (MemTotal - MemAvailable); |goal| <= 10 MiB: do nothing;
//   VMs are "idle" when the guest's free memory exceeds 25 % of their minimum, else "busy";
//   grow: share the goal out among busy VMs first (all VMs if they took nothing),
//   shrink: among idle VMs first (all VMs if they gave nothing);
//   the share of each VM is min + (the group's memory above its minimums + goal) x
//   shares / total shares, clamped to [min, max]; each VM moves at most 100 MiB per cycle
//   toward its share, and the sharing repeats while some VM hit a clamp and progress is made.
// KSM is ksmtuned's (KSM_MONITOR_INTERVAL 60 s): KsmRule on MemFree + Buffers + Cached (the
// plant's available memory) as sampled then, adding to its own npages (starting at 0), sleep
// 10 ms x 16 GiB / MemTotal, at least 10 ms.
// A VM without a minimum (balloon unset) or with shares 0 is left alone; guest statistics are
// used whatever their age.
#include <algorithm>
#include <cmath>
#include <set>

#include "bench/sim/controller.h"
#include "controller/model/units.h"

namespace kvmem::sim {
namespace {

using model::AsDouble;

double D(int64_t v) { return static_cast<double>(v); }

struct Vm {
  const model::VmObservation* obs;
  int64_t cur, min, max, shares;
};

class Proxmox : public Controller {
 public:
  Proxmox(ProxmoxParams p, std::map<std::string, uint64_t> shares) : p_(p), shares_(std::move(shares)) {}
  std::string Name() const override { return "Proxmox"; }
  model::Duration Period() const override { return p_.period; }

  std::vector<model::Action> Cycle(const model::Observation& obs) override {
    double total = 0, available = 0;
    for (const auto& n : obs.nodes) {
      total += AsDouble(n.total_bytes);
      available += AsDouble(n.available_bytes);
    }
    const auto goal = static_cast<int64_t>(p_.target_usage * total - (total - available));
    std::vector<Vm> all, busy, idle;
    for (const auto& vm : obs.vms) {
      const uint64_t min = vm.min_guarantee_bytes.value_or(0);
      auto it = shares_.find(vm.uuid);
      const uint64_t shares = it == shares_.end() ? p_.default_shares : it->second;
      if (!vm.running || vm.balloon_current_bytes == 0 || min == 0 || shares == 0) continue;
      Vm v{&vm, Signed(vm.balloon_current_bytes), Signed(min), Signed(vm.balloon_maximum_bytes), Signed(shares)};
      all.push_back(v);
      const bool has_free = vm.guest_unused_bytes && *vm.guest_unused_bytes > 0 &&
                            AsDouble(*vm.guest_unused_bytes) > AsDouble(min) * p_.idle_free_ratio;
      (has_free && v.cur >= v.min ? idle : busy).push_back(v);
    }
    std::map<std::string, int64_t> res;  // new targets by uuid
    const auto band = Signed(p_.dead_band);
    if (goal > band) {
      const int64_t rest = Distribute(res, busy, goal);
      if (rest >= goal) Distribute(res, all, rest);
    } else if (goal < -band) {
      const int64_t rest = Distribute(res, idle, goal);
      if (rest <= goal) Distribute(res, all, rest);
    }
    std::vector<model::Action> out;
    Ksmtuned(obs, available, out);
    for (const Vm& v : all) {
      auto it = res.find(v.obs->uuid);
      if (it == res.end() || it->second == v.cur) continue;
      model::SetBalloon a{
          {v.obs->uuid, v.obs->name}, v.obs->balloon_current_bytes, static_cast<uint64_t>(it->second), {}};
      a.reason.rule = "proxmox.autoballoon";
      a.reason.text =
          std::string("Proxmox goal ") + (goal < 0 ? "-" : "+") + model::FormatBytes(D(goal < 0 ? -goal : goal));
      out.push_back(a);
    }
    return out;
  }

 private:
  void Ksmtuned(const model::Observation& obs, double available, std::vector<model::Action>& out) {
    if (!obs.ksm || obs.time.time_since_epoch() < next_ksm_) return;
    next_ksm_ = obs.time.time_since_epoch() + p_.ksm_period;
    auto to = KsmRule(p_.ksm, obs, available, npages_);
    if (!to) return;
    if (to->run == 1) npages_ = to->pages_to_scan;
    if (auto a = KsmAction(obs, *to, "ksmtuned")) out.push_back(*a);
  }

  static int64_t Signed(uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)); }

  // Shares `bytes` (negative: takes) out among `vms`; returns what is left over.
  int64_t Distribute(std::map<std::string, int64_t>& res, const std::vector<Vm>& vms, int64_t bytes) const {
    const auto step = Signed(p_.max_change);
    int64_t rest = bytes;
    std::set<std::string> done;
    bool repeat = true, progress = true;
    for (int round = 0; rest != 0 && repeat && progress && round < 1000; ++round) {
      repeat = progress = false;
      double shares_total = 0, alloc_old = 0;
      for (const Vm& v : vms) {
        if (done.contains(v.obs->uuid)) continue;
        alloc_old += D(Target(res, v) - v.min);
        shares_total += D(v.shares);
      }
      const double alloc_new = alloc_old + D(rest);
      int64_t changes = 0;
      for (const Vm& v : vms) {
        if (done.contains(v.obs->uuid)) continue;
        int64_t desired = v.min + static_cast<int64_t>(std::trunc(alloc_new / shares_total * D(v.shares)));
        if (desired > v.max || desired < v.min) {
          desired = std::clamp(desired, v.min, v.max);
          repeat = true;
        }
        int64_t next = 0;
        if (bytes > 0 && desired > v.cur) {
          next = std::min(v.cur + step, desired);
        } else if (desired < v.cur) {
          next = std::max(v.cur - step, desired);
        } else {
          done.insert(v.obs->uuid);
          continue;
        }
        const int64_t change = next - Target(res, v);
        res[v.obs->uuid] = next;
        if (change != 0) {
          changes += change;
          progress = repeat = true;
        }
      }
      rest -= changes;
    }
    return rest;
  }

  static int64_t Target(const std::map<std::string, int64_t>& res, const Vm& v) {
    auto it = res.find(v.obs->uuid);
    return it == res.end() ? v.cur : it->second;
  }

  ProxmoxParams p_;
  std::map<std::string, uint64_t> shares_;
  model::Duration next_ksm_{0};
  uint64_t npages_ = 0;  // ksmtuned's own pages_to_scan
};

}  // namespace

std::unique_ptr<Controller> MakeProxmox(const ProxmoxParams& params, std::map<std::string, uint64_t> shares) {
  return std::make_unique<Proxmox>(params, std::move(shares));
}

}  // namespace kvmem::sim
