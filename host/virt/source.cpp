// The libvirt worker thread, its cache and the scrape-side budgeted wait.
#include "host/virt/source.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "common/log.h"
#include "host/virt/fetch.h"
#include "host/virt/placement.h"

namespace kvmem::virt {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

struct LibvirtSource::State {
  explicit State(SourceOptions o) : options(std::move(o)) {}
  const SourceOptions options;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool finished = false;
  uint64_t requested = 0, completed = 0;  // refresh generations
  bool last_ok = false;
  uint64_t connection_errors = 0, timeouts = 0;
  std::map<std::string, uint64_t> proc_read_denied;
  SystemClock::time_point as_of{};
  std::vector<DomainSample> domains;
  std::vector<NodeFreePages> free_pages;
  Stats stats;
};

namespace {

// What one refresh produced, handed from the worker's I/O to the locked publish step.
struct Round {
  bool ok = false;
  bool connection_error = false;
  FetchResult fetched;
};

class Worker {
 public:
  explicit Worker(std::shared_ptr<LibvirtSource::State> st)
      : st_(std::move(st)), opt_(st_->options), placement_(opt_.root), backoff_(opt_.backoff_initial) {}

  void Run() {
    for (;;) {
      uint64_t gen;
      {
        std::unique_lock lock(st_->mu);
        st_->cv.wait(lock, [&] { return st_->stop || st_->requested > st_->completed; });
        if (st_->stop) break;
        gen = st_->requested;
      }
      Round round;
      try {
        round = RefreshOnce();
      } catch (const std::exception& e) {  // bad_alloc: skip this round, keep the cache
        log::Error("libvirt refresh failed", {{"err", e.what()}});
        round = Round{};
      }
      {
        std::lock_guard lock(st_->mu);
        Publish(round);
        st_->completed = gen;
      }
      st_->cv.notify_all();
    }
    fetcher_.reset();  // deregister events and close the connection on this thread
    {
      std::lock_guard lock(st_->mu);
      st_->finished = true;
    }
    st_->cv.notify_all();
  }

 private:
  Round RefreshOnce() {
    Round round;
    auto now = SteadyClock::now();
    if (!fetcher_) {
      if (now < next_open_) return round;  // backing off: answer at once, as down
      auto conn = OpenReadOnly(opt_.uri);
      if (!conn) {
        round.connection_error = true;
        MarkUnavailable(conn.error());
        return round;
      }
      fetcher_ = std::make_unique<Fetcher>(std::move(*conn), opt_.uri,
                                           Fetcher::Options{opt_.xml_max_age, opt_.include_inactive});
      ++connects_;
    }
    auto due = [&](const std::string& uuid) {
      auto it = placements_.find(uuid);
      return it == placements_.end() || now - it->second.read >= opt_.placement_interval;
    };
    auto fetched = fetcher_->Refresh(due);
    if (!fetched) {
      // Whatever failed, a fresh connection is the cure that always works; it also covers
      // a daemon restart or a keepalive timeout.
      fetcher_.reset();
      round.connection_error = true;
      MarkUnavailable(fetched.error());
      return round;
    }
    MarkConnected();
    UpdatePlacements(*fetched, now);
    for (auto& d : fetched->domains) {
      if (auto it = placements_.find(d.sample.uuid); it != placements_.end()) d.sample.placement = it->second.placement;
    }
    round.ok = true;
    round.fetched = std::move(*fetched);
    return round;
  }

  // Re-reads the placement of due domains, never-read and oldest first, within the budget.
  void UpdatePlacements(const FetchResult& fetched, SteadyClock::time_point now) {
    std::vector<std::pair<SteadyClock::time_point, const FetchedDomain*>> due;
    std::set<std::string> listed;
    for (const auto& d : fetched.domains) {
      if (!d.sample.active) continue;  // no process to look for: never a /proc scan for it
      listed.insert(d.sample.uuid);
      auto it = placements_.find(d.sample.uuid);
      if (it == placements_.end())
        due.push_back({SteadyClock::time_point::min(), &d});
      else if (d.vcpus_fetched)
        due.push_back({it->second.read, &d});
    }
    std::erase_if(placements_, [&](const auto& kv) { return !listed.contains(kv.first); });
    if (due.empty()) return;
    std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    placement_.BeginRound();
    auto start = SteadyClock::now();
    bool first = true;  // at least one per refresh, so a tiny budget still makes progress
    for (const auto& [_, d] : due) {
      if (!first && SteadyClock::now() - start > opt_.placement_budget) break;
      first = false;
      placements_[d->sample.uuid] = {placement_.Read(d->sample.uuid, d->vcpu_cpus), now};
    }
  }

  // Called with st_->mu held.
  void Publish(Round& round) {
    auto now = SystemClock::now();
    st_->as_of = now;
    st_->last_ok = round.ok;
    if (round.connection_error) ++st_->connection_errors;
    ++st_->stats.refreshes;
    st_->stats.connects = connects_;
    st_->stats.xml_fetches = fetcher_ ? fetcher_->xml_fetches() : 0;
    st_->stats.proc_scans = placement_.proc_scans();
    st_->proc_read_denied = placement_.denied();
    if (round.ok) {
      std::map<std::string, DomainSample*> old;
      for (auto& d : st_->domains) old[d.uuid] = &d;
      std::vector<DomainSample> next;
      next.reserve(round.fetched.domains.size());
      for (auto& f : round.fetched.domains) {
        auto it = old.find(f.sample.uuid);
        if (!f.complete && it != old.end()) {
          next.push_back(std::move(*it->second));  // keep its last good values and their time
          continue;
        }
        f.sample.sampled_at = now;
        next.push_back(std::move(f.sample));
      }
      std::sort(next.begin(), next.end(), [](const DomainSample& a, const DomainSample& b) {
        return a.name != b.name ? a.name < b.name : a.uuid < b.uuid;
      });
      st_->domains = std::move(next);  // domains libvirt no longer lists are gone
      st_->free_pages = std::move(round.fetched.free_pages);
    }
    std::erase_if(st_->domains, [&](const DomainSample& d) { return now - d.sampled_at > opt_.forget_after; });
  }

  void MarkUnavailable(const Error& err) {
    const auto retry_in = backoff_;
    next_open_ = SteadyClock::now() + retry_in;
    backoff_ = std::min(backoff_ * 2, opt_.backoff_max);
    if (logged_ != Logged::kDown) {
      log::Warn("libvirt unavailable; host metrics are still served",
                {{"uri", opt_.uri}, {"err", err.ToString()}, {"retry_in", std::to_string(retry_in.count()) + "ms"}});
      logged_ = Logged::kDown;
    } else {
      log::Debug("libvirt still unavailable", {{"uri", opt_.uri}, {"err", err.ToString()}});
    }
  }

  void MarkConnected() {
    backoff_ = opt_.backoff_initial;
    if (logged_ != Logged::kUp) log::Info("libvirt connected", {{"uri", opt_.uri}});
    logged_ = Logged::kUp;
  }

  enum class Logged { kNothing, kUp, kDown };
  std::shared_ptr<LibvirtSource::State> st_;
  const SourceOptions& opt_;
  PlacementReader placement_;
  std::unique_ptr<Fetcher> fetcher_;
  std::chrono::milliseconds backoff_;
  SteadyClock::time_point next_open_{};
  struct TimedPlacement {
    Placement placement;
    SteadyClock::time_point read;
  };
  std::map<std::string, TimedPlacement> placements_;
  uint64_t connects_ = 0;
  Logged logged_ = Logged::kNothing;
};

}  // namespace

LibvirtSource::LibvirtSource(SourceOptions options) : state_(std::make_shared<State>(std::move(options))) {
  InitLibvirt();
  // The thread holds its own reference: if it is stuck in libvirt when we are destroyed, it
  // is detached and must not touch freed memory when (if ever) the call returns.
  worker_ = std::thread([st = state_] { Worker(st).Run(); });
  // Connect in the background now, so the first scrape need not wait for it.
  std::lock_guard lock(state_->mu);
  ++state_->requested;
  state_->cv.notify_all();
}

LibvirtSource::~LibvirtSource() {
  bool finished = false;
  {
    std::unique_lock lock(state_->mu);
    state_->stop = true;
    state_->cv.notify_all();
    finished = state_->cv.wait_for(lock, std::chrono::seconds(2), [&] { return state_->finished; });
  }
  if (finished)
    worker_.join();
  else
    worker_.detach();  // hung in libvirt: leave it; it owns what it uses
}

Snapshot LibvirtSource::Get(std::chrono::milliseconds budget) {
  std::unique_lock lock(state_->mu);
  if (state_->requested == state_->completed) {
    ++state_->requested;
    state_->cv.notify_all();
  }
  // Wait for the newest requested refresh, which may be one a timed-out scrape started.
  const uint64_t target = state_->requested;
  bool fresh = state_->cv.wait_for(lock, budget, [&] { return state_->completed >= target; });
  if (!fresh) ++state_->timeouts;
  Snapshot s;
  s.up = fresh && state_->last_ok;
  s.connection_errors = state_->connection_errors;
  s.proc_read_denied = state_->proc_read_denied;
  s.timeouts = state_->timeouts;
  s.as_of = fresh ? state_->as_of : SystemClock::now();
  s.domains = state_->domains;
  s.free_pages = state_->free_pages;
  return s;
}

LibvirtSource::Stats LibvirtSource::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

}  // namespace kvmem::virt
