// SMBIOS type 17 (Memory Device) decoding, offsets from DSP0134 (SMBIOS 3.x) section 7.18.
#include "host/procfs/dmi.h"

#include <algorithm>
#include <array>

#include <cerrno>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::procfs {
namespace {

uint64_t Le(std::string_view raw, size_t offset, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(raw[offset + i])} << (8 * i);
  return v;
}

// 7.18.2, Memory Device — Type; index = the byte value.
constexpr std::array<const char*, 0x25> kTypes = {
    "unknown", "other", "unknown", "DRAM",   "EDRAM",        "VRAM",     "SRAM",     "RAM",
    "ROM",     "Flash", "EEPROM",  "FEPROM", "EPROM",        "CDRAM",    "3DRAM",    "SDRAM",
    "SGRAM",   "RDRAM", "DDR",     "DDR2",   "DDR2 FB-DIMM", "reserved", "reserved", "reserved",
    "DDR3",    "FBD2",  "DDR4",    "LPDDR",  "LPDDR2",       "LPDDR3",   "LPDDR4",   "Logical non-volatile device",
    "HBM",     "HBM2",  "DDR5",    "LPDDR5", "HBM3"};

// 7.18.1, Memory Device — Form factor.
constexpr std::array<const char*, 0x11> kFormFactors = {
    "unknown", "other", "unknown",      "SIMM", "SIP",    "Chip",  "DIP",     "ZIP", "Proprietary Card",
    "DIMM",    "TSOP",  "Row of chips", "RIMM", "SODIMM", "SRIMM", "FB-DIMM", "Die"};

template <size_t N>
std::string Name(const std::array<const char*, N>& table, uint64_t v) {
  return v < N ? table[v] : "unknown";
}

// Size word at 0x0C: 0 empty, 0xFFFF unknown, 0x7FFF "see Extended Size", bit 15 = KiB units.
std::optional<uint64_t> SizeBytes(std::string_view raw, size_t len) {
  uint64_t size = Le(raw, 0x0C, 2);
  if (size == 0xFFFF) return std::nullopt;
  if (size == 0x7FFF && len >= 0x20) return (Le(raw, 0x1C, 4) & 0x7FFFFFFF) << 20;
  if (size & 0x8000) return (size & 0x7FFF) << 10;
  return size << 20;
}

// A speed word; 0 unknown; 0xFFFF means the 3.3 extended DWORD holds it.
std::optional<uint64_t> Speed(std::string_view raw, size_t len, size_t word, size_t extended) {
  if (len < word + 2) return std::nullopt;
  uint64_t v = Le(raw, word, 2);
  if (v == 0xFFFF && len >= extended + 4) v = Le(raw, extended, 4) & 0x7FFFFFFF;
  if (v == 0 || v == 0xFFFF) return std::nullopt;
  return v;
}

}  // namespace

Result<MemoryDevice> ParseMemoryDevice(std::string_view raw, const std::string& file) {
  if (raw.size() < 2) return ParseError(file, 1, "shorter than an SMBIOS header");
  if (static_cast<uint8_t>(raw[0]) != 17) return ParseError(file, 1, "not an SMBIOS type 17 structure");
  const size_t len = static_cast<uint8_t>(raw[1]);
  if (len < 0x15) return ParseError(file, 1, "type 17 length " + std::to_string(len) + " is below 0x15");
  if (len > raw.size()) return ParseError(file, 1, "length " + std::to_string(len) + " is past the end of the data");
  std::vector<std::string_view> strings;
  for (std::string_view rest = raw.substr(len); !rest.empty() && rest[0] != '\0';) {
    size_t nul = rest.find('\0');
    strings.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  auto str = [&](size_t offset) -> Result<std::string> {
    if (offset >= len) return std::string();
    size_t index = static_cast<uint8_t>(raw[offset]);
    if (index == 0) return std::string();
    if (index > strings.size())
      return ParseError(file, 1, "string " + std::to_string(index) + " is past the string set");
    return std::string(Trim(strings[index - 1]));
  };
  MemoryDevice d;
  d.handle = static_cast<uint16_t>(Le(raw, 0x02, 2));
  d.array_handle = static_cast<uint16_t>(Le(raw, 0x04, 2));
  d.size_bytes = SizeBytes(raw, len).value_or(0);
  d.form_factor = Name(kFormFactors, Le(raw, 0x0E, 1));
  d.type = Name(kTypes, Le(raw, 0x12, 1));
  d.speed_mts = Speed(raw, len, 0x15, 0x54);
  d.configured_speed_mts = Speed(raw, len, 0x20, 0x58);
  for (auto [offset, field] : {std::pair{size_t{0x10}, &d.locator}, std::pair{size_t{0x11}, &d.bank_locator},
                               std::pair{size_t{0x17}, &d.manufacturer}, std::pair{size_t{0x1A}, &d.part_number}}) {
    auto s = str(offset);
    if (!s) return tl::unexpected(s.error());
    *field = std::move(*s);
  }
  return d;
}

Result<std::vector<MemoryDevice>> ReadMemoryDevices(const Root& root) {
  const std::string dir = root.Sys("firmware/dmi/entries");
  auto names = ListDir(dir);
  if (!names) return tl::unexpected(names.error());
  std::vector<MemoryDevice> out;
  for (const auto& name : *names) {
    if (!name.starts_with("17-")) continue;
    const std::string path = dir + "/" + name + "/raw";
    int err = 0;
    auto raw = ReadUncached(path, &err);
    if (!raw && err == EACCES) return Fail(ErrorKind::kNotFound, "not readable without root", path);
    if (!raw) return tl::unexpected(raw.error());
    auto d = ParseMemoryDevice(*raw, path);
    if (!d) return tl::unexpected(d.error());
    out.push_back(std::move(*d));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.handle < b.handle; });
  return out;
}

}  // namespace kvmem::procfs
