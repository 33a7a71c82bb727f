// Fuzzes what the HTTP server parses from a request itself (Boost.Beast parses the rest), the
// first byte choosing: 0 DecodeBasicAuth (the Authorization header: base64 of user:password),
// 1 AcceptsGzip (Accept-Encoding), 2 ParseListenAddress (--web.listen-address).
#include <cstdint>
#include <string>

#include "common/http/basic_auth.h"
#include "common/http/gzip.h"
#include "common/http/server.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::http;
  auto [which, text] = kvmem::fuzz::Select(data, size, 3);
  switch (which) {
    case 0:
      if (auto creds = DecodeBasicAuth(text)) {
        // The user ends at the first ':' (RFC 7617), so it never holds one.
        KVMEM_FUZZ_CHECK(creds->first.find(':') == std::string::npos);
      }
      break;
    case 1: (void)AcceptsGzip(text); break;
    default: (void)ParseListenAddress(std::string(text)); break;
  }
  return 0;
}
