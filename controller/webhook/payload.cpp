// Parsing Alertmanager's webhook JSON and matching its alerts to policy rules.
#include "controller/webhook/payload.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace kvmem::webhook {
namespace {

using json = nlohmann::json;

Result<std::string> String(const json& obj, const std::string& key, const std::string& where, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Fail(ErrorKind::kParse, where + key + ": missing");
    return std::string();
  }
  if (!it->is_string()) return Fail(ErrorKind::kParse, where + key + ": expected a string, got " + it->type_name());
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> StringMap(const json& obj, const std::string& key,
                                                     const std::string& where) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return Fail(ErrorKind::kParse, where + key + ": expected an object, got " + it->type_name());
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return Fail(ErrorKind::kParse, where + key + "." + k + ": expected a string, got " + v.type_name());
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Alert> ParseAlert(const json& a, const std::string& where) {
  if (!a.is_object()) return Fail(ErrorKind::kParse, where + ": expected an object, got " + a.type_name());
  Alert alert;
  auto status = String(a, "status", where + ".", true);
  if (!status) return tl::unexpected(status.error());
  if (*status != "firing" && *status != "resolved") {
    return Fail(ErrorKind::kParse, where + ".status: expected \"firing\" or \"resolved\", got \"" + *status + "\"");
  }
  alert.status = std::move(*status);
  auto labels = StringMap(a, "labels", where + ".");
  if (!labels) return tl::unexpected(labels.error());
  alert.labels = std::move(*labels);
  auto annotations = StringMap(a, "annotations", where + ".");
  if (!annotations) return tl::unexpected(annotations.error());
  alert.annotations = std::move(*annotations);
  auto starts = String(a, "startsAt", where + ".", false);
  if (!starts) return tl::unexpected(starts.error());
  alert.starts_at = std::move(*starts);
  auto fp = String(a, "fingerprint", where + ".", false);
  if (!fp) return tl::unexpected(fp.error());
  alert.fingerprint = std::move(*fp);
  return alert;
}

}  // namespace

std::string Alert::Label(const std::string& name) const {
  auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

Result<Payload> ParsePayload(std::string_view body) {
  // No exceptions: a malformed body yields a discarded value, checked below.
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail(ErrorKind::kParse, "body is not valid JSON");
  if (!doc.is_object()) return Fail(ErrorKind::kParse, std::string("expected a JSON object, got ") + doc.type_name());
  Payload p;
  auto version = String(doc, "version", "", true);
  if (!version) return tl::unexpected(version.error());
  if (*version != "4") return Fail(ErrorKind::kParse, "version: expected \"4\", got \"" + *version + "\"");
  p.version = std::move(*version);
  for (auto [key, target] :
       {std::pair{"status", &p.status}, std::pair{"receiver", &p.receiver}, std::pair{"groupKey", &p.group_key}}) {
    auto v = String(doc, key, "", false);
    if (!v) return tl::unexpected(v.error());
    *target = std::move(*v);
  }
  if (auto it = doc.find("truncatedAlerts"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return Fail(ErrorKind::kParse, "truncatedAlerts: expected a non-negative integer");
    p.truncated_alerts = it->get<uint64_t>();
  }
  auto alerts = doc.find("alerts");
  if (alerts == doc.end()) return Fail(ErrorKind::kParse, "alerts: missing");
  if (!alerts->is_array())
    return Fail(ErrorKind::kParse, std::string("alerts: expected an array, got ") + alerts->type_name());
  p.alerts.reserve(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    auto a = ParseAlert((*alerts)[i], "alerts[" + std::to_string(i) + "]");
    if (!a) return tl::unexpected(a.error());
    p.alerts.push_back(std::move(*a));
  }
  return p;
}

std::string Trigger::Subject() const {
  switch (subject) {
    case alerts::Subject::kNode:
      if (node) return "node " + std::to_string(*node);
      break;
    case alerts::Subject::kVm:
      if (!domain.empty()) return "vm " + domain;
      if (!uuid.empty()) return "vm " + uuid;
      break;
    case alerts::Subject::kHost: break;
  }
  return "host";
}

Matched Match(const Payload& payload) {
  Matched m;
  for (const auto& a : payload.alerts) {
    if (a.status != "firing") {
      ++m.resolved;
      continue;
    }
    const std::string name = a.Label("alertname");
    auto hint = alerts::HintFor(name);
    if (!hint) {
      ++m.ignored;
      continue;
    }
    Trigger t{
        name, hint->policy_rules, hint->subject, std::nullopt, a.Label("domain"), a.Label("uuid"), a.Label("instance")};
    if (hint->subject == alerts::Subject::kNode) {
      const std::string node = a.Label("node");
      int id = -1;
      auto [ptr, ec] = std::from_chars(node.data(), node.data() + node.size(), id);
      if (ec == std::errc() && ptr == node.data() + node.size() && id >= 0) t.node = id;
    }
    m.triggers.push_back(std::move(t));
  }
  return m;
}

}  // namespace kvmem::webhook
