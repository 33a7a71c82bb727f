// One refresh over one connection: bulk stats, fallbacks, cached XML, vCPUs, free pages.
#include "host/virt/fetch.h"

#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <set>

#include "common/log.h"

namespace kvmem::virt {

struct Fetcher::Dirty {
  std::mutex mu;
  std::set<std::string> uuids;
};

namespace {

using DirtyRef = std::shared_ptr<Fetcher::Dirty>;

void MarkDirty(virDomainPtr dom, void* opaque) {
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) < 0) return;
  auto& dirty = **static_cast<DirtyRef*>(opaque);
  std::lock_guard lock(dirty.mu);
  dirty.uuids.insert(uuid);
}

// One callback per event signature; each just names the domain as changed.
void OnLifecycle(virConnectPtr, virDomainPtr dom, int, int, void* opaque) { MarkDirty(dom, opaque); }
void OnDevice(virConnectPtr, virDomainPtr dom, const char*, void* opaque) { MarkDirty(dom, opaque); }
void OnMemoryDeviceSize(virConnectPtr, virDomainPtr dom, const char*, unsigned long long, void* opaque) {
  MarkDirty(dom, opaque);
}
void FreeDirtyRef(void* opaque) { delete static_cast<DirtyRef*>(opaque); }

// Errors that mean "this domain is gone or not running any more": no data, not a failure.
bool DomainVanished(int code) { return code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_OPERATION_INVALID; }

// virConnectListAllDomains' array, owned from the moment it is returned.
struct DomainList {
  virDomainPtr* doms = nullptr;
  int n = 0;
  DomainList() = default;
  DomainList(const DomainList&) = delete;
  DomainList& operator=(const DomainList&) = delete;
  ~DomainList() {
    for (int i = 0; i < n; ++i) {
      if (doms[i]) virDomainFree(doms[i]);
    }
    std::free(doms);
  }
};

}  // namespace

Fetcher::Fetcher(ConnectPtr conn, std::string uri, Options options)
    : conn_(std::move(conn)), uri_(std::move(uri)), options_(options), dirty_(std::make_shared<Dirty>()) {
  RegisterEvents();
}

Fetcher::~Fetcher() {
  for (int id : event_ids_) virConnectDomainEventDeregisterAny(conn_.get(), id);
  virResetLastError();
}

void Fetcher::RegisterEvents() {
  struct Event {
    int id;
    virConnectDomainEventGenericCallback cb;
  };
  const Event events[] = {
      {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
      {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(OnDevice)},
      {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDevice)},
      {VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnMemoryDeviceSize)},
  };
  for (const auto& e : events) {
    auto* ref = new DirtyRef(dirty_);
    int id = virConnectDomainEventRegisterAny(conn_.get(), nullptr, e.id, e.cb, ref, FreeDirtyRef);
    if (id < 0) {
      delete ref;           // libvirt calls freecb only for registered callbacks
      virResetLastError();  // a driver without events: the XML age bound still applies
      continue;
    }
    event_ids_.push_back(id);
  }
}

Result<FetchResult> Fetcher::Refresh(const std::function<bool(const std::string&)>& want_vcpus) {
  const unsigned groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_BALLOON;
  const unsigned flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE;
  virDomainStatsRecordPtr* raw = nullptr;
  int n = -1;
  if (nowait_supported_) {
    // NOWAIT: a domain whose monitor is busy (migration, stuck shutdown) reports what it can
    // instead of blocking the whole listing.
    n = virConnectGetAllDomainStats(conn_.get(), groups, &raw, flags | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n < 0 && (LastErrorCode() == VIR_ERR_INVALID_ARG || LastErrorCode() == VIR_ERR_NO_SUPPORT)) {
      nowait_supported_ = false;
      log::Debug("libvirt driver rejects NOWAIT bulk stats; using plain bulk stats", {{"uri", uri_}});
    }
  }
  if (n < 0 && !nowait_supported_) n = virConnectGetAllDomainStats(conn_.get(), groups, &raw, flags);
  if (n < 0) return tl::unexpected(LastError("virConnectGetAllDomainStats", uri_));
  StatsListPtr list(raw);  // owns every record and its domain reference

  std::vector<std::string> dirty;
  {
    std::lock_guard lock(dirty_->mu);
    dirty.assign(dirty_->uuids.begin(), dirty_->uuids.end());
    dirty_->uuids.clear();
  }
  FetchResult out;
  out.domains.reserve(static_cast<size_t>(n));
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    virDomainStatsRecordPtr record = raw[i];
    if (!record || !record->dom) continue;
    FetchedDomain d;
    FillDomain(record, want_vcpus, d);
    if (d.sample.uuid.empty()) continue;  // vanished mid-refresh
    FillXml(record->dom, d, dirty);
    seen.insert(d.sample.uuid);
    out.domains.push_back(std::move(d));
  }
  if (options_.include_inactive) {
    if (auto added = AddInactive(out, seen, dirty); !added) return tl::unexpected(added.error());
  }
  std::erase_if(xml_cache_, [&](const auto& kv) { return !seen.contains(kv.first); });
  out.free_pages = FreePages();
  return out;
}

void Fetcher::FillDomain(virDomainStatsRecordPtr record, const std::function<bool(const std::string&)>& want_vcpus,
                         FetchedDomain& out) {
  virDomainPtr dom = record->dom;
  char uuid[VIR_UUID_STRING_BUFLEN];
  const char* name = virDomainGetName(dom);
  if (!name || virDomainGetUUIDString(dom, uuid) < 0) return virResetLastError();
  DomainSample& s = out.sample;
  s.name = name;
  s.uuid = uuid;
  unsigned int id = virDomainGetID(dom);
  s.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);

  auto balloon = DecodeBalloonParams({record->params, static_cast<size_t>(std::max(record->nparams, 0))});
  if (balloon.present) {
    s.balloon_current_bytes = balloon.current_bytes;
    s.balloon_maximum_bytes = balloon.maximum_bytes;
    s.stats = balloon.stats;
  } else {
    // Drivers without the bulk balloon group (the test driver): per-domain calls. Never
    // reached for QEMU, whose bulk record always has balloon.current, so NOWAIT holds.
    virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
    int m = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    if (m >= 0) {
      s.stats = DecodeMemoryStats({stats, static_cast<size_t>(m)});
    } else if (DomainVanished(LastErrorCode())) {
      s.uuid.clear();
      return virResetLastError();
    } else {
      out.complete = false;
    }
    virDomainInfo info;
    if (virDomainGetInfo(dom, &info) == 0) {
      s.balloon_current_bytes = static_cast<uint64_t>(info.memory) * 1024;
      s.balloon_maximum_bytes = static_cast<uint64_t>(info.maxMem) * 1024;
    } else {
      out.complete = false;
    }
  }
  if (want_vcpus(s.uuid)) {
    auto cached = xml_cache_.find(s.uuid);
    size_t max = cached != xml_cache_.end() && cached->second.xml.vcpus_max ? *cached->second.xml.vcpus_max : 64;
    max = std::clamp<size_t>(max, 1, 4096);
    std::vector<virVcpuInfo> info(max);
    int nv = virDomainGetVcpus(dom, info.data(), static_cast<int>(max), nullptr, 0);
    if (nv >= 0) {
      out.vcpus_fetched = true;
      for (int i = 0; i < nv; ++i) {
        if (info[static_cast<size_t>(i)].cpu >= 0) out.vcpu_cpus.push_back(info[static_cast<size_t>(i)].cpu);
      }
    }
  }
  virResetLastError();
}

void Fetcher::FillXml(virDomainPtr dom, FetchedDomain& out, const std::vector<std::string>& dirty) {
  DomainSample& s = out.sample;
  auto now = std::chrono::steady_clock::now();
  auto it = xml_cache_.find(s.uuid);
  bool stale = it == xml_cache_.end() || it->second.id != s.id || now - it->second.fetched >= options_.xml_max_age ||
               std::binary_search(dirty.begin(), dirty.end(), s.uuid);
  if (stale) {
    CStringPtr text(virDomainGetXMLDesc(dom, 0));
    if (text) {
      ++xml_fetches_;
      if (auto xml = DecodeDomainXml(text.get())) {
        it = xml_cache_.insert_or_assign(s.uuid, XmlEntry{s.id, std::move(*xml), now}).first;
      } else {
        log::Debug("cannot decode domain XML", {{"domain", s.name}, {"err", xml.error().ToString()}});
      }
    }
    virResetLastError();
  }
  if (it != xml_cache_.end()) {
    s.xml = it->second.xml;
    s.xml_known = true;
  } else {
    out.complete = false;
  }
}

// Two listing calls, split by the AUTOSTART filter, so the autostart flag costs no call per
// domain and the active domains are not listed again. A domain started between the bulk
// stats and these calls is in neither list for one refresh; one stopped in between is in
// both, and its active record wins.
Result<void> Fetcher::AddInactive(FetchResult& out, std::set<std::string>& seen,
                                  const std::vector<std::string>& dirty) {
  const unsigned base = VIR_CONNECT_LIST_DOMAINS_INACTIVE | VIR_CONNECT_LIST_DOMAINS_PERSISTENT;
  for (bool autostart : {true, false}) {
    DomainList list;
    const unsigned flags =
        base | (autostart ? VIR_CONNECT_LIST_DOMAINS_AUTOSTART : VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART);
    list.n = virConnectListAllDomains(conn_.get(), &list.doms, flags);
    if (list.n < 0) {
      list.n = 0;
      return tl::unexpected(LastError("virConnectListAllDomains", uri_));
    }
    for (int i = 0; i < list.n; ++i) {
      virDomainPtr dom = list.doms[i];
      char uuid[VIR_UUID_STRING_BUFLEN];
      const char* name = virDomainGetName(dom);
      if (!name || virDomainGetUUIDString(dom, uuid) < 0 || seen.contains(uuid)) {
        virResetLastError();
        continue;
      }
      FetchedDomain d;
      d.sample.name = name;
      d.sample.uuid = uuid;
      d.sample.id = -1;
      d.sample.active = false;
      d.sample.autostart = autostart;
      FillXml(dom, d, dirty);
      seen.insert(d.sample.uuid);
      out.domains.push_back(std::move(d));
    }
  }
  return {};
}

std::vector<NodeFreePages> Fetcher::FreePages() {
  std::vector<NodeFreePages> out;
  if (!cells_) {
    CStringPtr caps(virConnectGetCapabilities(conn_.get()));
    if (!caps) return virResetLastError(), out;  // try again next refresh
    auto cells = DecodeCapabilitiesCells(caps.get());
    cells_ = cells ? std::move(*cells) : std::vector<CapsCell>{};
  }
  if (cells_->empty()) return out;
  std::vector<uint64_t> sizes;  // every page size any cell offers (the kernel's are host-wide)
  for (const auto& c : *cells_) sizes.insert(sizes.end(), c.page_bytes.begin(), c.page_bytes.end());
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (sizes.empty()) return out;
  std::vector<unsigned int> kib;
  for (uint64_t b : sizes) kib.push_back(static_cast<unsigned int>(b / 1024));
  auto query = [&](int first, int count) {
    std::vector<unsigned long long> counts(kib.size() * static_cast<size_t>(count), 0);
    int r = virNodeGetFreePages(conn_.get(), static_cast<unsigned int>(kib.size()), kib.data(), first,
                                static_cast<unsigned int>(count), counts.data(), 0);
    if (r < 0) {
      virResetLastError();
      return false;
    }
    // r is the number of counts filled; libvirt's test driver returns 0 but fills them all.
    size_t filled = r > 0 ? std::min(static_cast<size_t>(r), counts.size()) : counts.size();
    for (size_t i = 0; i < filled; ++i) {
      int node = first + static_cast<int>(i / kib.size());
      uint64_t size = sizes[i % kib.size()];
      // Only the sizes the cell itself lists: a count for a size it lacks means nothing.
      auto cell = std::find_if(cells_->begin(), cells_->end(), [&](const CapsCell& c) { return c.id == node; });
      if (cell == cells_->end() || !std::binary_search(cell->page_bytes.begin(), cell->page_bytes.end(), size))
        continue;
      out.push_back({node, size, counts[i]});
    }
    return true;
  };
  // One call for the whole id range; cells with gaps in their ids make it fail, so then
  // one call per cell (libvirt's test driver ignores startCell, so range first matters).
  int lo = cells_->front().id, hi = cells_->back().id;
  if (hi - lo + 1 == static_cast<int>(cells_->size()) && query(lo, hi - lo + 1)) return out;
  out.clear();
  for (const auto& c : *cells_) query(c.id, 1);
  return out;
}

}  // namespace kvmem::virt
