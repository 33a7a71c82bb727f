// Command-line flags in node_exporter's (kingpin's) style:
// `--name=value`, `--name value`, booleans as `--name` / `--no-name`, durations as `10s`, `500ms`, `2m`.
// Not thread-safe; used once in main(). Throws nothing: errors come back as Result.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kvmem {

// Parses "1.5s", "250ms", "2m", "1h", "30" (seconds). Returns false on anything else.
bool ParseDuration(std::string_view text, std::chrono::milliseconds* out);

class FlagSet {
 public:
  FlagSet(std::string program, std::string description);

  void String(std::string name, std::string* target, std::string help);
  // `was_set`, if given, becomes true when the flag appears on the command line.
  void Bool(std::string name, bool* target, std::string help, bool* was_set = nullptr);
  void Duration(std::string name, std::chrono::milliseconds* target, std::string help);
  // A flag whose value is checked by `set`, which returns an error message or "".
  void Custom(std::string name, std::string value_name, std::string default_text,
              std::function<std::string(std::string_view)> set, std::string help);

  // Parses argv. An unknown flag, a missing or bad value, or a positional argument is an
  // ErrorKind::kConfig error naming the flag. `--help`/`-h` sets help_requested().
  Result<void> Parse(int argc, char** argv);

  bool help_requested() const { return help_requested_; }
  bool version_requested() const { return version_requested_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;  // empty for booleans
    std::string default_text;
    std::string help;
    std::function<std::string(std::string_view)> set;
    bool* boolean = nullptr;
    bool* was_set = nullptr;
  };
  const Flag* Find(std::string_view name) const;

  std::string program_;
  std::string description_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
  bool version_requested_ = false;
};

}  // namespace kvmem
