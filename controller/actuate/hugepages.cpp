// Per-node hugepage pool resizes through libvirt or sysfs, with read-back.
#include "controller/actuate/hugepages.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "controller/actuate/libvirt_connection.h"
#include "controller/model/units.h"
#include "host/procfs/read.h"

namespace kvmem::actuate {
namespace {

using prometheus::MetricType;
const FamilyDesc kWrites{"kvmem_controller_hugepage_pool_writes_total",
                         "Hugepage pool resizes the controller wrote, by method: libvirt (virNodeAllocPages) or sysfs "
                         "(nodeN/hugepages/hugepages-<kB>kB/nr_hugepages).",
                         MetricType::Counter,
                         {"method"}};
constexpr std::string_view kLibvirt = "libvirt", kSysfs = "sysfs";

model::Outcome Failure(std::string error) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  return o;
}

// Empty on success, else the error naming the file. The kernel accepts the number and then
// allocates what it can: a successful write says nothing about the pool's new size.
std::string WriteSysfs(const std::string& path, uint64_t pages) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // O_TRUNC: fixture trees
  if (fd < 0) return path + ": cannot open for writing: " + std::strerror(errno);
  const std::string text = std::to_string(pages) + "\n";
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return path + ": writing " + std::to_string(pages) + " failed: " + std::strerror(err);
  if (static_cast<size_t>(n) != text.size()) return path + ": short write of " + std::to_string(pages);
  return {};
}

}  // namespace

std::string PoolFile(const procfs::Root& root, int node, uint64_t page_bytes) {
  return root.Node(node, "hugepages/hugepages-" + std::to_string(page_bytes / 1024) + "kB/nr_hugepages");
}

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

HugepagePoolActuator::Written HugepagePoolActuator::Write(const model::ResizeHugepagePool& a, const std::string& path) {
  std::string unreachable;  // why libvirt did not write, when sysfs then fails too
  if (libvirt_) {
    auto conn = libvirt_->Get();
    if (conn) {
      unsigned int kib[1] = {static_cast<unsigned int>(a.page_bytes / 1024)};
      unsigned long long count[1] = {a.to_pages};
      if (virNodeAllocPages(*conn, 1, kib, count, a.node, 1, VIR_NODE_ALLOC_PAGES_SET) >= 0) return {kLibvirt, {}};
      const int code = virt::LastErrorCode();  // both copied before any other libvirt call
      const Error e = virt::LastError("virNodeAllocPages node " + std::to_string(a.node), libvirt_->uri());
      if (code != VIR_ERR_NO_SUPPORT) {
        libvirt_->DropIfDead();
        return {kLibvirt, e.ToString()};
      }
    } else {
      unreachable = conn.error().ToString() + "; then ";
    }
  }
  std::string error = WriteSysfs(path, a.to_pages);
  return {kSysfs, error.empty() ? error : unreachable + error};
}

model::Outcome HugepagePoolActuator::Apply(const model::Action& action) noexcept {
  const auto start = std::chrono::steady_clock::now();
  last_method_ = {};
  model::Outcome out;
  try {
    const auto* a = std::get_if<model::ResizeHugepagePool>(&action);
    if (!a) return Failure("the hugepage pool actuator does not " + model::Summary(action));
    if (a->node < 0) return Failure("hugepage pool: node " + std::to_string(a->node) + " is not a node id");
    if (a->page_bytes == 0 || a->page_bytes % 1024 != 0 || a->page_bytes / 1024 > UINT_MAX) {
      return Failure("hugepage pool: page size of " + std::to_string(a->page_bytes) + " B is not a whole number of KiB");
    }
    const std::string path = PoolFile(root_, a->node, a->page_bytes);
    Written written = Write(*a, path);
    last_method_ = written.method;
    ++writes_[written.method == kLibvirt ? 0 : 1];

    auto back = procfs::ReadU64File(path);
    if (back) out.pages_obtained = *back;
    std::string shortfall = back ? PoolShortfall(*a, *back) : std::string();
    if (!written.error.empty()) {
      out.ok = false;
      out.error = shortfall.empty() ? written.error : shortfall + "; " + written.error;
    } else if (!back) {
      out.ok = false;
      out.error = "wrote " + std::to_string(a->to_pages) + " pages with " + std::string(written.method) +
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

void HugepagePoolActuator::Collect(MetricSink& out) const {
  out.Add(kWrites, {kLibvirt}, static_cast<double>(writes_[0].load()));
  out.Add(kWrites, {kSysfs}, static_cast<double>(writes_[1].load()));
}

std::vector<const FamilyDesc*> HugepagePoolActuator::Families() { return {&kWrites}; }

}  // namespace kvmem::actuate
