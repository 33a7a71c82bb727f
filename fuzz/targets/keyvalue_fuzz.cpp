// Fuzzes ParseKeyValues: /proc/vmstat, nodeN/vmstat and nodeN/numastat ("name value" lines).
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "host/procfs/keyvalue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto kv = ParseKeyValues(std::string(kvmem::fuzz::AsText(data, size)), "vmstat");
  if (!kv) return 0;
  for (size_t i = 0; i < kv->values.size(); ++i) {
    const auto& [key, value] = kv->values[i];
    if (i > 0) KVMEM_FUZZ_CHECK(kv->values[i - 1].first < key);  // sorted, unique
    KVMEM_FUZZ_CHECK(kv->Get(key) == value);
  }
  return 0;
}
