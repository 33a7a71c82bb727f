// Alertmanager's webhook payload (version 4) and what the controller makes of it: parsing
// with nlohmann-json, and matching firing alerts to the policy rules they ask the controller
// to evaluate now (controller/alerts is the table). Pure: text in, values out.
// Thread-safe (no shared state). Throws only std::bad_alloc: JSON errors become Results.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controller/alerts/rules.h"

namespace kvmem::webhook {

struct Alert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at;
  std::string fingerprint;

  std::string Label(const std::string& name) const;  // "" when absent
};

// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
struct Payload {
  std::string version;  // always "4"
  std::string status;
  std::string receiver;
  std::string group_key;
  uint64_t truncated_alerts = 0;
  std::vector<Alert> alerts;
};

// kParse errors say what is wrong and where ("alerts[2].labels.node: expected a string").
// Unknown fields are ignored (Alertmanager adds some over time); missing required ones and
// wrong types are errors, and so is any version other than "4".
Result<Payload> ParsePayload(std::string_view body);

// One evaluation the controller should run now, for one alert.
struct Trigger {
  std::string alertname;
  std::vector<std::string> policy_rules;
  alerts::Subject subject = alerts::Subject::kHost;
  std::optional<int> node;  // from the "node" label, when the alert is about a node
  std::string domain;       // from "domain"/"uuid", when it is about a VM
  std::string uuid;
  std::string instance;

  // "node 1", "vm web-1", "host": matches model::Skip::subject for nodes and VMs.
  std::string Subject() const;
};

struct Matched {
  std::vector<Trigger> triggers;
  size_t resolved = 0;  // resolved alerts: nothing to do
  size_t ignored = 0;   // firing, but not about a policy rule (or no alertname)
};

// Firing alerts whose alertname the generator marks as a controller trigger become
// Triggers; a malformed node label leaves the node unset (the cycle covers every node anyway).
Matched Match(const Payload& payload);

}  // namespace kvmem::webhook
