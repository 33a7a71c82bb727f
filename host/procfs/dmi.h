// Memory devices from SMBIOS type 17 (/sys/firmware/dmi/entries/17-*/raw, root-only): the raw
// structure, formatted area then its strings, as the kernel copies it out of the SMBIOS table.
// Pure parser plus reads under a Root. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct MemoryDevice {
  uint16_t handle = 0;
  uint16_t array_handle = 0;                     // the Physical Memory Array (type 16) the slot belongs to
  uint64_t size_bytes = 0;                       // 0: empty slot
  std::optional<uint64_t> speed_mts;             // rated (maximum) speed, MT/s; absent if unknown
  std::optional<uint64_t> configured_speed_mts;  // what the memory controller runs it at
  std::string type;                              // "DDR4", "DDR5", ...; "other" or "unknown" as SMBIOS says
  std::string form_factor;                       // "DIMM", "SODIMM", ...
  std::string locator;                           // Device Locator ("DIMM_A1")
  std::string bank_locator;
  std::string manufacturer;
  std::string part_number;
  bool Populated() const { return size_bytes > 0; }
  bool operator==(const MemoryDevice&) const = default;
};

// One type 17 structure. Errors: not type 17, shorter than SMBIOS 2.1's 0x15 bytes, a length
// byte past the end of the data, or a string index past the string set.
Result<MemoryDevice> ParseMemoryDevice(std::string_view raw, const std::string& file);

// Every 17-* entry, in handle order. No /sys/firmware/dmi/entries: kNotFound. An entry this
// user may not read (the files are 0400 root) is also kNotFound: no data, not a broken host.
Result<std::vector<MemoryDevice>> ReadMemoryDevices(const Root& root);

}  // namespace kvmem::procfs
