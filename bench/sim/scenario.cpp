// Trace evaluation, seeded noise and scenario look-ups.
#include "bench/sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kvmem::sim {
namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double Ms(Duration d) { return static_cast<double>(d.count()); }

}  // namespace

double Uniform(uint64_t seed, uint64_t index) {
  return static_cast<double>(SplitMix(SplitMix(seed) ^ index) >> 11) / static_cast<double>(1ULL << 53);
}

uint64_t SeedFor(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return SplitMix(seed ^ h);
}

double Trace::Level(Duration t) const {
  double level = base;
  for (const Segment& s : segments) {
    if (t < s.start) break;
    if (t >= s.end) {
      level = s.value;
      continue;
    }
    level += (s.value - level) * Ms(t - s.start) / Ms(s.end - s.start);
    break;
  }
  return level;
}

double Trace::At(Duration t) const {
  double v = Level(t);
  if (sine_amplitude != 0 && sine_period.count() > 0) {
    v += sine_amplitude * std::sin(2 * std::numbers::pi * (Ms(t) / Ms(sine_period) + sine_phase));
  }
  if (noise_amplitude != 0 && noise_every.count() > 0 && t.count() >= 0) {
    const auto slot = static_cast<uint64_t>(t.count() / noise_every.count());
    v += noise_amplitude * (2 * Uniform(noise_seed, slot) - 1);
  }
  return std::max(v, 0.0);
}

const VmSpec* Scenario::FindVm(std::string_view vm_name) const {
  for (const auto& vm : vms) {
    if (vm.name == vm_name) return &vm;
  }
  return nullptr;
}

bool Scenario::InOutage(std::string_view vm, Duration t, bool* missing) const {
  for (const auto& o : outages) {
    if (o.vm == vm && t >= o.from && t < o.to) {
      if (missing != nullptr) *missing = o.missing;
      return true;
    }
  }
  return false;
}

}  // namespace kvmem::sim
