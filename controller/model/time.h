// The controller's notion of time: a millisecond time point that callers pass in.
// The daemon feeds steady_clock readings, the simulator starts at zero; pure code never
// reads a clock. Header-only. Thread-safe (types only). Throws nothing.
#pragma once

#include <chrono>

namespace kvmem::model {

using Duration = std::chrono::milliseconds;
// A steady clock so that cooldowns survive NTP steps. Wall-clock stamps (libvirt's
// balloon last-update) are converted by the observer: steady_now - (system_now - stamp).
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

inline double Seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

// steady_clock::now() rounded to our resolution; for the daemon, never for pure code.
inline TimePoint ToTimePoint(std::chrono::steady_clock::time_point t) {
  return std::chrono::time_point_cast<Duration>(t);
}

}  // namespace kvmem::model
