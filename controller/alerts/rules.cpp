// The rule set: which alerts exist, their PromQL, and the policy thresholds in them.
// The groups are in host_rules.cpp, vm_rules.cpp and controller_rules.cpp; the YAML
// rendering is in render.cpp.
#include "controller/alerts/rules.h"
#include "controller/alerts/groups.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace kvmem::alerts {

std::vector<RuleGroup> BuildRules(const model::Policy& policy) {
  return {HostGroup(policy),       VmGroup(policy),  DensityGroup(policy),
          ControllerGroup(policy), HostCheckGroup(), FleetHostGroup()};
}

std::string GenerateRules(const model::Policy& policy, const Options& options) {
  return RenderRules(BuildRules(policy), options);
}

std::string GenerateFleetRules() {
  Options options;
  options.printed_by = "--print-fleet-rules";
  return RenderRules(BuildFleetRules(), options);
}

std::string RunbookAnchor(std::string_view alertname) {
  std::string out(alertname);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  return out;
}

std::optional<Hint> HintFor(std::string_view alertname) {
  static const std::vector<RuleGroup> groups = BuildRules(model::Policy{});
  for (const auto& g : groups) {
    for (const auto& a : g.alerts) {
      if (a.name == alertname && !a.policy_rules.empty()) return Hint{a.policy_rules, a.subject};
    }
  }
  return std::nullopt;
}

std::string PromDuration(model::Duration d) { return model::DurationText(d); }

std::string PromNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  std::array<char, 64> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::to_string(v);
}

}  // namespace kvmem::alerts
