// Fetcher: one refresh of every active domain over one libvirt connection: bulk stats with
// NOWAIT (per-domain fallbacks where the driver returns no balloon group), domain XML cached
// by uuid and re-read only when it may have changed, vCPU host CPUs, and the host's free
// pages per NUMA cell; optionally also the defined-but-shut-off domains with their inactive
// XML and autostart flag. Internal to kvmem::virt.
// Not thread-safe: one Fetcher belongs to one worker thread. Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "host/virt/decode.h"
#include "host/virt/handles.h"
#include "host/virt/types.h"

namespace kvmem::virt {

struct FetchedDomain {
  DomainSample sample;         // placement left empty; sampled_at set by the caller
  std::vector<int> vcpu_cpus;  // host CPU of each online vCPU, when asked for
  bool vcpus_fetched = false;
  bool complete = true;  // false: some call failed; the caller may keep older values
};

struct FetchResult {
  std::vector<FetchedDomain> domains;
  std::vector<NodeFreePages> free_pages;
};

class Fetcher {
 public:
  struct Options {
    // Domain XML is re-read when the domain id changes, a device event names the domain,
    // or the cached copy is older than this.
    std::chrono::milliseconds xml_max_age{std::chrono::seconds(60)};
    // Also list defined-but-shut-off domains (two more listing calls per refresh, their
    // inactive XML through the same cache); the exporter leaves this off.
    bool include_inactive = false;
  };

  // Takes the connection; registers domain events on it (best effort).
  Fetcher(ConnectPtr conn, std::string uri, Options options);
  ~Fetcher();  // deregisters events, then closes the connection
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Errors (kLibvirt) only when the domain list itself cannot be had; a domain that
  // vanished mid-refresh is left out, and other per-domain failures mark it incomplete.
  // `want_vcpus(uuid)` says which domains need their vCPU host CPUs this time.
  Result<FetchResult> Refresh(const std::function<bool(const std::string&)>& want_vcpus);

  // Number of domain XMLs fetched since construction (for tests and the cache's cost).
  uint64_t xml_fetches() const { return xml_fetches_; }

  struct Dirty;  // uuids named by domain events, shared with the event loop thread

 private:
  struct XmlEntry {
    int id = -1;
    DomainXml xml;
    std::chrono::steady_clock::time_point fetched;
  };
  void RegisterEvents();
  void FillDomain(virDomainStatsRecordPtr record, const std::function<bool(const std::string&)>& want_vcpus,
                  FetchedDomain& out);
  void FillXml(virDomainPtr dom, FetchedDomain& out, const std::vector<std::string>& dirty);
  Result<void> AddInactive(FetchResult& out, std::set<std::string>& seen, const std::vector<std::string>& dirty);
  std::vector<NodeFreePages> FreePages();

  ConnectPtr conn_;
  std::string uri_;
  Options options_;
  bool nowait_supported_ = true;
  std::shared_ptr<Dirty> dirty_;
  std::vector<int> event_ids_;
  std::map<std::string, XmlEntry> xml_cache_;  // by uuid
  std::optional<std::vector<CapsCell>> cells_;
  uint64_t xml_fetches_ = 0;
};

}  // namespace kvmem::virt
