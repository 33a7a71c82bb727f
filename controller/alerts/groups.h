// The rule groups that BuildRules puts together, one file each (host_rules.cpp, vm_rules.cpp,
// controller_rules.cpp, density_rules.cpp, fleet_rules.cpp), and the small helpers they share. Internal to
// kvmem::alerts. Pure functions: thread-safe; they throw only std::bad_alloc.
#pragma once

#include <algorithm>
#include <string>

#include "controller/alerts/rules.h"

namespace kvmem::alerts {

RuleGroup HostGroup(const model::Policy& p);
RuleGroup VmGroup(const model::Policy& p);
RuleGroup ControllerGroup(const model::Policy& p);
RuleGroup DensityGroup(const model::Policy& p);
RuleGroup HostCheckGroup();
RuleGroup FleetHostGroup();
RuleGroup FleetGroup();
RuleGroup FleetWatcherGroup();

// A rate window: the policy's, but never shorter than kMinRateWindow.
inline model::Duration RateWindow(model::Duration d) { return std::max(d, kMinRateWindow); }
// How long a condition holds before an alert: kCyclesBeforeAlert control cycles.
inline model::Duration Cycles(const model::Policy& p) { return p.interval * kCyclesBeforeAlert; }
inline std::string Rate(const std::string& counter, model::Duration window) {
  return "rate(" + counter + "[" + PromDuration(window) + "])";
}
// Part of a description that says what the controller does about it, or that it will not.
inline std::string ControllerNote(bool enabled, const std::string& action, const std::string& key) {
  return enabled ? " " + action : " The controller will not act on it: " + key + " is false.";
}

}  // namespace kvmem::alerts
