// RenderPolicy: the effective policy as YAML, every key in canonical units (--print-policy).
#include <string>

#include "controller/config/policy_yaml.h"
#include "controller/config/quantity.h"

namespace kvmem::config {
namespace {

std::string Bool(bool b) { return b ? "true" : "false"; }

class Writer {
 public:
  void Line(int depth, const std::string& key, const std::string& value = {}) {
    out_ += std::string(static_cast<size_t>(depth) * 2, ' ') + key + ":" +
            (value.empty() ? "" : " " + value) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string RenderPolicy(const model::Policy& p) {
  Writer w;
  w.Line(0, "interval", RenderDuration(p.interval));
  w.Line(0, "stale_after", RenderDuration(p.stale_after));
  const auto& b = p.balloon;
  w.Line(0, "balloon");
  w.Line(1, "enabled", Bool(b.enabled));
  w.Line(1, "reclaim_below", RenderNodeSize(b.reclaim_below));
  w.Line(1, "release_above", RenderNodeSize(b.release_above));
  w.Line(1, "max_step", RenderSize(b.max_step));
  w.Line(1, "min_step", RenderSize(b.min_step));
  w.Line(1, "min_guest", RenderSize(b.min_guest));
  w.Line(1, "min_free_ratio", RenderNumber(b.min_free_ratio));
  w.Line(1, "cooldown", RenderDuration(b.cooldown));
  w.Line(1, "pressure");
  w.Line(2, "usable_below_ratio", RenderNumber(b.pressure.usable_below_ratio));
  w.Line(2, "swap_in_rate_above", RenderByteRate(b.pressure.swap_in_rate_above));
  w.Line(2, "major_fault_rate_above", RenderNumber(b.pressure.major_fault_rate_above) + "/s");
  w.Line(2, "rate_window", RenderDuration(b.pressure.rate_window));
  const auto& v = p.virtio_mem;
  w.Line(0, "virtio_mem");
  w.Line(1, "enabled", Bool(v.enabled));
  w.Line(1, "sustain", std::to_string(v.sustain));
  w.Line(1, "step", RenderSize(v.step));
  w.Line(1, "shrink_unused_above_ratio", RenderNumber(v.shrink_unused_above_ratio));
  w.Line(1, "shrink_after", RenderDuration(v.shrink_after));
  w.Line(1, "settle_timeout", RenderDuration(v.settle_timeout));
  const auto& c = p.compaction;
  w.Line(0, "compaction");
  w.Line(1, "enabled", Bool(c.enabled));
  w.Line(1, "compact_above", RenderNumber(c.compact_above));
  w.Line(1, "thp_fallback_rate_above", RenderNumber(c.thp_fallback_rate_above) + "/s");
  w.Line(1, "for", RenderDuration(c.sustain_for));
  w.Line(1, "quiet_below", RenderNumber(c.quiet_below));
  w.Line(1, "cooldown", RenderDuration(c.cooldown));
  w.Line(1, "max_backoff", RenderDuration(c.max_backoff));
  const auto& h = p.hugepages;
  w.Line(0, "hugepages");
  w.Line(1, "enabled", Bool(h.enabled));
  w.Line(1, "headroom", RenderSize(h.headroom));
  w.Line(1, "reclaim", Bool(h.reclaim));
  w.Line(1, "reclaim_after", RenderDuration(h.reclaim_after));
  w.Line(1, "min_normal_memory", RenderNodeSize(h.min_normal_memory));
  w.Line(1, "max_step", RenderSize(h.max_step));
  w.Line(1, "retry_after", RenderDuration(h.retry_after));
  const auto& pl = p.placement;
  w.Line(0, "placement");
  w.Line(1, "enabled", Bool(pl.enabled));
  w.Line(1, "locality_below", RenderNumber(pl.locality_below));
  w.Line(1, "for", RenderDuration(pl.sustain_for));
  w.Line(1, "max_bytes_per_second", RenderByteRate(pl.max_bytes_per_second));
  w.Line(1, "cooldown", RenderDuration(pl.cooldown));
  w.Line(0, "limits");
  w.Line(1, "max_actions_per_cycle", std::to_string(p.limits.max_actions_per_cycle));
  w.Line(1, "max_bytes_per_minute", RenderSize(p.limits.max_bytes_per_minute));
  return w.Take();
}

}  // namespace kvmem::config
