// vCPU pinning through libvirt and page migration through libnuma, each measured after.
#include "controller/actuate/placement.h"

#include <chrono>

#include "common/log.h"
#include "controller/model/units.h"

namespace kvmem::actuate {
namespace {

model::Outcome Failure(std::string error) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  return o;
}

}  // namespace

std::optional<double> ShareOn(const model::NodeBytes& bytes, int node) {
  uint64_t total = 0, on = 0;
  for (auto [n, b] : bytes) {
    total += b;
    if (n == node) on += b;
  }
  if (total == 0) return std::nullopt;
  return static_cast<double>(on) / static_cast<double>(total);
}

uint64_t BytesMovedOff(const model::NodeBytes& before, const model::NodeBytes& after, int to_node) {
  uint64_t moved = 0;
  for (auto [node, was] : before) {
    if (node == to_node) continue;
    auto it = after.find(node);
    const uint64_t now = it == after.end() ? 0 : it->second;
    if (was > now) moved += was - now;
  }
  return moved;
}

std::string PlacementActuator::Refusal(const model::Action& action) const noexcept {
  try {
    if (std::holds_alternative<model::PinVcpus>(action)) {
      return opt_.libvirt ? "" : "pinning vCPUs needs libvirt (--libvirt.uri)";
    }
    if (const auto* m = std::get_if<model::MigrateMemory>(&action)) {
      if (m->pid > 0) return {};
      return "migrate memory " + m->vm.name + " (pid " + std::to_string(m->pid) + "): no QEMU process id";
    }
    return "the placement actuator does not " + model::Summary(action);
  } catch (...) {
    return "out of memory";
  }
}

model::Outcome PlacementActuator::Pin(const model::PinVcpus& a) {
  const std::string where = "node " + std::to_string(a.to_node);
  auto cpus = opt_.node_cpus(a.to_node);
  if (!cpus) return Failure("pin vcpus " + a.vm.name + ": " + cpus.error().ToString());
  if (cpus->empty())
    return Failure(where + " has no CPUs (a memory-only node): cannot pin the vCPUs of " + a.vm.name + " there");
  const std::string target = where + " (CPUs " + hostwrite::CpuListText(*cpus) + ")";
  const hostwrite::DomainRef vm{a.vm.uuid, a.vm.name};
  int pinned = 0, vcpus = 0;
  if (auto done = opt_.libvirt->PinToCpus(vm, *cpus, &pinned, &vcpus); !done) {
    if (vcpus == 0) return Failure(done.error().ToString());
    if (pinned == vcpus) {
      return Failure("pinned all " + std::to_string(vcpus) + " vCPUs to " + target +
                     " but not the emulator threads: " + done.error().ToString());
    }
    return Failure("pinned " + std::to_string(pinned) + " of " + std::to_string(vcpus) + " vCPUs to " + target + ": " +
                   done.error().ToString());
  }
  // Marks the pins as ours, so a restarted controller does not take them for the
  // administrator's. The pins stand either way: without the mark the controller leaves this
  // VM alone, the safe side.
  if (auto marked = opt_.libvirt->MarkPinnedTo(vm, a.to_node); !marked) {
    log::Warn("pinned the vCPUs but could not mark them as the controller's in the domain metadata",
              {{"domain", a.vm.name}, {"err", marked.error().ToString()}});
  }
  model::Outcome out;
  if (!opt_.read_back) return out;
  if (auto pid = opt_.read_back->QemuPid(a.vm.uuid)) {
    if (auto bytes = opt_.read_back->ResidentBytesPerNode(*pid)) out.locality_after = ShareOn(*bytes, a.to_node);
  }
  return out;
}

model::Outcome PlacementActuator::Migrate(const model::MigrateMemory& a) {
  const std::string who = "migrate memory " + a.vm.name + " (pid " + std::to_string(a.pid) + ")";
  if (auto node = hostwrite::CheckMemoryNode(a.to_node, who); !node) return Failure(node.error().message);
  if (!opt_.read_back) return Failure(who + ": no read-back configured to measure the move");
  if (opt_.verify_qemu_uuid) {
    auto uuid = opt_.read_back->QemuUuid(a.pid);
    if (!uuid) return Failure(who + ": " + uuid.error().ToString());
    if (uuid->uuid != a.vm.uuid) {
      return Failure(who + ": " + uuid->file + " carries " + (uuid->uuid.empty() ? "no -uuid" : "-uuid " + uuid->uuid) +
                     ", not " + a.vm.uuid + ": not this VM's QEMU process (restarted?)");
    }
  }
  auto before = opt_.read_back->ResidentBytesPerNode(a.pid);
  if (!before) return Failure(who + ": " + before.error().ToString());
  auto moved = hostwrite::MigratePagesTo(a.pid, a.to_node, who);
  auto after = opt_.read_back->ResidentBytesPerNode(a.pid);
  model::Outcome out;
  if (after) {
    out.bytes_migrated = BytesMovedOff(*before, *after, a.to_node);
    out.locality_after = ShareOn(*after, a.to_node);
  }
  if (!moved) {
    out.ok = false;
    out.error = moved.error().message;
  } else if (moved->pages_left > 0) {
    out.ok = false;
    out.error = who + ": " + moved->call + ": " + std::to_string(moved->pages_left) +
                " pages could not be moved (in use, locked or pinned)" +
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
    if (std::string refusal = Refusal(action); !refusal.empty())
      out = Failure(refusal);
    else if (const auto* p = std::get_if<model::PinVcpus>(&action))
      out = Pin(*p);
    else if (const auto* m = std::get_if<model::MigrateMemory>(&action))
      out = Migrate(*m);
  } catch (const std::exception& e) {
    out = Failure(e.what());
  }
  out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace kvmem::actuate
