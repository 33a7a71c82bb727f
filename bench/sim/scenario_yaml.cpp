// Scenario files: YAML in, a checked Scenario out. Scalars use the policy file's units
// (controller/config/quantity.h), so "6.5GiB", "10m" and "15%" mean the same everywhere.
// yaml-cpp throws; so does this file's reader internally, and ParseScenario turns both into an
// error that names the key and its line.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/sim/scenario.h"
#include "common/yaml_map.h"
#include "controller/config/quantity.h"

namespace kvmem::sim {
namespace {

struct LoadError {
  std::string message;
};

std::string Where(const YAML::Node& n) { return yaml_map::Position(n.Mark()); }

const yaml_map::Style kStyle{"the scenario", false, true};

// One mapping of the file: the shared strict walk (unknown and duplicate keys refused), and
// scalars read with their units.
class Map {
 public:
  Map(const YAML::Node& node, std::string path, std::vector<std::string_view> allowed) : path_(std::move(path)) {
    if (!node.IsMap()) throw LoadError{path_ + " at " + Where(node) + ": expected a mapping"};
    auto entries = yaml_map::Walk(node, path_, {std::move(allowed)}, kStyle);
    if (!entries) throw LoadError{entries.error().message};
    for (auto& e : *entries) entries_.emplace(e.key, std::move(e));
  }
  bool Has(const std::string& key) const {
    auto it = entries_.find(key);
    return it != entries_.end() && !it->second.value.IsNull();
  }
  YAML::Node Get(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? YAML::Node() : it->second.value;
  }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <class T, class Parse>
  T Read(const std::string& key, T fallback, Parse parse) const {
    if (!Has(key)) return fallback;
    const yaml_map::Entry& e = entries_.at(key);
    auto text = yaml_map::Scalar(e, kStyle);
    if (!text) throw LoadError{text.error().message};
    auto parsed = parse(*text);
    if (!parsed) throw LoadError{yaml_map::At(e, parsed.error(), kStyle).message};
    return static_cast<T>(*parsed);
  }

  // A value that is not a key's (a list item, a residency weight).
  template <class T, class Parse>
  static T Scalar(const YAML::Node& v, const std::string& path, Parse parse) {
    if (!v.IsScalar()) throw LoadError{path + " at " + Where(v) + ": expected a single value"};
    auto parsed = parse(v.Scalar());
    if (!parsed) throw LoadError{path + " at " + Where(v) + ": " + parsed.error()};
    return static_cast<T>(*parsed);
  }

 private:
  std::string path_;
  std::map<std::string, yaml_map::Entry> entries_;
};

config::Parsed<std::string> AnyText(std::string_view s) { return std::string(s); }
config::Parsed<double> ParseNumber(std::string_view s) {
  try {
    size_t used = 0;
    const double v = std::stod(std::string(s), &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return tl::unexpected("expected a number, got \"" + std::string(s) + "\"");
}

double Size(const YAML::Node& v, const std::string& path) {
  return static_cast<double>(Map::Scalar<uint64_t>(v, path, config::ParseSize));
}

Trace ReadTrace(const YAML::Node& node, const std::string& path, uint64_t seed) {
  Trace t;
  t.noise_seed = SeedFor(seed, path);
  if (node.IsScalar()) {
    t.base = Size(node, path);
    return t;
  }
  Map m(node, path, {"base", "steps", "ramps", "sine", "noise"});
  t.base = m.Has("base") ? Size(m.Get("base"), m.Path("base")) : 0;
  if (m.Has("steps")) {
    for (const auto& s : m.Get("steps")) {
      Map sm(s, m.Path("steps"), {"at", "to"});
      const Duration at = sm.Read("at", Duration{0}, config::ParseDuration);
      t.segments.push_back({at, at, Size(sm.Get("to"), sm.Path("to"))});
    }
  }
  if (m.Has("ramps")) {
    for (const auto& r : m.Get("ramps")) {
      Map rm(r, m.Path("ramps"), {"start", "end", "to"});
      t.segments.push_back({rm.Read("start", Duration{0}, config::ParseDuration),
                            rm.Read("end", Duration{0}, config::ParseDuration), Size(rm.Get("to"), rm.Path("to"))});
      if (t.segments.back().end <= t.segments.back().start) throw LoadError{path + ": a ramp must end after it starts"};
    }
  }
  std::stable_sort(t.segments.begin(), t.segments.end(), [](auto& a, auto& b) { return a.start < b.start; });
  for (size_t i = 1; i < t.segments.size(); ++i) {
    if (t.segments[i].start < t.segments[i - 1].end) throw LoadError{path + ": steps and ramps overlap"};
  }
  if (m.Has("sine")) {
    Map s(m.Get("sine"), m.Path("sine"), {"amplitude", "period", "phase"});
    t.sine_amplitude = Size(s.Get("amplitude"), s.Path("amplitude"));
    t.sine_period = s.Read("period", Duration{0}, config::ParseDuration);
    t.sine_phase = s.Read("phase", 0.0, config::ParseRatio);
    if (t.sine_period.count() <= 0) throw LoadError{s.Path("period") + ": a sine needs a period"};
  }
  if (m.Has("noise")) {
    Map n(m.Get("noise"), m.Path("noise"), {"amplitude", "every"});
    t.noise_amplitude = Size(n.Get("amplitude"), n.Path("amplitude"));
    t.noise_every = n.Read("every", Duration{1000}, config::ParseDuration);
    if (t.noise_every.count() <= 0) throw LoadError{n.Path("every") + ": must be positive"};
  }
  return t;
}

// `jitter` scales the levels of instance i of a group; `phase_spread` shifts its sine.
Trace Vary(Trace t, double jitter, double phase_spread, uint64_t seed) {
  const double scale = 1 + jitter * (2 * Uniform(seed, 1) - 1);
  t.base *= scale;
  for (auto& s : t.segments) s.value *= scale;
  t.sine_amplitude *= scale;
  t.sine_phase += phase_spread * Uniform(seed, 2);
  return t;
}

void ReadVms(const Scenario& sc, const YAML::Node& list, Duration stats_default, std::vector<VmSpec>& out) {
  for (const auto& v : list) {
    Map m(v, "vms",
          {"name", "count", "max", "balloon", "min", "shares", "node", "residency", "demand", "jitter", "phase_spread",
           "virtio_mem", "stats_period", "priority", "image", "shareable", "nosharepages", "cold"});
    const std::string name = m.Read("name", std::string(), AnyText);
    if (name.empty()) throw LoadError{"vms at " + Where(v) + ": every VM needs a name"};
    const int64_t count = m.Read("count", int64_t{0}, config::ParseInteger);
    const double jitter = m.Read("jitter", 0.0, config::ParseRatio);
    const double spread = m.Read("phase_spread", 0.0, config::ParseRatio);
    VmSpec base;
    base.max = m.Read("max", uint64_t{0}, config::ParseSize);
    base.balloon = m.Read("balloon", base.max, config::ParseSize);
    base.min = m.Read("min", std::min<uint64_t>(512ULL << 20, base.balloon), config::ParseSize);
    base.shares = static_cast<uint64_t>(m.Read("shares", int64_t{1000}, config::ParseInteger));
    base.priority = static_cast<int>(m.Read("priority", int64_t{0}, config::ParseInteger));
    base.stats_period = m.Read("stats_period", stats_default, config::ParseDuration);
    base.image = m.Read("image", std::string(), AnyText);
    base.shareable = m.Read("shareable", 0.0, config::ParseRatio);
    base.nosharepages = m.Read("nosharepages", false, yaml_map::ParseBool);
    base.cold = m.Read("cold", 0.0, config::ParseRatio);
    if (base.shareable > 1 || base.cold > 1 || (base.shareable > 0 && base.image.empty())) {
      throw LoadError{"vm " + name + " at " + Where(v) +
                      ": shareable and cold are at most 100 %; shareable needs an image"};
    }
    if (count < 0 || base.max == 0 || base.balloon > base.max || base.min > base.max ||
        base.stats_period.count() <= 0) {
      throw LoadError{"vm " + name + " at " + Where(v) +
                      ": needs count >= 0, 0 < max, balloon <= max, min <= max, stats_period > 0"};
    }
    if (m.Has("node")) base.residency[static_cast<int>(m.Read("node", int64_t{0}, config::ParseInteger))] = 1;
    if (m.Has("residency")) {
      for (auto it = m.Get("residency").begin(); it != m.Get("residency").end(); ++it) {
        const auto node = Map::Scalar<int64_t>(it->first, m.Path("residency"), config::ParseInteger);
        base.residency[static_cast<int>(node)] = Map::Scalar<double>(it->second, m.Path("residency"), ParseNumber);
      }
    }
    for (const auto& [node, w] : base.residency) {
      if (node < 0 || static_cast<size_t>(node) >= sc.nodes.size() || w < 0) {
        throw LoadError{"vm " + name + ": residency names node " + std::to_string(node) + ", which does not exist"};
      }
    }
    if (m.Has("virtio_mem")) {
      Map d(m.Get("virtio_mem"), m.Path("virtio_mem"), {"node", "size", "block", "plugged"});
      VirtioMemSpec dev{static_cast<int>(d.Read("node", int64_t{0}, config::ParseInteger)),
                        d.Read("size", uint64_t{0}, config::ParseSize),
                        d.Read("block", uint64_t{2} << 20, config::ParseSize),
                        d.Read("plugged", uint64_t{0}, config::ParseSize)};
      if (dev.node < 0 || static_cast<size_t>(dev.node) >= sc.nodes.size() || dev.block == 0 ||
          dev.size % dev.block != 0 || dev.plugged % dev.block != 0 || dev.plugged > dev.size) {
        throw LoadError{"vm " + name +
                        ": virtio_mem needs an existing node, size and plugged multiples of block, plugged <= size"};
      }
      base.virtio_mem = dev;
    }
    const Trace demand = ReadTrace(m.Get("demand"), "vms." + name + ".demand", sc.seed);
    const int64_t n = std::max<int64_t>(count, 1);
    for (int64_t i = 0; i < n; ++i) {
      VmSpec vm = base;
      vm.name = count > 0 ? name + "-" + std::to_string(i) : name;
      const uint64_t seed = SeedFor(sc.seed, vm.name);
      vm.demand = Vary(demand, jitter, spread, seed);
      vm.demand.noise_seed = SeedFor(seed, "demand");
      // Guests do not refresh their statistics in lockstep: spread the first refresh.
      const auto ticks = vm.stats_period.count() / std::max<int64_t>(sc.tick.count(), 1);
      vm.stats_phase = sc.tick * static_cast<int64_t>(Uniform(seed, 3) * static_cast<double>(ticks));
      out.push_back(std::move(vm));
    }
  }
}

// `ksm:` and `offload:`, the density model's host parameters (docs/simulator.md).
void ReadDensity(const Map& top, Scenario& sc) {
  sc.cpus = static_cast<int>(top.Read("cpus", int64_t{0}, config::ParseInteger));
  if (sc.cpus < 0) throw LoadError{"cpus: must be >= 0"};
  if (top.Has("ksm")) {
    Map m(top.Get("ksm"), "ksm", {"run", "pages_to_scan", "sleep_millisecs", "cpu_per_page", "cow_per_minute"});
    KsmSpec k;
    k.run = static_cast<int>(m.Read("run", int64_t{k.run}, config::ParseInteger));
    k.pages_to_scan = static_cast<uint64_t>(m.Read("pages_to_scan", int64_t{100}, config::ParseInteger));
    k.sleep_millisecs = static_cast<uint64_t>(m.Read("sleep_millisecs", int64_t{20}, config::ParseInteger));
    k.cpu_per_page = m.Read("cpu_per_page", k.cpu_per_page, ParseNumber);
    k.cow_per_minute = m.Read("cow_per_minute", k.cow_per_minute, config::ParseRatio);
    if (k.run < 0 || k.run > 1 || k.cpu_per_page <= 0 || k.cow_per_minute > 1) {
      throw LoadError{"ksm: needs run 0 or 1, cpu_per_page > 0 and cow_per_minute <= 100%"};
    }
    sc.ksm = k;
  }
  if (top.Has("offload")) {
    Map m(top.Get("offload"), "offload",
          {"compression_ratio", "refault_stall", "warm_touch_per_minute", "cold_touch_per_minute"});
    OffloadSpec o;
    o.compression_ratio = m.Read("compression_ratio", o.compression_ratio, ParseNumber);
    o.refault_stall = m.Read("refault_stall", o.refault_stall, ParseNumber);
    o.warm_touch_per_minute = m.Read("warm_touch_per_minute", o.warm_touch_per_minute, config::ParseRatio);
    o.cold_touch_per_minute = m.Read("cold_touch_per_minute", o.cold_touch_per_minute, config::ParseRatio);
    if (o.compression_ratio < 1 || o.refault_stall < 0 || o.warm_touch_per_minute > 1 || o.cold_touch_per_minute > 1) {
      throw LoadError{"offload: needs compression_ratio >= 1, refault_stall >= 0, touch rates <= 100%"};
    }
    sc.offload = o;
  }
}

Scenario Read(const YAML::Node& root, std::string name) {
  Map top(root, "",
          {"title", "description", "duration", "warmup", "disturbance", "settling", "seed", "band", "actuation_delay",
           "tick", "stats_period", "nodes", "vms", "outages", "targets", "cpus", "ksm", "offload"});
  Scenario sc;
  sc.name = std::move(name);
  sc.title = top.Read("title", sc.name, AnyText);
  sc.description = top.Read("description", std::string(), AnyText);
  sc.duration = top.Read("duration", Duration{0}, config::ParseDuration);
  sc.warmup = top.Read("warmup", Duration{0}, config::ParseDuration);
  sc.disturbance = top.Read("disturbance", sc.warmup, config::ParseDuration);
  sc.settling = top.Read("settling", true, yaml_map::ParseBool);
  sc.seed = static_cast<uint64_t>(top.Read("seed", int64_t{1}, config::ParseInteger));
  sc.tick = top.Read("tick", sc.tick, config::ParseDuration);
  if (top.Has("band")) {
    const YAML::Node b = top.Get("band");
    if (!b.IsSequence() || b.size() != 2) throw LoadError{"band at " + Where(b) + ": expected [low, high]"};
    sc.band_low = Map::Scalar<double>(b[0], "band", config::ParseRatio);
    sc.band_high = Map::Scalar<double>(b[1], "band", config::ParseRatio);
  }
  if (top.Has("actuation_delay")) {
    const YAML::Node d = top.Get("actuation_delay");
    const bool pair = d.IsSequence() && d.size() == 2;
    sc.delay_min = Map::Scalar<Duration>(pair ? d[0] : d, "actuation_delay", config::ParseDuration);
    sc.delay_max = pair ? Map::Scalar<Duration>(d[1], "actuation_delay", config::ParseDuration) : sc.delay_min;
  }
  const Duration stats_default = top.Read("stats_period", Duration{5000}, config::ParseDuration);
  if (!top.Has("nodes") || !top.Get("nodes").IsSequence()) throw LoadError{"nodes: expected a list of nodes"};
  for (const auto& n : top.Get("nodes")) {
    Map m(n, "nodes", {"total", "host"});
    NodeSpec node;
    node.id = static_cast<int>(sc.nodes.size());
    node.total = m.Read("total", uint64_t{0}, config::ParseSize);
    node.host =
        m.Has("host") ? ReadTrace(m.Get("host"), "nodes." + std::to_string(node.id) + ".host", sc.seed) : Trace{};
    if (node.total == 0) throw LoadError{"nodes at " + Where(n) + ": total must be positive"};
    sc.nodes.push_back(std::move(node));
  }
  ReadDensity(top, sc);
  if (top.Has("vms")) ReadVms(sc, top.Get("vms"), stats_default, sc.vms);
  if (top.Has("outages")) {
    for (const auto& o : top.Get("outages")) {
      Map m(o, "outages", {"vm", "from", "to", "mode"});
      Outage out{m.Read("vm", std::string(), AnyText), m.Read("from", Duration{0}, config::ParseDuration),
                 m.Read("to", Duration{0}, config::ParseDuration), false};
      const std::string mode = m.Read("mode", std::string("stale"), AnyText);
      if (mode != "stale" && mode != "missing") throw LoadError{"outages.mode: expected stale or missing"};
      out.missing = mode == "missing";
      if (sc.FindVm(out.vm) == nullptr) throw LoadError{"outages: no VM named " + out.vm};
      sc.outages.push_back(std::move(out));
    }
  }
  if (top.Has("targets")) {
    Map t(top.Get("targets"), "targets",
          {"settle_faster", "direction_changes_at_most", "no_blind_shrinks", "priority_spared", "ksm_cpu_at_most",
           "offload_saves_at_least", "refaults_at_most"});
    if (t.Has("settle_faster")) sc.targets.settle_faster = t.Read("settle_faster", 0.0, ParseNumber);
    if (t.Has("direction_changes_at_most")) {
      sc.targets.direction_changes_at_most =
          static_cast<int>(t.Read("direction_changes_at_most", int64_t{0}, config::ParseInteger));
    }
    sc.targets.no_blind_shrinks = t.Read("no_blind_shrinks", false, yaml_map::ParseBool);
    sc.targets.priority_spared = t.Read("priority_spared", false, yaml_map::ParseBool);
    if (t.Has("ksm_cpu_at_most")) sc.targets.ksm_cpu_at_most = t.Read("ksm_cpu_at_most", 0.0, config::ParseRatio);
    if (t.Has("offload_saves_at_least")) {
      sc.targets.offload_saves_at_least = t.Read("offload_saves_at_least", 0.0, config::ParseRatio);
    }
    if (t.Has("refaults_at_most")) sc.targets.refaults_at_most = t.Read("refaults_at_most", 0.0, config::ParseRatio);
  }
  if (sc.duration.count() <= 0 || sc.warmup > sc.disturbance || sc.disturbance >= sc.duration) {
    throw LoadError{"timing: needs 0 <= warmup <= disturbance < duration"};
  }
  if (!(sc.band_low < sc.band_high) || sc.delay_min > sc.delay_max || sc.tick.count() <= 0) {
    throw LoadError{"band low < high, actuation_delay min <= max and tick > 0 are required"};
  }
  return sc;
}

}  // namespace

Result<Scenario> ParseScenario(std::string_view yaml, const std::string& file, std::string name) {
  try {
    return Read(YAML::Load(std::string(yaml)), std::move(name));
  } catch (const LoadError& e) {
    return Fail(ErrorKind::kConfig, e.message, file);
  } catch (const YAML::Exception& e) {
    return Fail(ErrorKind::kConfig, e.what(), file);
  }
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorKind::kConfig, "cannot read the scenario file", path);
  std::stringstream text;
  text << in.rdbuf();
  // "1-step.yaml" is the scenario "step": a leading number only orders the report.
  std::string name = std::filesystem::path(path).stem().string();
  const size_t digits = name.find_first_not_of("0123456789");
  if (digits > 0 && digits != std::string::npos && name[digits] == '-') name.erase(0, digits + 1);
  return ParseScenario(text.str(), path, std::move(name));
}

}  // namespace kvmem::sim
