// Per-node compaction through sysfs.
#include "controller/actuate/compaction.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "host/procfs/buddyinfo.h"

namespace kvmem::actuate {
namespace {

std::optional<double> NodeIndex(const procfs::Root& root, int node) {
  auto zones = procfs::ReadBuddyinfo(root);
  if (!zones) return std::nullopt;
  unsigned order = procfs::ThpOrder(root);
  auto per_node = procfs::NodeContigInfo(*zones, order);
  auto it = per_node.find(node);
  if (it == per_node.end()) return std::nullopt;
  return procfs::FragmentationIndex(it->second, order);
}

}  // namespace

model::Outcome SysfsCompaction::Apply(const model::Action& action) noexcept {
  model::Outcome out;
  const auto* compact = std::get_if<model::CompactNode>(&action);
  if (!compact) {
    out.ok = false;
    out.error = "the compaction actuator only compacts nodes";
    return out;
  }
  try {
    std::string path = root_.Node(compact->node, "compact");
    out.index_before = NodeIndex(root_, compact->node);
    auto start = std::chrono::steady_clock::now();
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      out.ok = false;
      out.error = path + ": cannot open for writing: " + std::strerror(errno);
      return out;
    }
    // The write returns when the kernel has finished compacting the node.
    ssize_t n = ::write(fd, "1\n", 2);
    int err = errno;
    ::close(fd);
    out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
    if (n != 2) {
      out.ok = false;
      out.error = path + ": write failed: " + std::strerror(err);
      return out;
    }
    out.index_after = NodeIndex(root_, compact->node);
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

}  // namespace kvmem::actuate
