// Fuzzes ParseMeminfo: /proc/meminfo and nodeN/meminfo ("Key: N kB", "Node N Key: N kB").
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "host/procfs/hugepages.h"
#include "host/procfs/meminfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::procfs;
  auto m = ParseMeminfo(std::string(kvmem::fuzz::AsText(data, size)), "meminfo");
  if (!m) {
    KVMEM_FUZZ_CHECK(m.error().line >= 1);
    return 0;
  }
  const std::string& text = *m->text;
  for (const auto& [key, value] : m->values) {
    // Keys are views into the shared text: they must stay inside it.
    KVMEM_FUZZ_CHECK(key.empty() ||
                     (key.data() >= text.data() && key.data() + key.size() <= text.data() + text.size()));
    KVMEM_FUZZ_CHECK(m->Get(key).has_value());
  }
  (void)NodeAvailableBytes(*m, {HugepagePool{2u << 20, 8, 4, 0, std::nullopt, std::nullopt}});
  return 0;
}
