// Fuzzes the Alertmanager webhook body: ParsePayload (JSON, version 4) and Match, which turns
// firing alerts into controller triggers.
#include <cstdint>

#include "controller/webhook/payload.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::webhook;
  auto payload = ParsePayload(kvmem::fuzz::AsText(data, size));
  if (!payload) {
    KVMEM_FUZZ_CHECK(!payload.error().message.empty());
    return 0;
  }
  KVMEM_FUZZ_CHECK(payload->version == "4");
  Matched m = Match(*payload);
  KVMEM_FUZZ_CHECK(m.triggers.size() + m.resolved + m.ignored == payload->alerts.size());
  for (const auto& t : m.triggers) {
    KVMEM_FUZZ_CHECK(!t.Subject().empty());
    if (t.node) KVMEM_FUZZ_CHECK(*t.node >= 0);
  }
  return 0;
}
