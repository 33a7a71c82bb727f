// Fuzzes the policy loader: YAML parsing, every unit parser (sizes, percentages, durations,
// ratios, rates) and the range and relation checks. A policy that loads must render and load
// back to the same policy (policy_yaml.h promises ParsePolicy(RenderPolicy(p)) == p).
#include <cstdint>
#include <string>

#include "controller/config/policy_yaml.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::config;
  auto policy = ParsePolicy(kvmem::fuzz::AsText(data, size), "policy.yaml");
  if (!policy) {
    KVMEM_FUZZ_CHECK(!policy.error().message.empty() && policy.error().file == "policy.yaml");
    return 0;
  }
  const std::string rendered = RenderPolicy(*policy);
  auto back = ParsePolicy(rendered, "rendered");
  if (!back) {
    std::fprintf(stderr, "rendered policy does not load: %s\n%s", back.error().ToString().c_str(), rendered.c_str());
  }
  KVMEM_FUZZ_CHECK(back.has_value());
  KVMEM_FUZZ_CHECK(*back == *policy);
  return 0;
}
