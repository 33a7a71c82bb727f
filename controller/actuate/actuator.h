// Actuators: the only code that changes the host. One interface, composed by the daemon as
//   Backoff(Deadline(Router{libvirt, compaction, hugepages, placement}))           with --apply
//   Backoff(Deadline(DryRun(Router{libvirt, compaction, hugepages, placement})))   without
// so a dry run refuses exactly what a real run would refuse before writing (no route, an
// action of the wrong kind, a value out of range) and records the rest.
// Apply() and Refusal() never throw: every failure is an Outcome with ok == false and a message.
// Not thread-safe: the control loop is the one caller.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "controller/model/action.h"

namespace kvmem::actuate {

class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual model::Outcome Apply(const model::Action& action) noexcept = 0;
  // Why Apply() would fail `action` before touching anything; "" when it would try. Reads
  // nothing: checks the action against what this actuator can do.
  virtual std::string Refusal(const model::Action& /*action*/) const noexcept { return {}; }
};

// How an actuator's Apply() begins: when it refuses `action`, `out` fails with the refusal as
// its error and this returns true. Throws only std::bad_alloc.
inline bool Refused(const Actuator& actuator, const model::Action& action, model::Outcome& out) {
  out.error = actuator.Refusal(action);
  if (out.error.empty()) return false;
  out.ok = false;
  return true;
}

// Records instead of applying: asks `inner` (the real stack) for its refusal; an action it
// would refuse fails with the same error, any other is ok and dry_run, and nothing is touched.
class DryRun final : public Actuator {
 public:
  explicit DryRun(const Actuator* inner) : inner_(inner) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override { return inner_->Refusal(action); }

 private:
  const Actuator* inner_;
};

// Sends balloon and virtio-mem actions to `libvirt`, compaction to `compaction`, hugepage
// pool resizes to `hugepages`, vCPU pinning and page migration to `placement`, KSM settings to
// `ksm` and memory.reclaim writes to `offload`. A null
// target makes its actions fail with "no actuator for <ActuatorOf>".
class Router final : public Actuator {
 public:
  Router(Actuator* libvirt, Actuator* compaction, Actuator* hugepages = nullptr, Actuator* placement = nullptr,
         Actuator* ksm = nullptr, Actuator* offload = nullptr)
      : libvirt_(libvirt),
        compaction_(compaction),
        hugepages_(hugepages),
        placement_(placement),
        ksm_(ksm),
        offload_(offload) {}
  model::Outcome Apply(const model::Action& action) noexcept override;
  std::string Refusal(const model::Action& action) const noexcept override;

 private:
  Actuator* Target(const model::Action& action) const noexcept;
  Actuator* libvirt_;
  Actuator* compaction_;
  Actuator* hugepages_;
  Actuator* placement_;
  Actuator* ksm_;
  Actuator* offload_;
};

// Per subject (VM or node) exponential back-off after failures: after n consecutive failures
// the subject is not tried again for base * 2^(n-1), capped at max. A refused attempt is an
// outcome with ok == false that says so. The clock is injected for tests.
class Backoff final : public Actuator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  Backoff(Actuator* inner, std::chrono::milliseconds base, std::chrono::milliseconds max, Clock clock);
  model::Outcome Apply(const model::Action& action) noexcept override;

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point retry_at{};
  };
  Actuator* inner_;
  std::chrono::milliseconds base_, max_;
  Clock clock_;
  std::map<std::string, Entry> subjects_;
};

// The subject an action changes, which Backoff counts failures of: "vm <uuid>" (balloon and
// virtio-mem), "vm <uuid> placement" (pinning and migration), "vm <uuid> offload",
// "node <n>" (compaction), "node <n> hugepages-<kB>kB" (one pool) or "ksm". Separate subjects keep, for example, a pool
// that fell short from holding back the compaction that would let it grow.
std::string SubjectOf(const model::Action& action);

}  // namespace kvmem::actuate
