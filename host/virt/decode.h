// Pure decoders from libvirt's data to owned structs: memory stats arrays, bulk stats typed
// parameters, domain XML and capabilities XML. Internal to kvmem::virt (it names libvirt
// types); everything returned is owned. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libvirt/libvirt.h>

#include "common/result.h"
#include "host/virt/types.h"

namespace kvmem::virt {

// virDomainMemoryStats' array: KiB values become bytes; unknown tags are ignored (newer
// libvirt); a value whose byte count would overflow is dropped.
MemoryStats DecodeMemoryStats(std::span<const virDomainMemoryStatStruct> stats);

// The bulk "balloon." group of one virDomainStatsRecord. `present` is false when the
// record holds no balloon.* field at all (libvirt's test driver, or the group not asked).
struct BalloonRecord {
  bool present = false;
  std::optional<uint64_t> current_bytes, maximum_bytes;
  MemoryStats stats;
};
BalloonRecord DecodeBalloonParams(std::span<const virTypedParameter> params);

// Domain XML (live or inactive) to facts. Errors (kParse): not XML, or no <domain> root.
// Missing elements are simply absent; sizes honour the unit attribute (default KiB).
Result<DomainXml> DecodeDomainXml(std::string_view xml);

// Capabilities XML: the host NUMA cells and the page sizes each offers.
struct CapsCell {
  int id = 0;
  std::vector<uint64_t> page_bytes;  // ascending
  bool operator==(const CapsCell&) const = default;
};
// Errors (kParse): not XML, or no <capabilities> root. No <cells>: an empty list.
Result<std::vector<CapsCell>> DecodeCapabilitiesCells(std::string_view xml);

// "1024" with unit "MiB" -> 1073741824; libvirt's scaled-integer units (b, KB, KiB, k,
// MB, M, MiB, ...). nullopt for an unknown unit, a non-number or an overflow.
std::optional<uint64_t> ScaledBytes(std::string_view value, std::string_view unit, uint64_t default_scale = 1024);

}  // namespace kvmem::virt
