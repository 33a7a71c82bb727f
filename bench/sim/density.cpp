// The plant's density model: KSM and compressed memory (zswap), when the scenario has them.
// Every parameter and its source is in docs/simulator.md ("KSM and compressed memory").
//
// KSM: QEMU offers all guest RAM to KSM except with <nosharepages/>, so the mergeable pages are
// the resident (not offloaded) pages of those VMs. While run = 1 ksmd scans
//   pages_to_scan / (pages_to_scan x cpu_per_page + sleep_millisecs / 1000) pages a second
// (a batch, then the sleep), each page costing cpu_per_page of ksmd CPU. A VM of an image that
// at least one other mergeable VM shares has `shareable` of its resident pages identical to
// theirs; the scan's progress through all mergeable pages merges the same share of them, so a
// full pass merges everything identical. n VMs of one image keep one copy between them: they
// save (n - 1) / n of their merged pages (pages_sharing), and the copy is pages_shared. Guests
// write to merged pages (copy on write) at cow_per_minute, which unmerges them, run or not.
// general_profit = pages_sharing x page - rmap items x 64 bytes (every page ksmd has met).
//
// Compressed memory: memory.reclaim takes a VM's cold pages first (cold x its memory), then
// warm ones; they go to zswap, which keeps them compressed by compression_ratio, so the host
// saves offloaded x (1 - 1 / ratio). Offloaded pages are touched again at their rate (warm
// ones often, cold ones rarely); each touch is a refault that brings the page back and stalls
// the vCPU for refault_stall, which the VM's cgroup shows as memory PSI "some" time.
// Not thread-safe (part of the Plant). Throws only std::bad_alloc.
#include <algorithm>
#include <cmath>

#include "bench/sim/plant.h"
#include "controller/model/units.h"

namespace kvmem::sim {
namespace {

constexpr double kPage = 4096;
constexpr double kRmapItemBytes = 64;  // sizeof(struct ksm_rmap_item) on 64-bit

double InRam(const VmState& vm) { return std::max(0.0, model::AsDouble(vm.Memory()) - vm.Offloaded()); }

}  // namespace

size_t Plant::ImagePeers(const VmState& vm) const {
  if (vm.spec->image.empty() || vm.spec->nosharepages) return 0;
  size_t n = 0;
  for (const auto& other : vms_) n += other.spec->image == vm.spec->image && !other.spec->nosharepages ? 1U : 0U;
  return n;
}

double Plant::MergeablePages() const {
  double pages = 0;
  for (const auto& vm : vms_) {
    if (!vm.spec->nosharepages) pages += InRam(vm) / kPage;
  }
  return pages;
}

double Plant::KsmSavedBytes(const VmState& vm) const {
  const size_t n = ImagePeers(vm);
  if (n < 2) return 0;
  return vm.merged_pages * kPage * static_cast<double>(n - 1) / static_cast<double>(n);
}

double Plant::OffloadSavedBytes(const VmState& vm) const {
  if (!scenario_.offload) return 0;
  return vm.Offloaded() * (1 - 1 / scenario_.offload->compression_ratio);
}

void Plant::AdvanceDensity(Duration dt) {
  const double seconds = model::Seconds(dt);
  if (seconds <= 0) return;
  if (scenario_.offload) AdvanceOffload(seconds);
  if (scenario_.ksm) AdvanceKsm(seconds);
  UpdateSaved();
}

void Plant::AdvanceKsm(double seconds) {
  const KsmSpec& spec = *scenario_.ksm;
  const double mergeable = MergeablePages();
  double scanned = 0;
  if (ksm_.knobs.run == 1 && mergeable > 0 && ksm_.knobs.pages_to_scan > 0) {
    const double batch = model::AsDouble(ksm_.knobs.pages_to_scan);
    const double batch_seconds = batch * spec.cpu_per_page + model::AsDouble(ksm_.knobs.sleep_millisecs) / 1000;
    scanned = batch / batch_seconds * seconds;
    ksm_.pages_scanned += scanned;
    ksm_.cpu_seconds += scanned * spec.cpu_per_page;
    ksm_.full_scans += scanned / mergeable;
    ksm_.rmap_items = std::min(mergeable, ksm_.rmap_items + scanned);
  }
  const double progress = mergeable > 0 ? std::min(1.0, scanned / mergeable) : 0;
  const double unmerge = std::min(1.0, spec.cow_per_minute * seconds / 60);
  for (auto& vm : vms_) {
    const double identical = ImagePeers(vm) >= 2 ? vm.spec->shareable * InRam(vm) / kPage : 0;
    vm.merged_pages -= vm.merged_pages * unmerge;
    vm.merged_pages = std::min(identical, vm.merged_pages + identical * progress);
  }
}

void Plant::AdvanceOffload(double seconds) {
  const OffloadSpec& spec = *scenario_.offload;
  const double warm_share = std::min(1.0, spec.warm_touch_per_minute * seconds / 60);
  const double cold_share = std::min(1.0, spec.cold_touch_per_minute * seconds / 60);
  for (auto& vm : vms_) {
    // A smaller balloon leaves fewer pages of each kind to hold offloaded.
    const double memory = model::AsDouble(vm.Memory());
    vm.offloaded_cold = std::min(vm.offloaded_cold, vm.spec->cold * memory);
    vm.offloaded_warm = std::min(vm.offloaded_warm, (1 - vm.spec->cold) * memory);
    const double back = vm.offloaded_warm * warm_share + vm.offloaded_cold * cold_share;
    vm.offloaded_warm -= vm.offloaded_warm * warm_share;
    vm.offloaded_cold -= vm.offloaded_cold * cold_share;
    vm.refault_pages += back / kPage;
    vm.psi_some_seconds += back / kPage * spec.refault_stall;
  }
}

void Plant::UpdateSaved() {
  std::vector<double> saved(nodes_.size(), 0.0);
  for (const auto& vm : vms_) {
    const double bytes = KsmSavedBytes(vm) + OffloadSavedBytes(vm);
    uint64_t mine = 0;
    for (uint64_t r : vm.resident) mine += r;
    if (bytes <= 0 || mine == 0) continue;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      saved[i] += bytes * model::AsDouble(vm.resident[i]) / model::AsDouble(mine);
    }
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const uint64_t now = model::ToBytes(std::floor(saved[i]));
    nodes_[i].free += static_cast<int64_t>(now) - static_cast<int64_t>(nodes_[i].saved);
    nodes_[i].saved = now;
  }
}

bool Plant::SubmitDensity(const model::Action& action) {
  if (const auto* k = std::get_if<model::SetKsm>(&action)) {
    if (!scenario_.ksm) return false;
    ksm_.knobs = k->to;
    return true;
  }
  const auto* r = std::get_if<model::ReclaimVmMemory>(&action);
  if (r == nullptr || !scenario_.offload) return false;
  for (auto& vm : vms_) {
    if (vm.uuid != r->vm.uuid) continue;
    const double memory = model::AsDouble(vm.Memory());
    double left = model::AsDouble(r->bytes);
    const double cold = std::clamp(vm.spec->cold * memory - vm.offloaded_cold, 0.0, left);
    vm.offloaded_cold += cold;
    left -= cold;
    vm.offloaded_warm += std::clamp((1 - vm.spec->cold) * memory - vm.offloaded_warm, 0.0, left);
    // Offloaded pages are no longer mergeable: KSM keeps merged pages only among resident ones.
    vm.merged_pages = std::min(vm.merged_pages, vm.spec->shareable * InRam(vm) / kPage);
    UpdateSaved();
    return true;
  }
  return false;
}

void Plant::ObserveDensity(model::Observation& obs) const {
  if (scenario_.ksm) {
    model::KsmObservation k;
    k.run = ksm_.knobs.run;
    k.pages_to_scan = ksm_.knobs.pages_to_scan;
    k.sleep_millisecs = ksm_.knobs.sleep_millisecs;
    double shared = 0, sharing = 0;
    for (const auto& vm : vms_) {
      const size_t n = ImagePeers(vm);
      if (n < 2) continue;
      shared += vm.merged_pages / static_cast<double>(n);
      sharing += vm.merged_pages * static_cast<double>(n - 1) / static_cast<double>(n);
    }
    k.pages_shared = static_cast<uint64_t>(shared);
    k.pages_sharing = static_cast<uint64_t>(sharing);
    k.full_scans = static_cast<uint64_t>(ksm_.full_scans);
    k.general_profit_bytes = static_cast<int64_t>(std::floor(sharing) * kPage - ksm_.rmap_items * kRmapItemBytes);
    k.ksmd_cpu_seconds_total = ksm_.cpu_seconds;
    obs.ksm = k;
  }
  if (!scenario_.offload) return;
  const double ratio = scenario_.offload->compression_ratio;
  model::SwapObservation swap;
  swap.zswap_enabled = true;
  double offloaded = 0;
  for (const auto& vm : vms_) {
    swap.total_bytes += vm.spec->max;  // a swap device behind zswap as large as the guests
    offloaded += vm.Offloaded();
  }
  swap.free_bytes = model::SatSub(swap.total_bytes, model::ToBytes(offloaded));
  obs.swap = swap;
  for (size_t i = 0; i < vms_.size(); ++i) {
    const VmState& vm = vms_[i];
    model::VmCgroup cg;
    cg.path = "/sys/fs/cgroup/machine.slice/machine-qemu-" + vm.spec->name + ".scope";
    cg.version = 2;
    const uint64_t resident = model::ToBytes(std::floor(InRam(vm)));
    const uint64_t compressed = model::ToBytes(std::floor(vm.Offloaded() / ratio));
    cg.anon_bytes = resident;
    cg.file_bytes = 0;
    cg.current_bytes = resident + compressed;  // the zswap pool is charged to the cgroup
    cg.swap_bytes = model::ToBytes(std::floor(vm.Offloaded()));
    cg.zswapped_bytes = cg.swap_bytes;
    cg.zswap_bytes = compressed;
    cg.psi_some_seconds_total = vm.psi_some_seconds;
    cg.psi_full_seconds_total = 0;
    cg.refault_pages_total = static_cast<uint64_t>(vm.refault_pages);
    obs.vms[i].cgroup = cg;
  }
}

}  // namespace kvmem::sim
