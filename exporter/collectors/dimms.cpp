// The dimms collector: each memory device SMBIOS type 17 describes (size, rated and configured
// speed, type, locator) and how populated each physical memory array is. Root-only files: an
// unprivileged exporter publishes nothing here.
#include <cstdio>
#include <map>

#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/dmi.h"

namespace kvmem::collectors {
namespace {

const std::vector<std::string> kSlot{"handle", "locator"};
const FamilyDesc kInfo{
    "kvmem_dimm_info",
    "A populated memory device from SMBIOS type 17 (/sys/firmware/dmi/entries/17-*/raw): type, form factor, bank, "
    "array, maker and part number. Always 1.",
    kGauge,
    {"handle", "locator", "bank_locator", "type", "form_factor", "array", "manufacturer", "part_number"}};
const FamilyDesc kSize{
    "kvmem_dimm_size_bytes",
    "Size of the memory device in the slot; 0 for an empty slot (SMBIOS type 17 Size / Extended Size).", kGauge, kSlot};
const FamilyDesc kRated{
    "kvmem_dimm_rated_speed_transfers_per_second",
    "Maximum speed the device is rated for, in transfers per second (SMBIOS type 17 Speed, MT/s x 1e6).", kGauge,
    kSlot};
const FamilyDesc kConfigured{"kvmem_dimm_configured_speed_transfers_per_second",
                             "Speed the memory controller runs the device at, in transfers per second (SMBIOS type 17 "
                             "Configured Memory Speed, MT/s x 1e6).",
                             kGauge, kSlot};
const FamilyDesc kArrayDimms{
    "kvmem_memory_array_dimms",
    "Populated memory devices in one physical memory array (SMBIOS type 16, usually one per socket), by state.",
    kGauge,
    {"array", "state"}};
const FamilyDesc kArrayBytes{"kvmem_memory_array_size_bytes",
                             "Memory installed in one physical memory array (sum of its type 17 sizes).",
                             kGauge,
                             {"array"}};

std::string Hex(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", v);
  return buf;
}

class DimmsCollector final : public Collector {
 public:
  explicit DimmsCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    auto devices = procfs::ReadMemoryDevices(root_);
    if (!devices) return out.Fail(devices.error());
    struct Array {
      uint64_t populated = 0, empty = 0, bytes = 0;
    };
    std::map<uint16_t, Array> arrays;
    for (const auto& d : *devices) {
      const std::string handle = Hex(d.handle);
      Array& a = arrays[d.array_handle];
      (d.Populated() ? a.populated : a.empty) += 1;
      a.bytes += d.size_bytes;
      out.Add(kSize, {handle, d.locator}, static_cast<double>(d.size_bytes));
      if (!d.Populated()) continue;
      out.Add(kInfo,
              {handle, d.locator, d.bank_locator, d.type, d.form_factor, Hex(d.array_handle), d.manufacturer,
               d.part_number},
              1);
      if (d.speed_mts) out.Add(kRated, {handle, d.locator}, static_cast<double>(*d.speed_mts) * 1e6);
      if (d.configured_speed_mts)
        out.Add(kConfigured, {handle, d.locator}, static_cast<double>(*d.configured_speed_mts) * 1e6);
    }
    for (const auto& [handle, a] : arrays) {
      out.Add(kArrayDimms, {Hex(handle), "populated"}, static_cast<double>(a.populated));
      out.Add(kArrayDimms, {Hex(handle), "empty"}, static_cast<double>(a.empty));
      out.Add(kArrayBytes, {Hex(handle)}, static_cast<double>(a.bytes));
    }
  }

  std::vector<const FamilyDesc*> Families() const override {
    return {&kInfo, &kSize, &kRated, &kConfigured, &kArrayDimms, &kArrayBytes};
  }

 private:
  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeDimmsCollector(const procfs::Root& root) {
  return std::make_unique<DimmsCollector>(root);
}

}  // namespace kvmem::collectors
