// Admission and eviction of connections.
#include "common/http/connections.h"

namespace kvmem::http {

std::optional<size_t> PickVictim(const std::vector<Candidate>& candidates) {
  std::optional<size_t> best;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.waiting_since_ns == 0) continue;
    if (!best) {
      best = i;
      continue;
    }
    const Candidate& b = candidates[*best];
    if (c.partial != b.partial ? c.partial : c.waiting_since_ns < b.waiting_since_ns) best = i;
  }
  return best;
}

ConnectionRegistry::Admission ConnectionRegistry::MakeRoom() {
  // Released after the lock: dropping the last reference runs the destructor, which calls Remove.
  std::shared_ptr<Connection> victim_connection;
  std::unique_lock lock(mutex_);
  if (slots_.size() - evicting_ < max_) return Admission::kAdmitted;
  std::vector<Candidate> candidates;
  std::vector<Slot*> slots;
  for (auto& s : slots_) {
    if (s.evicted) continue;
    candidates.push_back({s.raw->waiting_since_ns.load(), s.raw->partial.load()});
    slots.push_back(&s);
  }
  auto victim = PickVictim(candidates);
  if (!victim) return Admission::kRefused;
  Slot& slot = *slots[*victim];
  slot.evicted = true;
  ++evicting_;
  // A connection being destroyed cannot be locked: it is leaving anyway.
  victim_connection = slot.connection.lock();
  lock.unlock();
  if (victim_connection) victim_connection->Evict();
  return Admission::kEvicted;
}

ConnectionRegistry::Handle ConnectionRegistry::Add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  return slots_.insert(slots_.end(), Slot{connection, connection.get(), false});
}

void ConnectionRegistry::Remove(Handle handle) {
  std::lock_guard lock(mutex_);
  if (handle->evicted) --evicting_;
  slots_.erase(handle);
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace kvmem::http
