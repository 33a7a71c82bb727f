// The server's open connections, and which one to drop when it is full: the client that has
// been slowest to send a complete request (a slowloris client trickling bytes), so that a
// full server still admits a scraper that sends its request at once.
// Thread-safety: ConnectionRegistry is safe from any thread; a Connection's state is written
// on its own strand and read by the registry (atomics). Throws only std::bad_alloc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kvmem::http {

class Connection {
 public:
  virtual ~Connection() = default;
  // Asks the connection to close (thread-safe; it happens on the connection's strand). One
  // that is busy with a request finishes its response first, then closes.
  virtual void Evict() = 0;

  // Steady-clock nanoseconds since it began waiting for its current request (or its TLS
  // handshake); 0 while a request is being handled or answered.
  std::atomic<int64_t> waiting_since_ns{0};
  // Part of the awaited request (or handshake) has arrived.
  std::atomic<bool> partial{false};
};

struct Candidate {
  int64_t waiting_since_ns = 0;  // 0: busy, never dropped
  bool partial = false;
};

// The index of the connection to drop: among those waiting, the ones holding part of a
// request first, and among those the longest waiting. nullopt when all are busy.
std::optional<size_t> PickVictim(const std::vector<Candidate>& candidates);

// One registered connection (ConnectionRegistry's bookkeeping).
struct Slot {
  std::weak_ptr<Connection> connection;
  Connection* raw = nullptr;  // for reading its atomics while the registry's mutex is held
  bool evicted = false;
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(size_t max_connections) : max_(max_connections) {}

  enum class Admission { kAdmitted, kEvicted, kRefused };
  // Makes room for one new connection: admitted while below the limit; otherwise it evicts
  // PickVictim's choice and admits; refused when every connection is busy.
  Admission MakeRoom();

  using Handle = std::list<Slot>::iterator;
  Handle Add(const std::shared_ptr<Connection>& connection);
  void Remove(Handle handle);

  size_t size() const;  // connections open, evicted ones not yet closed included

 private:
  size_t max_;
  mutable std::mutex mutex_;  // guards the two below
  std::list<Slot> slots_;
  size_t evicting_ = 0;  // slots marked evicted: they no longer count against the limit
};

}  // namespace kvmem::http
