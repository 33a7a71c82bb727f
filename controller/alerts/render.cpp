// Rule groups -> a Prometheus rule file. Hand-rolled rather than yaml-cpp so the output is
// stable byte for byte (alerts/kvmem.rules.yml is compared with it) and the generator links
// nothing but the model.
#include <string>

#include "controller/alerts/rules.h"

namespace kvmem::alerts {
namespace {

// A double-quoted YAML scalar: safe for every template character ({{ }}, |, :, #, quotes).
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

// PromQL reads best unquoted; a plain scalar is safe when nothing in it means something to
// YAML. Multi-line expressions become literal blocks, as people write them by hand.
std::string Expr(const std::string& expr, const std::string& indent) {
  if (expr.find('\n') != std::string::npos) {
    std::string out = "|-\n" + indent + "  ";
    for (char ch : expr) {
      out += ch;
      if (ch == '\n') out += indent + "  ";
    }
    return out;
  }
  const bool plain = !expr.empty() && expr.find(": ") == std::string::npos && expr.find(" #") == std::string::npos &&
                     std::string("-?:,[]{}#&*!|>'\"%@`").find(expr.front()) == std::string::npos &&
                     expr.back() != ' ' && expr.back() != ':';
  return plain ? expr : Quoted(expr);
}

}  // namespace

std::string RenderRules(const std::vector<RuleGroup>& groups, const Options& options) {
  const bool fleet = options.printed_by != "--print-alert-rules";
  std::string out =
      fleet ? "# kvmem fleet recording rules, for the Prometheus or vmalert that sees every host, printed by\n"
              "#   kvmem_controller " +
                  options.printed_by +
                  "\n"
                  "# Do not edit: regenerate. What each rule is for and how to deploy them: docs/fleet.md.\n"
            : "# kvmem alerting and recording rules, generated from a kvmem_controller policy by\n"
              "#   kvmem_controller --policy FILE --print-alert-rules\n"
              "# Do not edit: change the policy and regenerate, so that the alerts keep the controller's\n"
              "# thresholds. Runbook: alerts/runbook.md. Operator guide: docs/monitoring.md.\n";
  out += "groups:\n";
  const std::string ind = "        ";  // under "      - alert:"
  for (const auto& g : groups) {
    out += "  - name: " + g.name + "\n    rules:\n";
    for (const auto& r : g.records) {
      out += "      - record: " + r.record + "\n";
      out += "        expr: " + Expr(r.expr, ind) + "\n";
    }
    for (const auto& a : g.alerts) {
      out += "      - alert: " + a.name + "\n";
      out += "        expr: " + Expr(a.expr, ind) + "\n";
      if (a.for_duration.count() > 0) out += "        for: " + PromDuration(a.for_duration) + "\n";
      out += "        labels:\n          severity: " + a.severity + "\n";
      out += "        annotations:\n";
      out += "          summary: " + Quoted(a.summary) + "\n";
      out += "          description: " + Quoted(a.description) + "\n";
      out += "          runbook_url: " + Quoted(options.runbook_url + "#" + RunbookAnchor(a.name)) + "\n";
    }
  }
  return out;
}

}  // namespace kvmem::alerts
