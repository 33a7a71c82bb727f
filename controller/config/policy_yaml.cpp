// Policy loading: walks the YAML tree section by section, rejects unknown keys, parses each
// scalar with its unit, then checks ranges and relations. The first error wins.
#include "controller/config/policy_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "common/yaml_text.h"
#include "controller/config/quantity.h"
#include "controller/config/validate.h"

namespace kvmem::config {
namespace {

using yaml_text::Join;
using yaml_text::KindOf;

// One mapping of the file (the top level, balloon, balloon.pressure, ...).
class Section {
 public:
  Section(Sources& src, const YAML::Node& node, std::string path, std::vector<std::string_view> allowed)
      : src_(src), path_(std::move(path)) {
    if (src_.failed() || node.IsNull() || !node.IsDefined()) return;
    if (!node.IsMap()) {
      src_.Fail((path_.empty() ? std::string("the policy") : path_) + " at " + Position(node.Mark()) +
                ": expected a mapping of keys, got " + KindOf(node));
      return;
    }
    for (auto it = node.begin(); it != node.end() && !src_.failed(); ++it) {
      const YAML::Mark mark = it->first.Mark();
      if (!it->first.IsScalar()) {
        src_.Fail("expected a key name at " + Position(mark) + ", got " + KindOf(it->first));
        return;
      }
      const std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        src_.Fail("unknown key " + Path(key) + " at " + Position(mark) + "; allowed: " + Join(allowed));
        return;
      }
      if (values_.contains(key)) {
        src_.Fail("duplicate key " + Path(key) + " at " + Position(mark) + "; first at " +
                  Position(key_marks_.at(key)));
        return;
      }
      values_.emplace(key, it->second);
      key_marks_.emplace(key, mark);
    }
  }

  Section Child(const std::string& key, std::vector<std::string_view> allowed) {
    auto it = values_.find(key);
    return Section(src_, it == values_.end() ? YAML::Node() : it->second, Path(key), std::move(allowed));
  }

  // Parses the key's scalar with `parse` into `out` when the key is present.
  template <class T, class Parse>
  void Read(const std::string& key, T& out, Parse parse) {
    auto it = values_.find(key);
    if (src_.failed() || it == values_.end()) return;
    const YAML::Node& v = it->second;
    // An empty value has no position of its own worth showing: point at its key.
    const YAML::Mark mark = v.IsNull() || v.Mark().is_null() ? key_marks_.at(key) : v.Mark();
    const std::string path = Path(key);
    if (!v.IsScalar()) {
      src_.Fail(path + " at " + Position(mark) + ": expected a single value, got " + KindOf(v));
      return;
    }
    src_.Note(path, mark, v.Scalar());
    auto parsed = parse(v.Scalar());
    if (!parsed) {
      src_.Fail(path + " at " + Position(mark) + ": " + parsed.error());
      return;
    }
    out = static_cast<T>(*parsed);
  }

 private:
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  Sources& src_;
  std::string path_;
  std::map<std::string, YAML::Node> values_;
  std::map<std::string, YAML::Mark> key_marks_;
};

Parsed<bool> ParseBool(std::string_view s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return tl::unexpected("expected true or false, got \"" + std::string(s) + "\"");
}

void ReadBalloon(Section top, model::BalloonPolicy& b) {
  Section s = top.Child("balloon", {"enabled", "reclaim_below", "release_above", "max_step", "min_step",
                                    "min_guest", "min_free_ratio", "cooldown", "pressure"});
  s.Read("enabled", b.enabled, ParseBool);
  s.Read("reclaim_below", b.reclaim_below, ParseNodeSize);
  s.Read("release_above", b.release_above, ParseNodeSize);
  s.Read("max_step", b.max_step, ParseSize);
  s.Read("min_step", b.min_step, ParseSize);
  s.Read("min_guest", b.min_guest, ParseSize);
  s.Read("min_free_ratio", b.min_free_ratio, ParseRatio);
  s.Read("cooldown", b.cooldown, ParseDuration);
  Section p = s.Child("pressure",
                      {"usable_below_ratio", "swap_in_rate_above", "major_fault_rate_above", "rate_window"});
  p.Read("usable_below_ratio", b.pressure.usable_below_ratio, ParseRatio);
  p.Read("swap_in_rate_above", b.pressure.swap_in_rate_above, ParseByteRate);
  p.Read("major_fault_rate_above", b.pressure.major_fault_rate_above, ParseRate);
  p.Read("rate_window", b.pressure.rate_window, ParseDuration);
}

void ReadVirtioMem(Section top, model::VirtioMemPolicy& v) {
  Section s = top.Child("virtio_mem", {"enabled", "sustain", "step", "shrink_unused_above_ratio",
                                       "shrink_after", "settle_timeout"});
  s.Read("enabled", v.enabled, ParseBool);
  s.Read("sustain", v.sustain, [](std::string_view t) -> Parsed<int64_t> {
    auto n = ParseInteger(t);
    if (n && (*n < 1 || *n > 1000))
      return tl::unexpected("must be from 1 to 1000 cycles, got \"" + std::string(t) + "\"");
    return n;
  });
  s.Read("step", v.step, ParseSize);
  s.Read("shrink_unused_above_ratio", v.shrink_unused_above_ratio, ParseRatio);
  s.Read("shrink_after", v.shrink_after, ParseDuration);
  s.Read("settle_timeout", v.settle_timeout, ParseDuration);
}

void ReadCompaction(Section top, model::CompactionPolicy& c) {
  Section s = top.Child("compaction", {"enabled", "compact_above", "thp_fallback_rate_above", "for",
                                       "quiet_below", "cooldown", "max_backoff"});
  s.Read("enabled", c.enabled, ParseBool);
  s.Read("compact_above", c.compact_above, ParseRatio);
  s.Read("thp_fallback_rate_above", c.thp_fallback_rate_above, ParseRate);
  s.Read("for", c.sustain_for, ParseDuration);
  s.Read("quiet_below", c.quiet_below, ParseRatio);
  s.Read("cooldown", c.cooldown, ParseDuration);
  s.Read("max_backoff", c.max_backoff, ParseDuration);
}

void ReadHugepages(Section top, model::HugepagePolicy& h) {
  Section s = top.Child("hugepages", {"enabled", "headroom", "reclaim", "reclaim_after", "min_normal_memory",
                                      "max_step", "retry_after"});
  s.Read("enabled", h.enabled, ParseBool);
  s.Read("headroom", h.headroom, ParseSize);
  s.Read("reclaim", h.reclaim, ParseBool);
  s.Read("reclaim_after", h.reclaim_after, ParseDuration);
  s.Read("min_normal_memory", h.min_normal_memory, ParseNodeSize);
  s.Read("max_step", h.max_step, ParseSize);
  s.Read("retry_after", h.retry_after, ParseDuration);
}

void ReadPlacement(Section top, model::PlacementPolicy& p) {
  Section s = top.Child("placement", {"enabled", "locality_below", "for", "max_bytes_per_second", "cooldown"});
  s.Read("enabled", p.enabled, ParseBool);
  s.Read("locality_below", p.locality_below, ParseRatio);
  s.Read("for", p.sustain_for, ParseDuration);
  s.Read("max_bytes_per_second", p.max_bytes_per_second, ParseByteRate);
  s.Read("cooldown", p.cooldown, ParseDuration);
}

void ReadLimits(Section top, model::LimitsPolicy& l) {
  Section s = top.Child("limits", {"max_actions_per_cycle", "max_bytes_per_minute"});
  s.Read("max_actions_per_cycle", l.max_actions_per_cycle, [](std::string_view t) -> Parsed<int64_t> {
    auto n = ParseInteger(t);
    if (n && (*n < 1 || *n > 1000))
      return tl::unexpected("must be from 1 to 1000, got \"" + std::string(t) + "\"");
    return n;
  });
  s.Read("max_bytes_per_minute", l.max_bytes_per_minute, ParseSize);
}

}  // namespace

Result<model::Policy> ParsePolicy(std::string_view yaml, const std::string& file) {
  Sources src(file);
  model::Policy p;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    Section top(src, root, "", {"interval", "stale_after", "balloon", "virtio_mem", "compaction", "hugepages",
                                     "placement", "limits"});
    top.Read("interval", p.interval, ParseDuration);
    top.Read("stale_after", p.stale_after, ParseDuration);
    ReadBalloon(top, p.balloon);
    ReadVirtioMem(top, p.virtio_mem);
    ReadCompaction(top, p.compaction);
    ReadHugepages(top, p.hugepages);
    ReadPlacement(top, p.placement);
    ReadLimits(top, p.limits);
  } catch (const YAML::Exception& e) {
    src.Fail("YAML syntax error at " + Position(e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    src.Fail(std::string("cannot read the policy: ") + e.what());
  }
  if (!src.failed()) Validate(src, p);
  if (src.failed()) return tl::unexpected(*src.error());
  return p;
}

Result<model::Policy> LoadPolicyFile(const std::string& path) {
  // A directory opens and reads as empty on Linux, which would silently mean "all defaults".
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Fail(ErrorKind::kConfig, "is a directory, not a policy file", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorKind::kConfig, "cannot open the policy file", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail(ErrorKind::kConfig, "cannot read the policy file", path);
  return ParsePolicy(text.str(), path);
}

}  // namespace kvmem::config
