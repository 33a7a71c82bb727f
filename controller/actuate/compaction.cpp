// Per-node compaction through sysfs.
#include "controller/actuate/compaction.h"

#include <chrono>

#include "host/write/sysfs.h"

namespace kvmem::actuate {

std::string SysfsCompaction::Refusal(const model::Action& action) const noexcept {
  if (std::holds_alternative<model::CompactNode>(action)) return {};
  return "the compaction actuator only compacts nodes";
}

model::Outcome SysfsCompaction::Apply(const model::Action& action) noexcept {
  model::Outcome out;
  try {
    if (Refused(*this, action, out)) return out;
    const int node = std::get<model::CompactNode>(action).node;
    if (read_back_) out.index_before = read_back_->FragmentationIndex(node);
    const auto start = std::chrono::steady_clock::now();
    auto written = hostwrite::WriteKnob(root_.Node(node, "compact"), "1\n", "1", /*truncate=*/false);
    out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
    if (!written) {
      out.ok = false;
      out.error = written.error().message;
      return out;
    }
    if (read_back_) out.index_after = read_back_->FragmentationIndex(node);
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

}  // namespace kvmem::actuate
