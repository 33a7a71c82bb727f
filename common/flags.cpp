// Flag parsing and the --help text.
#include "common/flags.h"

#include <charconv>
#include <cmath>

namespace kvmem {

bool ParseDuration(std::string_view text, std::chrono::milliseconds* out) {
  if (text.empty()) return false;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0 || !std::isfinite(value)) return false;
  std::string_view unit(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else
    return false;
  *out = std::chrono::milliseconds(static_cast<long long>(std::llround(value * scale)));
  return true;
}

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void FlagSet::String(std::string name, std::string* target, std::string help) {
  Custom(
      std::move(name), "VALUE", *target,
      [target](std::string_view v) {
        *target = std::string(v);
        return std::string();
      },
      std::move(help));
}

void FlagSet::Duration(std::string name, std::chrono::milliseconds* target, std::string help) {
  std::string def = std::to_string(target->count()) + "ms";
  if (target->count() % 1000 == 0) def = std::to_string(target->count() / 1000) + "s";
  Custom(
      std::move(name), "DURATION", def,
      [target](std::string_view v) {
        if (!ParseDuration(v, target))
          return "expected a duration such as 10s, 500ms or 2m, got \"" + std::string(v) + "\"";
        // Every duration flag is a timeout, a back-off or a period: 0 would make it a
        // busy loop or a wait that always fails at once (below 1 ms rounds to 0 too).
        if (target->count() <= 0) return "must be at least 1ms, got \"" + std::string(v) + "\"";
        return std::string();
      },
      std::move(help));
}

void FlagSet::Bool(std::string name, bool* target, std::string help, bool* was_set) {
  Flag f;
  f.name = std::move(name);
  f.default_text = *target ? "true" : "false";
  f.help = std::move(help);
  f.boolean = target;
  f.was_set = was_set;
  flags_.push_back(std::move(f));
}

void FlagSet::Custom(std::string name, std::string value_name, std::string default_text,
                     std::function<std::string(std::string_view)> set, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.value_name = std::move(value_name);
  f.default_text = std::move(default_text);
  f.help = std::move(help);
  f.set = std::move(set);
  flags_.push_back(std::move(f));
}

const FlagSet::Flag* FlagSet::Find(std::string_view name) const {
  for (const auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

Result<void> FlagSet::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    if (arg == "--version") {
      version_requested_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return Fail(ErrorKind::kConfig,
                  "unexpected argument \"" + std::string(arg) + "\"; flags start with --, see --help");
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const Flag* flag = Find(name);
    bool negated = false;
    if (!flag && name.substr(0, 3) == "no-") {
      flag = Find(name.substr(3));
      negated = flag && flag->boolean;
      if (!negated) flag = nullptr;
    }
    if (!flag) {
      return Fail(ErrorKind::kConfig, "unknown flag --" + std::string(name) + "; see --help for the list");
    }
    if (flag->boolean) {
      bool v = !negated;
      if (has_value) {
        if (negated) return Fail(ErrorKind::kConfig, "--no-" + flag->name + " takes no value");
        if (value == "true" || value == "1")
          v = true;
        else if (value == "false" || value == "0")
          v = false;
        else
          return Fail(ErrorKind::kConfig,
                      "--" + flag->name + " expects true or false, got \"" + std::string(value) + "\"");
      }
      *flag->boolean = v;
      if (flag->was_set) *flag->was_set = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return Fail(ErrorKind::kConfig, "--" + flag->name + " needs a value");
      value = argv[++i];
    }
    if (std::string err = flag->set(value); !err.empty()) {
      return Fail(ErrorKind::kConfig, "--" + flag->name + ": " + err);
    }
  }
  return {};
}

std::string FlagSet::Usage() const {
  std::string out = "usage: " + program_ + " [<flags>]\n\n" + description_ + "\n\nFlags:\n";
  out += "  -h, --help                 Show this help and exit.\n";
  out += "      --version              Show the version and exit.\n";
  for (const auto& f : flags_) {
    std::string head = "      --";
    if (f.boolean) head += "[no-]";
    head += f.name;
    if (!f.value_name.empty()) head += "=" + f.value_name;
    if (head.size() < 29)
      head.resize(29, ' ');
    else
      head += "\n" + std::string(29, ' ');
    out += head + f.help;
    if (!f.default_text.empty()) out += " (default: " + f.default_text + ")";
    out += "\n";
  }
  return out;
}

}  // namespace kvmem
