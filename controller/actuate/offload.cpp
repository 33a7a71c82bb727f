// memory.reclaim writes.
#include "controller/actuate/offload.h"

#include <unistd.h>

#include <chrono>

#include "host/write/sysfs.h"

namespace kvmem::actuate {

std::string OffloadActuator::Refusal(const model::Action& action) const noexcept {
  try {
    const auto* r = std::get_if<model::ReclaimVmMemory>(&action);
    if (!r) return "the offload actuator only writes memory.reclaim";
    if (r->bytes == 0) return "reclaim of 0 bytes";
    if (r->cgroup.empty() || r->cgroup[0] != '/') return "cgroup path not absolute: '" + r->cgroup + "'";
    if (::access(r->cgroup.c_str(), F_OK) != 0) return "cgroup " + r->cgroup + " is gone (VM stopped?)";
    const std::string reclaim = r->cgroup + "/memory.reclaim";
    if (::access(reclaim.c_str(), F_OK) != 0) {
      if (::access((r->cgroup + "/memory.usage_in_bytes").c_str(), F_OK) == 0) {
        return "cgroup v1 has no memory.reclaim: " + r->cgroup;
      }
      return reclaim + " missing (kernel before 5.19, or no memory controller there)";
    }
    if (::access(reclaim.c_str(), W_OK) != 0) return reclaim + " is read-only";
    return {};
  } catch (...) {
    return "out of memory";
  }
}

model::Outcome OffloadActuator::Apply(const model::Action& action) noexcept {
  model::Outcome out;
  try {
    if (Refused(*this, action, out)) return out;
    const auto& r = std::get<model::ReclaimVmMemory>(action);
    std::optional<uint64_t> before;
    if (read_back_) {
      if (auto b = read_back_->CgroupMemoryBytes(r.cgroup)) before = *b;
    }
    const auto start = std::chrono::steady_clock::now();
    auto written = hostwrite::WriteKnob(r.cgroup + "/memory.reclaim", std::to_string(r.bytes), "the byte count",
                                        /*truncate=*/false);
    out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
    // EAGAIN: the kernel reclaimed less than asked, which a small proactive step may well do.
    if (!written && written.error().kind != ErrorKind::kTransient) {
      out.ok = false;
      out.error = written.error().message;
      return out;
    }
    if (read_back_ && before) {
      if (auto after = read_back_->CgroupMemoryBytes(r.cgroup))
        out.bytes_reclaimed = *before > *after ? *before - *after : 0;
    }
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

}  // namespace kvmem::actuate
