// Fresh reads of buddyinfo, hugepage pools, numa_maps, QEMU command lines and KSM knobs.
#include "controller/observe/read_back.h"

#include "host/procfs/buddyinfo.h"
#include "host/procfs/fields.h"
#include "host/procfs/numa_maps.h"
#include "host/procfs/read.h"

namespace kvmem::observe {

std::optional<double> HostReadBack::FragmentationIndex(int node) {
  auto zones = procfs::ReadBuddyinfo(root_);
  if (!zones) return std::nullopt;
  const unsigned order = procfs::ThpOrder(root_);
  auto per_node = procfs::NodeContigInfo(*zones, order);
  auto it = per_node.find(node);
  if (it == per_node.end()) return std::nullopt;
  return procfs::FragmentationIndex(it->second, order);
}

Result<model::KsmSettings> HostReadBack::KsmKnobs() {
  const std::string dir = root_.Sys("kernel/mm/ksm/");
  auto run = procfs::ReadU64File(dir + "run");
  if (!run) return tl::unexpected(run.error());
  auto scan = procfs::ReadU64File(dir + "pages_to_scan");
  if (!scan) return tl::unexpected(scan.error());
  auto sleep = procfs::ReadU64File(dir + "sleep_millisecs");
  if (!sleep) return tl::unexpected(sleep.error());
  return model::KsmSettings{static_cast<int>(*run), *scan, *sleep};
}

Result<uint64_t> HostReadBack::PoolPages(int node, uint64_t page_bytes) {
  return procfs::ReadU64File(root_.NodeHugepages(node, page_bytes, "nr_hugepages"));
}

Result<model::NodeBytes> HostReadBack::ResidentBytesPerNode(int pid) {
  const std::string path = root_.Proc(std::to_string(pid) + "/numa_maps");
  auto text = procfs::ReadUncached(path);
  if (!text) return tl::unexpected(text.error());
  return procfs::ParseNumaMaps(*text, path);
}

std::optional<int> HostReadBack::QemuPid(const std::string& uuid) {
  reader_.BeginRound();
  return reader_.FindQemuPid(uuid);
}

Result<model::ReadBack::CommandLineUuid> HostReadBack::QemuUuid(int pid) {
  const std::string path = root_.Proc(std::to_string(pid) + "/cmdline");
  auto cmdline = procfs::ReadUncached(path);
  if (!cmdline) return tl::unexpected(cmdline.error());
  return CommandLineUuid{virt::UuidFromCmdline(*cmdline), path};
}

Result<uint64_t> HostReadBack::CgroupMemoryBytes(const std::string& dir) {
  const std::string path = dir + "/memory.current";
  auto text = procfs::ReadUncached(path);
  if (!text) return tl::unexpected(text.error());
  return procfs::ParseSingleU64(procfs::Trim(*text), path);
}

}  // namespace kvmem::observe
