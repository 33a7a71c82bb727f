// RenderPolicy: the effective policy as YAML, every key in canonical units (--print-policy),
// in the schema's order.
#include <algorithm>
#include <string>

#include "controller/config/policy_yaml.h"
#include "controller/config/schema.h"

namespace kvmem::config {

std::string RenderPolicy(const model::Policy& p) {
  std::string out;
  for (const schema::Key& key : schema::Keys()) {
    const auto depth = static_cast<size_t>(std::count(key.path.begin(), key.path.end(), '.'));
    const std::string value = schema::Render(key, p);
    out += std::string(depth * 2, ' ') + std::string(schema::Name(key.path)) + ":" +
           (value.empty() ? "" : " " + value) + "\n";
  }
  return out;
}

}  // namespace kvmem::config
