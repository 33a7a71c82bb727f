// Fuzzes the pure libvirt XML decoders in kvmem::virt (libxml2 underneath), the first byte
// choosing: even, DecodeDomainXml (virDomainGetXMLDesc); odd, DecodeCapabilitiesCells
// (virConnectGetCapabilities). Both parse sizes with ScaledBytes.
#include <algorithm>
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "host/virt/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvmem::virt;
  auto [which, xml] = kvmem::fuzz::Select(data, size, 2);
  if (which == 0) {
    auto dom = DecodeDomainXml(xml);
    if (!dom) return 0;
    const auto& sizes = dom->hugepage_sizes_bytes;
    KVMEM_FUZZ_CHECK(std::is_sorted(sizes.begin(), sizes.end()));
    KVMEM_FUZZ_CHECK(std::adjacent_find(sizes.begin(), sizes.end()) == sizes.end());
    for (const auto& v : dom->virtio_mem) KVMEM_FUZZ_CHECK(!v.alias.empty());
  } else {
    auto cells = DecodeCapabilitiesCells(xml);
    if (!cells) return 0;
    for (const auto& c : *cells) {
      KVMEM_FUZZ_CHECK(c.id >= 0 && std::is_sorted(c.page_bytes.begin(), c.page_bytes.end()));
    }
  }
  return 0;
}
