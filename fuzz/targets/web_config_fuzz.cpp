// Fuzzes ParseWebConfig: the --web.config.file (exporter-toolkit format: TLS, basic auth users,
// response headers), parsed with yaml-cpp and checked key by key.
#include <cstdint>

#include "common/http/web_config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::http;
  auto config = ParseWebConfig(kvmem::fuzz::AsText(data, size), "/etc/kvmem/web-config.yml");
  if (!config) {
    KVMEM_FUZZ_CHECK(!config.error().message.empty());
    return 0;
  }
  if (config->tls) {
    KVMEM_FUZZ_CHECK(config->tls->min_version <= config->tls->max_version);
  }
  return 0;
}
