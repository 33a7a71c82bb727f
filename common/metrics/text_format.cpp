// The text format writer.
#include "common/metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace kvmem {
namespace {

void AppendEscaped(std::string& out, const std::string& s, bool quote) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

void AppendValue(std::string& out, double v) {
  char buf[32];
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out.append(buf, r.ptr);
}

const char* TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    default: return "untyped";
  }
}

}  // namespace

std::string SerializeText(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  out.reserve(64 * 1024);
  for (const auto& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    AppendEscaped(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += TypeName(f.type);
    out += '\n';
    for (const auto& m : f.metric) {
      out += f.name;
      if (!m.label.empty()) {
        out += '{';
        bool first = true;
        for (const auto& l : m.label) {
          if (!first) out += ',';
          first = false;
          out += l.name;
          out += "=\"";
          AppendEscaped(out, l.value, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      AppendValue(out, f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace kvmem
