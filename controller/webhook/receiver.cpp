// The webhook's HTTP checks, its queue of triggered evaluations, its log lines and counters.
#include "controller/webhook/receiver.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <variant>

#include <boost/asio/ip/address.hpp>

#include "common/log.h"

namespace kvmem::webhook {
namespace {

using prometheus::MetricType;
const FamilyDesc kRequests{
    "kvmem_controller_webhook_requests_total",
    "Alertmanager webhook requests by result: accepted, or why they were refused "
    "(bad_request, unauthorized, unprotected, method_not_allowed, too_large, unsupported_media_type).",
    MetricType::Counter,
    {"result"}};
const FamilyDesc kEvaluations{"kvmem_controller_webhook_evaluations_total",
                              "Immediate evaluations that firing alerts triggered through the webhook, by alert.",
                              MetricType::Counter,
                              {"alertname"}};

constexpr std::array<std::string_view, 7> kResults = {
    "accepted",           "bad_request", "unauthorized",          "unprotected",
    "method_not_allowed", "too_large",   "unsupported_media_type"};
constexpr auto kLogEvery = std::chrono::seconds(10);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Compares in time independent of where the first difference is, so response times do not
// reveal the token prefix by prefix.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

bool Authorized(const http::Request& req, const std::string& token) {
  if (token.empty()) return true;
  const std::string header = req.Header("authorization");
  const std::string_view h = Trim(header);
  if (h.size() < 7 || Lower(h.substr(0, 7)) != "bearer ") return false;
  return ConstantTimeEquals(Trim(h.substr(7)), token);
}

bool JsonContentType(const std::string& value) {
  std::string_view v = value;
  v = Trim(v.substr(0, v.find(';')));
  return Lower(v) == "application/json";
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

bool Related(const Trigger& t, const std::string& rule) {
  return std::find(t.policy_rules.begin(), t.policy_rules.end(), rule) != t.policy_rules.end();
}

// The VM an action changes, or nullptr for node actions.
const model::VmRef* VmOf(const model::Action& a) {
  return std::visit(
      [](const auto& x) -> const model::VmRef* {
        if constexpr (requires { x.vm; }) {
          return &x.vm;
        } else {
          return nullptr;
        }
      },
      a);
}

// The node a node action (compaction, a hugepage pool) changes; nullopt for VM actions.
std::optional<int> NodeOf(const model::Action& a) {
  if (const auto* c = std::get_if<model::CompactNode>(&a)) return c->node;
  if (const auto* h = std::get_if<model::ResizeHugepagePool>(&a)) return h->node;
  return std::nullopt;
}

// Does a skip's subject ("vm web-1", "vm web-1 virtio-mem vmem0", "node 1") name this trigger's?
bool SameSubject(const std::string& skip_subject, const std::string& subject) {
  return skip_subject == subject || skip_subject.rfind(subject + " ", 0) == 0;
}

}  // namespace

Result<std::string> ReadBearerTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorKind::kConfig, "--webhook.bearer-token-file: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string token(Trim(text.str()));
  if (token.empty()) return Fail(ErrorKind::kConfig, "--webhook.bearer-token-file: " + path + " is empty");
  return token;
}

Result<void> CheckExposure(const std::string& listen_address, bool has_token) {
  if (has_token) return {};
  auto addr = http::ParseListenAddress(listen_address);
  if (!addr) return tl::unexpected(addr.error());
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(addr->first, ec);
  if (!addr->first.empty() && !ec && ip.is_loopback()) return {};
  return Fail(ErrorKind::kConfig,
              "the webhook needs --webhook.bearer-token-file (or basic_auth_users in --web.config.file) when "
              "--web.listen-address (" +
                  listen_address + ") is not a loopback address; or turn it off with --no-webhook");
}

std::string DescribeOutcome(const Trigger& t, const model::Plan& plan) {
  std::vector<std::string> parts;
  const std::string subject = t.Subject();
  if (t.node) {
    auto it = plan.bands.find(*t.node);
    parts.push_back(it == plan.bands.end() ? "node not observed" : "band " + std::string(model::BandName(it->second)));
  }
  std::vector<std::string> actions, skips;
  for (const auto& a : plan.actions) {
    const auto& reason = model::ReasonOf(a);
    bool mine = Related(t, reason.rule);
    if (t.subject == alerts::Subject::kVm) {
      const model::VmRef* vm = VmOf(a);
      mine = vm != nullptr && (vm->name == t.domain || (!t.uuid.empty() && vm->uuid == t.uuid));
    } else if (const auto node = NodeOf(a); node && t.node) {
      mine = mine && *node == *t.node;
    }
    if (mine) actions.push_back(model::Summary(a));
  }
  for (const auto& s : plan.skips) {
    if (SameSubject(s.subject, subject) && (Related(t, s.rule) || s.rule == "limits")) skips.push_back(s.ToString());
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
  };
  parts.push_back(actions.empty() ? "no action" : join(actions));
  if (!skips.empty()) parts.push_back("skipped: " + join(skips));
  return join(parts);
}

Receiver::Receiver(ReceiverOptions options, std::function<void()> schedule)
    : options_(std::move(options)), schedule_(std::move(schedule)) {
  for (auto r : kResults) requests_[std::string(r)] = 0;
  for (const auto& g : alerts::BuildRules(model::Policy{})) {
    for (const auto& a : g.alerts) {
      if (!a.policy_rules.empty()) evaluations_[a.name] = 0;
    }
  }
}

void Receiver::Count(std::string_view result) {
  std::lock_guard lock(mutex_);
  ++requests_[std::string(result)];
}

void Receiver::NoteServerRefusal(int status, const http::Request& partial) {
  const char* result = status == 401 ? "unauthorized" : status == 413 || status == 431 ? "too_large" : "bad_request";
  Reject(status, result, "refused by the HTTP server before parsing (status " + std::to_string(status) + ")", partial);
}

http::Response Receiver::Reject(int status, std::string_view result, const std::string& why,
                                const http::Request& request) {
  uint64_t suppressed = 0;
  bool log_now = false;
  {
    std::lock_guard lock(mutex_);
    ++requests_[std::string(result)];
    auto& gate = log_gates_[std::string(result)];
    const auto now = options_.clock();
    // One line per kind of refusal per 10 s: a misconfigured sender must not flood the log.
    if (gate.last == std::chrono::steady_clock::time_point{} || now - gate.last >= kLogEvery) {
      log_now = true;
      suppressed = gate.suppressed;
      gate = {now, 0};
    } else {
      ++gate.suppressed;
    }
  }
  if (log_now) {
    log::Warn("webhook request refused", {{"status", std::to_string(status)},
                                          {"result", std::string(result)},
                                          {"err", why},
                                          {"peer", request.peer},
                                          {"suppressed_since_last", std::to_string(suppressed)}});
  }
  http::Response r = http::TextResponse(status, why + "\n");
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kvmem_controller\"");
  if (status == 405) r.headers.emplace_back("Allow", "POST");
  return r;
}

http::Response Receiver::Handle(const http::Request& req) {
  if (req.method != "POST")
    return Reject(405, "method_not_allowed", "method " + req.method + " not allowed; use POST", req);
  if (!Authorized(req, options_.bearer_token)) {
    return Reject(401, "unauthorized", "missing or wrong bearer token", req);
  }
  if (options_.require_basic_user && req.user.empty()) {
    return Reject(403, "unprotected",
                  "the webhook listens beyond loopback and the web config no longer has basic_auth_users; "
                  "restore them or start with --webhook.bearer-token-file",
                  req);
  }
  if (req.body.size() > options_.max_body_bytes) {
    return Reject(413, "too_large",
                  "body of " + std::to_string(req.body.size()) + " bytes exceeds the limit of " +
                      std::to_string(options_.max_body_bytes) + "; set max_alerts in Alertmanager's webhook_config",
                  req);
  }
  if (!JsonContentType(req.Header("content-type"))) {
    return Reject(415, "unsupported_media_type",
                  "content type \"" + req.Header("content-type") + "\" is not application/json", req);
  }
  auto payload = ParsePayload(req.body);
  if (!payload) return Reject(400, "bad_request", "bad webhook payload: " + payload.error().message, req);

  Matched m = Match(*payload);
  const size_t triggered = m.triggers.size();
  bool schedule = false;
  {
    std::lock_guard lock(mutex_);
    ++requests_["accepted"];
    if (!m.triggers.empty()) {
      std::move(m.triggers.begin(), m.triggers.end(), std::back_inserter(pending_));
      schedule = !scheduled_;
      scheduled_ = true;
    }
  }
  log::Debug("webhook request accepted", {{"receiver", payload->receiver},
                                          {"alerts", std::to_string(payload->alerts.size())},
                                          {"triggered", std::to_string(triggered)},
                                          {"ignored", std::to_string(m.ignored)},
                                          {"resolved", std::to_string(m.resolved)},
                                          {"peer", req.peer}});
  if (schedule) schedule_();
  http::Response r;
  r.content_type = "application/json";
  r.body = "{\"status\":\"success\",\"alerts\":" + std::to_string(payload->alerts.size()) +
           ",\"triggered\":" + std::to_string(triggered) + ",\"ignored\":" + std::to_string(m.ignored) +
           ",\"resolved\":" + std::to_string(m.resolved) + ",\"receiver\":" + JsonString(payload->receiver) + "}\n";
  return r;
}

void Receiver::RunPending(const std::function<model::Plan()>& run_cycle) {
  std::vector<Trigger> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    scheduled_ = false;
  }
  if (batch.empty()) return;
  // One cycle answers the whole batch: it evaluates every rule for every node and VM.
  const model::Plan plan = run_cycle();
  for (const auto& t : batch) {
    std::string rules;
    for (const auto& r : t.policy_rules) rules += (rules.empty() ? "" : ",") + r;
    log::Info("webhook evaluation", {{"alertname", t.alertname},
                                     {"subject", t.Subject()},
                                     {"rules", rules},
                                     {"instance", t.instance},
                                     {"outcome", DescribeOutcome(t, plan)}});
    std::lock_guard lock(mutex_);
    ++evaluations_[t.alertname];
  }
}

std::vector<const FamilyDesc*> Receiver::Families() { return {&kRequests, &kEvaluations}; }

void Receiver::Collect(MetricSink& out) const {
  std::lock_guard lock(mutex_);
  for (const auto& [result, n] : requests_) out.Add(kRequests, {result}, static_cast<double>(n));
  for (const auto& [name, n] : evaluations_) out.Add(kEvaluations, {name}, static_cast<double>(n));
}

}  // namespace kvmem::webhook
