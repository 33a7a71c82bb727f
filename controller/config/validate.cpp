// Range and relation checks of a parsed policy, with messages that point into the file.
#include "controller/config/validate.h"

#include <utility>

#include "controller/config/quantity.h"

namespace kvmem::config {
namespace {

using model::Duration;

// Checks of one key: "<key> at line L, column C: must be <rule>, got "<text>"".
class Checker {
 public:
  explicit Checker(Sources& src) : src_(src) {}

  void Require(bool ok, const std::string& path, const std::string& rule, const std::string& value) {
    if (!ok) src_.Fail(src_.Where(path) + ": must be " + rule + ", got " + src_.Got(path, value));
  }
  void Ratio(double v, const std::string& path) {
    Require(v >= 0 && v < 1, path, "at least 0 and below 1", RenderNumber(v));
  }
  void Positive(Duration d, const std::string& path) {
    Require(d > Duration{0}, path, "above 0s", RenderDuration(d));
  }
  // `later` must relate to `earlier` as `ok` says. The key the user wrote is blamed (the later
  // one when both were written); the other is shown with its value.
  void Relation(bool ok, const std::string& earlier, const std::string& earlier_value,
                const std::string& later, const std::string& later_value, const std::string& later_rule,
                const std::string& earlier_rule) {
    if (ok) return;
    const bool blame_later = src_.InFile(later) || !src_.InFile(earlier);
    const std::string& subject = blame_later ? later : earlier;
    const std::string& other = blame_later ? earlier : later;
    const std::string other_value =
        (blame_later ? earlier_value : later_value) + (src_.InFile(other) ? "" : ", the default");
    src_.Fail(src_.Where(subject) + ": must be " + (blame_later ? later_rule : earlier_rule) + " " + other +
              " (" + other_value + "), got " + src_.Got(subject, blame_later ? later_value : earlier_value));
  }

 private:
  Sources& src_;
};

void ValidateBalloon(Checker& c, const model::BalloonPolicy& b, const model::Policy& p) {
  const std::string reclaim = RenderNodeSize(b.reclaim_below), release = RenderNodeSize(b.release_above);
  c.Relation(b.reclaim_below.percent.has_value() == b.release_above.percent.has_value(),
             "balloon.reclaim_below", reclaim, "balloon.release_above", release,
             "in the same form (both percentages or both sizes) as",
             "in the same form (both percentages or both sizes) as");
  const bool ordered = b.reclaim_below.percent
                           ? *b.reclaim_below.percent < b.release_above.percent.value_or(0)
                           : b.reclaim_below.bytes < b.release_above.bytes;
  if (b.reclaim_below.percent.has_value() == b.release_above.percent.has_value()) {
    c.Relation(ordered, "balloon.reclaim_below", reclaim, "balloon.release_above", release, "above", "below");
  }
  c.Require(b.max_step >= model::kMiB, "balloon.max_step", "at least 1MiB", RenderSize(b.max_step));
  c.Require(b.min_step >= model::kMiB, "balloon.min_step", "at least 1MiB", RenderSize(b.min_step));
  c.Relation(b.min_step <= b.max_step, "balloon.max_step", RenderSize(b.max_step), "balloon.min_step",
             RenderSize(b.min_step), "at most", "at least");
  c.Ratio(b.min_free_ratio, "balloon.min_free_ratio");
  c.Ratio(b.pressure.usable_below_ratio, "balloon.pressure.usable_below_ratio");
  c.Require(b.pressure.major_fault_rate_above >= 0, "balloon.pressure.major_fault_rate_above", "at least 0",
            RenderNumber(b.pressure.major_fault_rate_above));
  c.Positive(b.pressure.rate_window, "balloon.pressure.rate_window");
  c.Relation(b.pressure.rate_window >= p.interval, "interval", RenderDuration(p.interval),
             "balloon.pressure.rate_window", RenderDuration(b.pressure.rate_window), "at least", "at most");
}

void ValidateVirtioMem(Checker& c, const model::VirtioMemPolicy& v) {
  c.Require(v.step > 0, "virtio_mem.step", "above 0", RenderSize(v.step));
  c.Ratio(v.shrink_unused_above_ratio, "virtio_mem.shrink_unused_above_ratio");
  c.Positive(v.shrink_after, "virtio_mem.shrink_after");
  c.Positive(v.settle_timeout, "virtio_mem.settle_timeout");
}

void ValidateCompaction(Checker& c, const model::CompactionPolicy& k) {
  c.Ratio(k.compact_above, "compaction.compact_above");
  c.Require(k.thp_fallback_rate_above >= 0, "compaction.thp_fallback_rate_above", "at least 0",
            RenderNumber(k.thp_fallback_rate_above));
  c.Positive(k.sustain_for, "compaction.for");
  c.Ratio(k.quiet_below, "compaction.quiet_below");
  c.Relation(k.max_backoff >= k.cooldown, "compaction.cooldown", RenderDuration(k.cooldown),
             "compaction.max_backoff", RenderDuration(k.max_backoff), "at least", "at most");
}

void ValidateHugepages(Checker& c, const model::HugepagePolicy& h) {
  c.Positive(h.reclaim_after, "hugepages.reclaim_after");
  c.Positive(h.retry_after, "hugepages.retry_after");
  c.Require(h.max_step >= 2 * model::kMiB, "hugepages.max_step", "at least 2MiB", RenderSize(h.max_step));
  if (h.min_normal_memory.percent) {
    c.Require(*h.min_normal_memory.percent > 0, "hugepages.min_normal_memory", "above 0%",
              RenderNodeSize(h.min_normal_memory));
  } else {
    c.Require(h.min_normal_memory.bytes >= 64 * model::kMiB, "hugepages.min_normal_memory", "at least 64MiB",
              RenderNodeSize(h.min_normal_memory));
  }
}

void ValidatePlacement(Checker& c, const model::PlacementPolicy& p) {
  c.Require(p.locality_below > 0 && p.locality_below <= 1, "placement.locality_below", "above 0 and at most 1",
            RenderNumber(p.locality_below));
  c.Positive(p.sustain_for, "placement.for");
  c.Require(p.max_bytes_per_second >= model::AsDouble(model::kMiB), "placement.max_bytes_per_second",
            "at least 1MiB/s", RenderByteRate(p.max_bytes_per_second));
  c.Positive(p.cooldown, "placement.cooldown");
}

}  // namespace

std::string Position(const YAML::Mark& mark) {
  if (mark.is_null()) return "an unknown position";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

void Sources::Fail(std::string message) {
  if (!error_) error_ = Error{ErrorKind::kConfig, std::move(message), file_, 0};
}

void Sources::Note(const std::string& path, YAML::Mark mark, std::string raw) {
  found_.insert_or_assign(path, std::pair{mark, std::move(raw)});
}

std::string Sources::Where(const std::string& path) const {
  auto it = found_.find(path);
  return it == found_.end() ? path + " (default)" : path + " at " + Position(it->second.first);
}

std::string Sources::Got(const std::string& path, const std::string& fallback) const {
  auto it = found_.find(path);
  return "\"" + (it == found_.end() ? fallback : it->second.second) + "\"";
}

void Validate(Sources& src, const model::Policy& p) {
  Checker c(src);
  c.Positive(p.interval, "interval");
  c.Positive(p.stale_after, "stale_after");
  c.Relation(p.stale_after >= p.interval, "interval", RenderDuration(p.interval), "stale_after",
             RenderDuration(p.stale_after), "at least", "at most");
  ValidateBalloon(c, p.balloon, p);
  ValidateVirtioMem(c, p.virtio_mem);
  ValidateCompaction(c, p.compaction);
  ValidateHugepages(c, p.hugepages);
  ValidatePlacement(c, p.placement);
  c.Require(p.limits.max_bytes_per_minute >= model::kMiB, "limits.max_bytes_per_minute", "at least 1MiB",
            RenderSize(p.limits.max_bytes_per_minute));
}

}  // namespace kvmem::config
