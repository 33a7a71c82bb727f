// LibvirtSource: the exporter's only way to libvirt. It owns ONE read-only connection used
// by ONE worker thread, and serves scrapes from a cache: Get(budget) asks the worker to
// refresh and waits at most `budget`; on timeout it returns the last good values, each
// domain with the time of its last good sample. Only one refresh is ever in flight, so a
// hung libvirt call never piles up threads or connections. The worker reconnects with
// exponential back-off (1 s doubling to 60 s) and logs only state changes.
// Thread-safe: Get() may be called from any thread. The constructor throws only
// std::bad_alloc or std::system_error (thread start); Get() and the destructor never throw
// (beyond std::bad_alloc from Get).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "host/procfs/root.h"
#include "host/virt/types.h"

namespace kvmem::virt {

struct SourceOptions {
  std::string uri = "qemu:///system";
  procfs::Root root;  // for vCPU nodes, the QEMU process, numa_maps, numa_stat, ksm_stat
  // vCPU placement, residency and KSM are re-read at most this often (numa_maps walks the
  // page tables of the whole VM); 0 = every refresh.
  std::chrono::milliseconds placement_interval{std::chrono::seconds(10)};
  // At most this much /proc reading per refresh (numa_maps costs ~10-20 ms per GiB of a
  // VM); domains left over, oldest first, are read on the next refresh.
  std::chrono::milliseconds placement_budget{250};
  // Domain XML is re-read on a new domain id, a device/lifecycle event, or after this age.
  std::chrono::milliseconds xml_max_age{std::chrono::seconds(60)};
  // Also publish defined-but-shut-off domains (DomainSample::active false, with autostart and
  // inactive XML): the controller's hugepage reservations need them; the exporter does not.
  bool include_inactive = false;
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(60)};
  // Domains not sampled successfully for this long are dropped even while libvirt is down.
  std::chrono::milliseconds forget_after{std::chrono::minutes(10)};
};

class LibvirtSource {
 public:
  explicit LibvirtSource(SourceOptions options);
  ~LibvirtSource();
  LibvirtSource(const LibvirtSource&) = delete;
  LibvirtSource& operator=(const LibvirtSource&) = delete;

  // Fresh values if the worker finishes a refresh within `budget`, else the cache.
  // Snapshot::up is 1 only when the refresh this call waited for succeeded in time.
  Snapshot Get(std::chrono::milliseconds budget);

  struct Stats {
    uint64_t refreshes = 0;
    uint64_t connects = 0;     // successful opens
    uint64_t xml_fetches = 0;  // over the current connection
    uint64_t proc_scans = 0;
  };
  Stats stats() const;  // for tests and benchmarks

  struct State;  // shared with the worker thread, which may outlive this object if hung

 private:
  std::shared_ptr<State> state_;
  std::thread worker_;
};

}  // namespace kvmem::virt
