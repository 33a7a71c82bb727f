// Window storage, rates over counters and "held for" runs.
#include "controller/policy/window.h"

#include <algorithm>
#include <utility>

namespace kvmem::policy {

Window::Window(model::Duration keep) : keep_(keep) {}

bool Window::Push(model::Observation obs) {
  if (!obs_.empty() && obs.time <= obs_.back().time) return false;
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < obs.vms.size(); ++i) index.emplace(obs.vms[i].uuid, i);
  obs_.push_back(std::move(obs));
  vm_index_.push_back(std::move(index));
  const model::TimePoint oldest_kept = obs_.back().time - keep_;
  while (obs_.size() > 1 && obs_.front().time < oldest_kept) {
    obs_.pop_front();
    vm_index_.pop_front();
  }
  return true;
}

void Window::SetKeep(model::Duration keep) { keep_ = keep; }

const model::VmObservation* Window::FindVm(size_t i, std::string_view uuid) const {
  if (i >= obs_.size()) return nullptr;
  auto it = vm_index_[i].find(uuid);
  return it == vm_index_[i].end() ? nullptr : &obs_[i].vms[it->second];
}

std::optional<double> Window::Rate(size_t i, model::Duration lookback,
                                   const std::function<std::optional<double>(size_t)>& sample,
                                   model::Duration min_span) const {
  if (i >= obs_.size()) return std::nullopt;
  const auto last = sample(i);
  if (!last) return std::nullopt;
  const model::TimePoint earliest = obs_[i].time - lookback;
  size_t first = i;
  double first_value = *last;
  for (size_t j = i; j-- > 0;) {
    if (obs_[j].time < earliest) break;
    const auto v = sample(j);
    if (!v || *v > first_value) break;  // missing, or a counter reset between j and j + 1
    first = j;
    first_value = *v;
  }
  const model::Duration span = obs_[i].time - obs_[first].time;
  if (first == i || span <= model::Duration{0} || span < min_span) return std::nullopt;
  return (*last - first_value) / model::Seconds(span);
}

std::optional<model::Duration> Window::HeldFor(const std::function<bool(size_t)>& holds,
                                               std::optional<model::TimePoint> after) const {
  if (obs_.empty()) return std::nullopt;
  size_t first = obs_.size();
  for (size_t j = obs_.size(); j-- > 0;) {
    if ((after && obs_[j].time <= *after) || !holds(j)) break;
    first = j;
  }
  if (first == obs_.size()) return std::nullopt;
  return obs_.back().time - obs_[first].time;
}

int Window::Streak(const std::function<bool(size_t)>& holds, std::optional<model::TimePoint> after) const {
  int n = 0;
  for (size_t j = obs_.size(); j-- > 0;) {
    if ((after && obs_[j].time <= *after) || !holds(j)) break;
    ++n;
  }
  return n;
}

model::Duration RequiredKeep(const model::Policy& p) {
  const model::Duration longest = std::max(
      {model::Duration{std::chrono::minutes{2}}, p.compaction.sustain_for, p.virtio_mem.shrink_after,
       p.balloon.pressure.rate_window, p.balloon.trend_window + p.balloon.trend_window / 10,
       p.interval * (p.virtio_mem.sustain + 1), p.hugepages.reclaim ? p.hugepages.reclaim_after : model::Duration{0},
       p.placement.enabled ? p.placement.sustain_for : model::Duration{0},
       p.offload.enabled ? p.offload.step_interval + p.interval : model::Duration{0},
       p.ksm.enabled ? p.ksm.window : model::Duration{0}});
  return longest + 2 * p.interval;
}

}  // namespace kvmem::policy
