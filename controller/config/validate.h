// Internal to kvmem::policy_config: where each key of a policy file was found (for messages),
// the first error, and the range and relation checks on a parsed Policy.
// Not thread-safe (one per parse). Throws only std::bad_alloc.
#pragma once

#include <yaml-cpp/mark.h>

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/yaml_map.h"
#include "controller/model/policy.h"

namespace kvmem::config {

using yaml_map::Position;

class Sources {
 public:
  explicit Sources(std::string file) : file_(std::move(file)) {}

  bool failed() const { return error_.has_value(); }
  const std::optional<Error>& error() const { return error_; }
  // Records an error unless one is already recorded: the first error is the one reported.
  void Fail(std::string message);

  // Remembers that `path` was set in the file at `mark` to the text `raw`.
  void Note(const std::string& path, YAML::Mark mark, std::string raw);
  bool InFile(const std::string& path) const { return found_.contains(path); }
  // "balloon.max_step at line 5, column 13" or "balloon.max_step (default)".
  std::string Where(const std::string& path) const;
  // The text as written, quoted, or `fallback` for a default.
  std::string Got(const std::string& path, const std::string& fallback) const;

 private:
  std::string file_;
  std::optional<Error> error_;
  std::map<std::string, std::pair<YAML::Mark, std::string>> found_;
};

// The schema's range checks of single values and relations between keys, in table order;
// records the first failure.
void Validate(Sources& src, const model::Policy& policy);

}  // namespace kvmem::config
