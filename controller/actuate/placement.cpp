// vCPU pinning through libvirt and page migration through libnuma, each measured after.
#include "controller/actuate/placement.h"

#include <fcntl.h>
#include <numa.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "controller/actuate/libvirt_connection.h"
#include "controller/model/units.h"
#include "host/procfs/read.h"
#include "host/virt/types.h"

namespace kvmem::actuate {
namespace {

struct BitmaskFreer {
  void operator()(bitmask* b) const noexcept { numa_bitmask_free(b); }
};
using BitmaskPtr = std::unique_ptr<bitmask, BitmaskFreer>;

model::Outcome Failure(std::string error) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  return o;
}

std::string NodeSetText(const bitmask* nodes) {
  std::vector<int> ids;
  for (unsigned int n = 0; n < nodes->size; ++n) {
    if (numa_bitmask_isbitset(nodes, n)) ids.push_back(static_cast<int>(n));
  }
  return "{" + CpuListText(ids) + "}";
}

}  // namespace

Result<std::vector<int>> LibnumaNodeCpus(int node) {
  if (numa_available() < 0) return Fail(ErrorKind::kNotFound, "libnuma: NUMA is not available on this host");
  const int max = numa_max_node();
  if (node < 0 || node > max) {
    return Fail(ErrorKind::kNotFound,
                "libnuma: node " + std::to_string(node) + " does not exist (highest node " + std::to_string(max) + ")");
  }
  BitmaskPtr cpus(numa_allocate_cpumask());
  if (numa_node_to_cpus(node, cpus.get()) < 0) {
    return Fail(ErrorKind::kIo, "libnuma: numa_node_to_cpus(" + std::to_string(node) + "): " + std::strerror(errno));
  }
  std::vector<int> out;
  for (unsigned int c = 0; c < cpus->size; ++c) {
    if (numa_bitmask_isbitset(cpus.get(), c)) out.push_back(static_cast<int>(c));
  }
  return out;
}

Result<procfs::NodeBytes> ReadNumaMaps(const procfs::Root& root, int pid) {
  const std::string path = root.Proc(std::to_string(pid) + "/numa_maps");
  auto text = procfs::ReadUncached(path);
  if (!text) return tl::unexpected(text.error());
  return procfs::ParseNumaMaps(*text, path);
}

std::optional<double> ShareOn(const procfs::NodeBytes& bytes, int node) {
  uint64_t total = 0, on = 0;
  for (auto [n, b] : bytes) {
    total += b;
    if (n == node) on += b;
  }
  if (total == 0) return std::nullopt;
  return static_cast<double>(on) / static_cast<double>(total);
}

uint64_t BytesMovedOff(const procfs::NodeBytes& before, const procfs::NodeBytes& after, int to_node) {
  uint64_t moved = 0;
  for (auto [node, was] : before) {
    if (node == to_node) continue;
    auto it = after.find(node);
    const uint64_t now = it == after.end() ? 0 : it->second;
    if (was > now) moved += was - now;
  }
  return moved;
}

std::string CpuListText(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

PlacementActuator::PlacementActuator(PlacementOptions options)
    : opt_(std::move(options)), reader_(opt_.root) {}

model::Outcome PlacementActuator::Pin(const model::PinVcpus& a) {
  const std::string where = "node " + std::to_string(a.to_node);
  auto cpus = opt_.node_cpus(a.to_node);
  if (!cpus) return Failure("pin vcpus " + a.vm.name + ": " + cpus.error().ToString());
  if (cpus->empty()) return Failure(where + " has no CPUs (a memory-only node): cannot pin the vCPUs of " + a.vm.name + " there");
  if (!opt_.libvirt) return Failure("pinning vCPUs needs libvirt (--libvirt.uri)");
  auto d = opt_.libvirt->Domain(a.vm);
  if (!d) {
    opt_.libvirt->DropIfDead();
    return Failure(d.error().ToString());
  }
  const std::string& uri = opt_.libvirt->uri();
  int vcpus = virDomainGetVcpusFlags(d->get(), VIR_DOMAIN_AFFECT_LIVE);
  if (vcpus < 0) vcpus = virDomainGetMaxVcpus(d->get());
  if (vcpus < 0) {
    Error e = virt::LastError("virDomainGetMaxVcpus " + a.vm.name, uri);
    opt_.libvirt->DropIfDead();
    return Failure(e.ToString());
  }
  std::vector<unsigned char> map(static_cast<size_t>(cpus->back() / 8 + 1), 0);
  for (int cpu : *cpus) map[static_cast<size_t>(cpu / 8)] |= static_cast<unsigned char>(1u << (cpu % 8));
  const int maplen = static_cast<int>(map.size());
  const std::string target = where + " (CPUs " + CpuListText(*cpus) + ")";
  for (int v = 0; v < vcpus; ++v) {
    const auto vcpu = static_cast<unsigned int>(v);
    if (virDomainPinVcpuFlags(d->get(), vcpu, map.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) == 0) continue;
    const int code = virt::LastErrorCode();
    Error e = virt::LastError("virDomainPinVcpuFlags " + a.vm.name + " vcpu " + std::to_string(v), uri);
    // "unsupported flags" (the test driver): on an active domain the flagless call is live.
    if (code == VIR_ERR_INVALID_ARG && virDomainIsActive(d->get()) == 1) {
      if (virDomainPinVcpu(d->get(), vcpu, map.data(), maplen) == 0) continue;
      e = virt::LastError("virDomainPinVcpu " + a.vm.name + " vcpu " + std::to_string(v), uri);
    }
    opt_.libvirt->DropIfDead();
    return Failure("pinned " + std::to_string(v) + " of " + std::to_string(vcpus) + " vCPUs to " + target + ": " + e.ToString());
  }
  if (virDomainPinEmulator(d->get(), map.data(), maplen, VIR_DOMAIN_AFFECT_LIVE) < 0) {
    Error e = virt::LastError("virDomainPinEmulator " + a.vm.name, uri);
    opt_.libvirt->DropIfDead();
    return Failure("pinned all " + std::to_string(vcpus) + " vCPUs to " + target + " but not the emulator threads: " + e.ToString());
  }
  // Marks the pins as ours in the live XML, so a restarted controller does not take them for
  // the administrator's (observe::PlacementFixed). The pins stand either way: without the mark
  // the controller (this process once it re-reads the XML, or the next one) leaves this VM
  // alone, the safe side.
  const std::string mark = "<placement vcpus-node=\"" + std::to_string(a.to_node) + "\"/>";
  if (virDomainSetMetadata(d->get(), VIR_DOMAIN_METADATA_ELEMENT, mark.c_str(), virt::kKvmemPlacementPrefix,
                           virt::kKvmemPlacementNs, VIR_DOMAIN_AFFECT_LIVE) < 0) {
    log::Warn("pinned the vCPUs but could not mark them as the controller's in the domain metadata",
              {{"domain", a.vm.name}, {"err", virt::LastError("virDomainSetMetadata", uri).ToString()}});
  }
  model::Outcome out;
  reader_.BeginRound();
  if (auto pid = reader_.FindQemuPid(a.vm.uuid)) {
    if (auto bytes = ReadNumaMaps(opt_.root, *pid)) out.locality_after = ShareOn(*bytes, a.to_node);
  }
  return out;
}

model::Outcome PlacementActuator::Migrate(const model::MigrateMemory& a) {
  const std::string who = "migrate memory " + a.vm.name + " (pid " + std::to_string(a.pid) + ")";
  if (a.pid <= 0) return Failure(who + ": no QEMU process id");
  if (numa_available() < 0) return Failure(who + ": libnuma: NUMA is not available on this host");
  const int max = numa_max_node();
  if (a.to_node < 0 || a.to_node > max || !numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned int>(a.to_node))) {
    return Failure(who + ": node " + std::to_string(a.to_node) + " is not a memory node of this host (libnuma: " +
                   NodeSetText(numa_all_nodes_ptr) + ")");
  }
  if (opt_.verify_qemu_uuid) {
    const std::string path = opt_.root.Proc(std::to_string(a.pid) + "/cmdline");
    auto cmdline = procfs::ReadUncached(path);
    if (!cmdline) return Failure(who + ": " + cmdline.error().ToString());
    if (std::string uuid = virt::UuidFromCmdline(*cmdline); uuid != a.vm.uuid) {
      return Failure(who + ": " + path + " carries " + (uuid.empty() ? "no -uuid" : "-uuid " + uuid) +
                     ", not " + a.vm.uuid + ": not this VM's QEMU process (restarted?)");
    }
  }
  auto before = ReadNumaMaps(opt_.root, a.pid);
  if (!before) return Failure(who + ": " + before.error().ToString());

  BitmaskPtr from(numa_allocate_nodemask()), to(numa_allocate_nodemask());
  for (int n = 0; n <= max; ++n) {
    const auto bit = static_cast<unsigned int>(n);
    if (n != a.to_node && numa_bitmask_isbitset(numa_nodes_ptr, bit)) numa_bitmask_setbit(from.get(), bit);
  }
  numa_bitmask_setbit(to.get(), static_cast<unsigned int>(a.to_node));
  errno = 0;
  const int left = numa_migrate_pages(a.pid, from.get(), to.get());
  const int err = errno;

  auto after = ReadNumaMaps(opt_.root, a.pid);
  model::Outcome out;
  if (after) {
    out.bytes_migrated = BytesMovedOff(*before, *after, a.to_node);
    out.locality_after = ShareOn(*after, a.to_node);
  }
  const std::string call = "numa_migrate_pages(pid " + std::to_string(a.pid) + ", from " + NodeSetText(from.get()) +
                           ", to {" + std::to_string(a.to_node) + "})";
  if (left < 0) {
    out.ok = false;
    out.error = who + ": " + call + ": " + std::strerror(err) +
                (err == EPERM ? " (moving another user's process needs CAP_SYS_NICE)" : "");
  } else if (left > 0) {
    out.ok = false;
    out.error = who + ": " + call + ": " + std::to_string(left) + " pages could not be moved (in use, locked or pinned)" +
                (out.bytes_migrated ? "; moved " + model::FormatBytes(*out.bytes_migrated) : "");
  } else if (!after) {
    out.ok = false;
    out.error = who + ": migrated, but cannot measure it: " + after.error().ToString();
  }
  return out;
}

model::Outcome PlacementActuator::Apply(const model::Action& action) noexcept {
  const auto start = std::chrono::steady_clock::now();
  model::Outcome out;
  try {
    if (const auto* p = std::get_if<model::PinVcpus>(&action)) out = Pin(*p);
    else if (const auto* m = std::get_if<model::MigrateMemory>(&action)) out = Migrate(*m);
    else out = Failure("the placement actuator does not " + model::Summary(action));
  } catch (const std::exception& e) {
    out = Failure(e.what());
  }
  out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace kvmem::actuate
