// Window: the last few minutes of observations, from which the decision code derives rates
// (swap-in/s, major faults/s, THP fallbacks/s) and "held for" durations. Keeping history
// here rather than in ControllerState keeps Decide level-based: after a restart the window
// is empty and nothing counts as sustained until it has been seen again.
// Not thread-safe (one loop owns it). Throws only std::bad_alloc.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "controller/model/observation.h"
#include "controller/model/policy.h"

namespace kvmem::policy {

class Window {
 public:
  // Keeps observations no older than `keep` behind the newest; see RequiredKeep().
  explicit Window(model::Duration keep = std::chrono::minutes{2});

  // Appends an observation. Returns false and ignores it unless its time is after the latest:
  // time never runs backwards within one window.
  bool Push(model::Observation obs);
  void SetKeep(model::Duration keep);  // e.g. after a policy reload; trims at the next Push

  bool empty() const { return obs_.empty(); }
  size_t size() const { return obs_.size(); }
  model::Duration keep() const { return keep_; }
  // 0 is the oldest, size() - 1 the latest. Preconditions: not empty, i < size().
  const model::Observation& at(size_t i) const { return obs_[i]; }
  const model::Observation& Latest() const { return obs_.back(); }
  size_t LatestIndex() const { return obs_.size() - 1; }
  // The VM with this UUID in observation i, or nullptr.
  const model::VmObservation* FindVm(size_t i, std::string_view uuid) const;

  // Per-second increase of a counter over at most `lookback`, ending at observation i.
  // `sample(j)` reads the counter from observation j (nullopt: not available there). Walks back
  // from i while the counter exists and does not decrease (a decrease is a reset, e.g. a guest
  // reboot). Nullopt when fewer than two samples or less than `min_span` of time remain.
  std::optional<double> Rate(size_t i, model::Duration lookback,
                             const std::function<std::optional<double>(size_t)>& sample,
                             model::Duration min_span = model::Duration{0}) const;

  // How long `holds(j)` has been true without a break, up to the latest observation: the time
  // from the first observation of the run to the latest (0 when only the latest holds).
  // Nullopt when it does not hold now. Observations at or before `after` are not counted, so a
  // change can restart the clock.
  std::optional<model::Duration> HeldFor(const std::function<bool(size_t)>& holds,
                                         std::optional<model::TimePoint> after = std::nullopt) const;
  // How many consecutive observations, ending at the latest, satisfy `holds` (same `after`).
  int Streak(const std::function<bool(size_t)>& holds, std::optional<model::TimePoint> after = std::nullopt) const;

 private:
  model::Duration keep_;
  std::deque<model::Observation> obs_;
  std::deque<std::map<std::string, size_t, std::less<>>> vm_index_;  // uuid -> index, per obs
};

// The history Decide needs under this policy: the longest "for"/"after"/rate look-back plus two
// intervals of slack, and at least two minutes.
model::Duration RequiredKeep(const model::Policy& policy);

}  // namespace kvmem::policy
