// The policy file: YAML in, a validated model::Policy out, and the effective policy rendered
// back to YAML (--print-policy). Every key is optional and defaults as in model/policy.h;
// docs/policy.md documents them, deploy/policy.yaml shows them all.
// Thread-safe (no shared state). Never throws except std::bad_alloc: yaml-cpp's exceptions are
// caught and become errors.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "controller/model/policy.h"

namespace kvmem::config {

// Parses and validates policy YAML. Errors are ErrorKind::kConfig with `file` set and a
// message that names the key path and its line and column, says what is allowed, and shows
// what was found, e.g.
//   unknown key balloon.reclaim_belw at line 4, column 3; allowed: enabled, reclaim_below, ...
//   balloon.max_step at line 5, column 13: expected a size in bytes or with an IEC unit ...
// Unknown and duplicate keys are errors. An empty document gives the defaults.
Result<model::Policy> ParsePolicy(std::string_view yaml, const std::string& file);

// Reads `path` and parses it. An unreadable file is a kConfig error too.
Result<model::Policy> LoadPolicyFile(const std::string& path);

// The policy as YAML with every key, in canonical units; ParsePolicy(RenderPolicy(p)) == p.
std::string RenderPolicy(const model::Policy& policy);

}  // namespace kvmem::config
