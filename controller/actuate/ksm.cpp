// KSM's knobs through sysfs.
#include "controller/actuate/ksm.h"

#include <unistd.h>

#include <chrono>

#include "host/write/sysfs.h"

namespace kvmem::actuate {
namespace {

std::string Describe(const model::KsmSettings& k) {
  return "run " + std::to_string(k.run) + ", pages_to_scan " + std::to_string(k.pages_to_scan) + ", sleep_millisecs " +
         std::to_string(k.sleep_millisecs);
}

}  // namespace

std::string KsmActuator::Refusal(const model::Action& action) const noexcept {
  try {
    const auto* set = std::get_if<model::SetKsm>(&action);
    if (!set) return "the ksm actuator only sets KSM's knobs";
    if (set->to.run != 0 && set->to.run != 1) return "run " + std::to_string(set->to.run) + " is never written";
    if (set->to.pages_to_scan == 0 || set->to.sleep_millisecs == 0) {
      return "pages_to_scan and sleep_millisecs must be at least 1";
    }
    if (access(dir_.c_str(), F_OK) != 0) return dir_ + " is missing: this kernel has no KSM";
    const std::string run = dir_ + "/run";
    if (access(run.c_str(), W_OK) != 0) return run + " is not writable (read-only sysfs, or not root)";
    return {};
  } catch (...) {
    return "out of memory";
  }
}

model::Outcome KsmActuator::Apply(const model::Action& action) noexcept {
  model::Outcome out;
  try {
    if (Refused(*this, action, out)) return out;
    const model::KsmSettings& to = std::get<model::SetKsm>(action).to;
    const auto start = std::chrono::steady_clock::now();
    const std::pair<const char*, uint64_t> writes[] = {{"pages_to_scan", to.pages_to_scan},
                                                       {"sleep_millisecs", to.sleep_millisecs},
                                                       {"run", static_cast<uint64_t>(to.run)}};
    for (const auto& [file, value] : writes) {
      const std::string text = std::to_string(value);
      auto written = hostwrite::WriteKnob(dir_ + "/" + file, text + "\n", std::string(file) + "=" + text,
                                          /*truncate=*/true);
      if (!written) {
        out.ok = false;
        out.error = written.error().message;
        break;
      }
    }
    out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
    if (!out.ok || !read_back_) return out;
    auto now = read_back_->KsmKnobs();
    if (!now) {
      out.ok = false;
      out.error = "written, but reading back failed: " + now.error().ToString();
    } else if (!(*now == to)) {
      out.ok = false;
      out.error = "wrote " + Describe(to) + " but reads back " + Describe(*now);
    }
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

}  // namespace kvmem::actuate
