// Per-node hugepage pool resizes through libvirt or sysfs, with read-back.
#include "controller/actuate/hugepages.h"

#include <chrono>
#include <climits>

#include "controller/model/units.h"
#include "host/write/sysfs.h"

namespace kvmem::actuate {
namespace {

constexpr std::string_view kLibvirt = "libvirt", kSysfs = "sysfs";

model::Outcome Failure(std::string error) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  return o;
}

}  // namespace

std::string PoolShortfall(const model::ResizeHugepagePool& a, uint64_t obtained) {
  const std::string size = model::FormatBytes(a.page_bytes);
  const std::string node = std::to_string(a.node);
  if (a.to_pages >= a.from_pages && obtained < a.to_pages) {
    return "obtained " + std::to_string(obtained) + " of " + std::to_string(a.to_pages) + " pages of " + size +
           " on node " + node + " (short by " + std::to_string(a.to_pages - obtained) + ")";
  }
  if (a.to_pages <= a.from_pages && obtained > a.to_pages) {
    return "pool of " + size + " pages on node " + node + " is " + std::to_string(obtained) + ", asked " +
           std::to_string(a.to_pages) + " (" + std::to_string(obtained - a.to_pages) +
           " above: pages in use stay until freed)";
  }
  return {};
}

std::string HugepagePoolActuator::Refusal(const model::Action& action) const noexcept {
  try {
    const auto* a = std::get_if<model::ResizeHugepagePool>(&action);
    if (!a) return "the hugepage pool actuator does not " + model::Summary(action);
    if (a->node < 0) return "hugepage pool: node " + std::to_string(a->node) + " is not a node id";
    if (a->page_bytes == 0 || a->page_bytes % 1024 != 0 || a->page_bytes / 1024 > UINT_MAX) {
      return "hugepage pool: page size of " + std::to_string(a->page_bytes) + " B is not a whole number of KiB";
    }
    return {};
  } catch (...) {
    return "out of memory";
  }
}

HugepagePoolActuator::Written HugepagePoolActuator::Write(const model::ResizeHugepagePool& a) {
  std::string unreachable;  // why libvirt did not write, when sysfs then fails too
  if (libvirt_) {
    using PoolWrite = hostwrite::LibvirtWriter::PoolWrite;
    Error error;
    switch (libvirt_->SetHugepagePool(a.node, a.page_bytes / 1024, a.to_pages, &error)) {
      case PoolWrite::kDone: return {kLibvirt, {}};
      case PoolWrite::kFailed: return {kLibvirt, error.ToString()};
      case PoolWrite::kUnreachable: unreachable = error.ToString() + "; then "; break;
      case PoolWrite::kUnsupported: break;
    }
  }
  const std::string path = root_.NodeHugepages(a.node, a.page_bytes, "nr_hugepages");
  auto written = hostwrite::WriteKnob(path, std::to_string(a.to_pages) + "\n", std::to_string(a.to_pages), true);
  return {kSysfs, written ? std::string() : unreachable + written.error().message};
}

model::Outcome HugepagePoolActuator::Apply(const model::Action& action) noexcept {
  const auto start = std::chrono::steady_clock::now();
  model::Outcome out;
  try {
    if (std::string refusal = Refusal(action); !refusal.empty()) return Failure(refusal);
    const auto& a = std::get<model::ResizeHugepagePool>(action);
    Written written = Write(a);
    out.method = written.method;
    Result<uint64_t> back = read_back_ ? read_back_->PoolPages(a.node, a.page_bytes)
                                       : Fail(ErrorKind::kNotFound, "no read-back configured");
    if (back) out.pages_obtained = *back;
    std::string shortfall = back ? PoolShortfall(a, *back) : std::string();
    if (!written.error.empty()) {
      out.ok = false;
      out.error = shortfall.empty() ? written.error : shortfall + "; " + written.error;
    } else if (!back) {
      out.ok = false;
      out.error = "wrote " + std::to_string(a.to_pages) + " pages with " + std::string(written.method) +
                  " but cannot read the pool back: " + back.error().ToString();
    } else if (!shortfall.empty()) {
      out.ok = false;
      out.error = shortfall;
    }
  } catch (const std::exception& e) {
    out = Failure(e.what());
  }
  out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace kvmem::actuate
