// Judgements over the owned domain types.
#include "host/virt/types.h"

#include <algorithm>

namespace kvmem::virt {

const char* GuestStatsState(const DomainSample& d, std::chrono::system_clock::time_point now) {
  uint64_t period = d.xml.balloon_stats_period.value_or(0);
  if (d.xml_known) {
    if (d.xml.balloon_model.empty()) return "missing";
    if (period == 0) return "disabled";
  }
  if (!d.stats.HasGuestStats()) return "missing";
  if (d.stats.last_update) {
    auto limit = std::max<int64_t>(10, 3 * static_cast<int64_t>(std::min<uint64_t>(period, 1u << 30)));
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - *d.stats.last_update;
    if (age > limit) return "stale";
  }
  return "ok";
}

bool FreePageReportingEligible(const DomainXml& x) {
  return x.balloon_model.starts_with("virtio") && !x.hugepages && !x.device_assignment;
}

}  // namespace kvmem::virt
