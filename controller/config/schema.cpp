// The policy schema table: every key of the policy file, in --print-policy order, with its
// field, kind, range, example comment and reference text; and the rules that relate two keys.
// Editing a row changes the reader, the validator, the renderer and both generated documents.
#include "controller/config/schema.h"

namespace kvmem::config::schema {
namespace {

// The field a row reads and writes. A macro because a member path is not a value in C++.
#define F(member) \
  [](model::Policy & p) -> auto& { return p.member; }

const std::vector<Key> kKeys = {
    {"interval", Duration{F(interval), true}, "how often the controller observes and decides",
     "How often the controller observes and decides."},
    {"stale_after", Duration{F(stale_after), true},
     "guest balloon stats older than this are stale: such a VM is never shrunk",
     "Guest statistics older than this (or missing, or of unknown age) are stale: the VM is never shrunk on "
     "them. Growing is still allowed. Must be at least `interval`."},
    {"balloon", Section{}, "", ""},
    {"balloon.enabled", Bool{F(balloon.enabled)}, "", "Turns balloon changes on or off. Bands are still reported."},
    {"balloon.reclaim_below", NodeSize{F(balloon.reclaim_below)},
     "node available memory (hugepage-aware) below this: take memory from VMs",
     "Reclaim when a node's available memory is below this: a size, or a percentage of the node's total."},
    {"balloon.release_above", NodeSize{F(balloon.release_above)},
     "above this: give memory back to VMs under pressure; in between: only move memory from idle VMs to "
     "pressured ones on the same node",
     "Release when above this. Same form as `reclaim_below` (both percentages or both sizes) and above it."},
    {"balloon.max_step", Size{F(balloon.max_step), model::kMiB}, "most a VM's balloon moves in one cycle",
     "Most one VM's balloon moves in one cycle (at least `1MiB`)."},
    {"balloon.min_step", Size{F(balloon.min_step), model::kMiB}, "smaller changes are not worth making",
     "Smaller changes are skipped: they cost a libvirt call and buy nothing."},
    {"balloon.min_guest", Size{F(balloon.min_guest)}, "no VM is ever ballooned below this",
     "Absolute floor of every VM."},
    {"balloon.min_free_ratio", Ratio{F(balloon.min_free_ratio)},
     "floor = max(min_guest, guest used / (1 - min_free_ratio), min_guarantee)",
     "The floor keeps this share of the guest free: floor = max(`min_guest`, used / (1 - `min_free_ratio`), "
     "libvirt `min_guarantee`), used = guest available - guest usable."},
    {"balloon.cooldown", Duration{F(balloon.cooldown)}, "per VM, between two balloon changes",
     "Per VM, between two balloon changes (failed attempts included)."},
    {"balloon.trend_window", Duration{F(balloon.trend_window), false},
     "fit the node's available memory over this long; 0: no anticipation",
     "A node's available memory over this long is fit to a line. When the line crosses `reclaim_below` "
     "within one reaction time (`interval` + `cooldown`), the node is reclaimed now, as if it were already "
     "below, to the band's middle. 0 turns anticipation off."},
    {"balloon.pressure", Section{}, "a VM is under pressure when any of these holds", ""},
    {"balloon.pressure.usable_below_ratio", Ratio{F(balloon.pressure.usable_below_ratio)},
     "guest usable memory below this share of its balloon size",
     "Under pressure: guest usable memory below this share of its balloon size."},
    {"balloon.pressure.swap_in_rate_above", ByteRate{F(balloon.pressure.swap_in_rate_above)}, "guest swap-in rate",
     "Under pressure: guest swap-in faster than this."},
    {"balloon.pressure.major_fault_rate_above", Rate{F(balloon.pressure.major_fault_rate_above)},
     "guest major page fault rate", "Under pressure: guest major faults faster than this."},
    {"balloon.pressure.rate_window", Duration{F(balloon.pressure.rate_window), true}, "how far back the rates look",
     "How far back the rates look (at least `interval`)."},
    {"virtio_mem", Section{}, "", ""},
    {"virtio_mem.enabled", Bool{F(virtio_mem.enabled)}, "", "Turns virtio-mem changes on or off."},
    {"virtio_mem.sustain", Integer{F(virtio_mem.sustain), 1, 1000, " cycles"},
     "cycles a VM at its balloon maximum stays under pressure before it grows",
     "A VM at its balloon maximum (within one block) and under pressure for this many consecutive cycles since"
     " its last resize gets `requested += step`, bounded by the device size and by the headroom of the "
     "device's node (its free memory, and what it has above `release_above`)."},
    {"virtio_mem.step", Size{F(virtio_mem.step), 1},
     "per change, rounded down to the device block (at least one block)",
     "Size of one change, rounded down to the device block (at least one block)."},
    {"virtio_mem.shrink_unused_above_ratio", Ratio{F(virtio_mem.shrink_unused_above_ratio)},
     "guest unused / guest total above this ...", "Shrink when guest unused / guest total stays above this ..."},
    {"virtio_mem.shrink_after", Duration{F(virtio_mem.shrink_after), true}, "... for this long: shrink by one step",
     "... for this long since the last resize: `requested -= step`, never below 0 nor the VM's floor, only on "
     "fresh stats."},
    {"virtio_mem.settle_timeout", Duration{F(virtio_mem.settle_timeout), true},
     "a change not plugged by then is counted and may be replaced",
     "No new change while the last one settles (current != requested). After this long the timeout is counted "
     "and a new change may step from the plugged size."},
    {"compaction", Section{}, "", ""},
    {"compaction.enabled", Bool{F(compaction.enabled)}, "", "Turns compaction on or off."},
    {"compaction.compact_above", Ratio{F(compaction.compact_above)},
     "fragmentation index (THP order) above this for `for`: compact the node",
     "Compact a node whose fragmentation index for the THP order stays above this for `for`."},
    {"compaction.thp_fallback_rate_above", Rate{F(compaction.thp_fallback_rate_above)},
     "or THP fault fallbacks per second over `for` above this",
     "Or when THP fault fallbacks per second, over `for`, exceed this and the node has no free huge page."},
    {"compaction.for", Duration{F(compaction.sustain_for), true},
     "how long compact_above or the fallback rate must hold",
     "How long `compact_above` or `thp_fallback_rate_above` must hold before the node is compacted."},
    {"compaction.quiet_below", Ratio{F(compaction.quiet_below)},
     "only while PSI memory \"some\" avg10 is below this (5%)",
     "Only while PSI memory `some` avg10 (a ratio) is below this; unknown PSI means no compaction."},
    {"compaction.cooldown", Duration{F(compaction.cooldown)}, "per node, between compactions",
     "Per node, between compactions. One node at a time, the most fragmented first."},
    {"compaction.max_backoff", Duration{F(compaction.max_backoff)},
     "cap of the cooldown, which doubles after each run that did not help",
     "The cooldown doubles after each run that did not lower the index, up to this (at least `cooldown`)."},
    {"hugepages", Section{}, "", ""},
    {"hugepages.enabled", Bool{F(hugepages.enabled)}, "",
     "Turns the pool manager on or off (off: no pool targets or shortfalls are reported either)."},
    {"hugepages.headroom", Size{F(hugepages.headroom)},
     "free hugepages kept beyond demand, per node, on the default size and sizes VMs use",
     "Free bytes kept beyond demand, per node, on the default hugepage size and on every size a VM uses there."},
    {"hugepages.reclaim", Bool{F(hugepages.reclaim)},
     "release free pages above demand + headroom (pools set at boot are yours: off)",
     "Release usable free pages above demand + headroom. Off by default: pools sized at boot belong to the "
     "administrator. Pages in use are never released."},
    {"hugepages.reclaim_after", Duration{F(hugepages.reclaim_after), true}, "... once that has held this long",
     "... once the excess has held this long."},
    {"hugepages.min_normal_memory", NodeSize{F(hugepages.min_normal_memory), 64 * model::kMiB},
     "never grow pools past the point where less than this stays outside them",
     "Growth stops where less than this of the node would stay outside all hugepage pools (a size of at least "
     "`64MiB`, or a percentage)."},
    {"hugepages.max_step", Size{F(hugepages.max_step), 2 * model::kMiB}, "per node and page size per cycle",
     "Most one pool grows or shrinks in one cycle."},
    {"hugepages.retry_after", Duration{F(hugepages.retry_after), true}, "after a reservation that fell short",
     "After a resize that obtained fewer pages than asked (the shortfall and its cause are counted), wait this"
     " long before asking again. A fragmented node is compacted first, through the same gates as `compaction`,"
     " for pages below 1 GiB."},
    {"placement", Section{}, "", ""},
    {"placement.enabled", Bool{F(placement.enabled)}, "", "Turns placement moves on or off."},
    {"placement.locality_below", Ratio{F(placement.locality_below), true},
     "share of a VM's memory on the nodes running its vCPUs ...",
     "A running VM whose share of resident memory on the nodes running its vCPUs is below this ..."},
    {"placement.for", Duration{F(placement.sustain_for), true},
     "... below this for this long: move its vCPUs or its memory",
     "... for this long gets one move: its vCPUs pinned to the node holding most of its memory (copies "
     "nothing) when that reaches `locality_below`, else its memory migrated to its vCPUs' node when possible "
     "(not hugetlb-backed, QEMU process known, the target keeps its available memory above "
     "`balloon.reclaim_below`), else the pin if it still helps. VMs whose domain XML pins vCPUs or sets a "
     "strict `<numatune>` are left alone."},
    {"placement.max_bytes_per_second", ByteRate{F(placement.max_bytes_per_second), model::AsDouble(model::kMiB)},
     "memory migration rate, averaged over moves",
     "After a migration of N bytes, the next move waits N / this (at least `1MiB/s`). One VM per cycle."},
    {"placement.cooldown", Duration{F(placement.cooldown), true}, "per VM, between two moves",
     "Per VM, between two moves."},
    {"ksm", Section{}, "", ""},
    {"ksm.enabled", Bool{F(ksm.enabled)}, "",
     "Turns KSM control on or off (off: /sys/kernel/mm/ksm is never written)."},
    {"ksm.merge_below", NodeSize{F(ksm.merge_below)},
     "any node's available memory below this: memory is wanted, KSM scans (ladder stage ksm)",
     "Memory is wanted when any node's available memory is below this (a size or a percentage of the node): "
     "KSM starts, and scans harder while merging pays. The ladder's first stage."},
    {"ksm.payback", Duration{F(ksm.payback), true},
     "merging must pay back ksmd's CPU within this long, a CPU priced at the host's memory per CPU",
     "Break-even: merging pays when it saves at least (host MemTotal / online CPUs) / `payback` bytes per "
     "second of ksmd CPU, i.e. a CPU is worth its share of the host's memory over this long."},
    {"ksm.window", Duration{F(ksm.window), true}, "the saving and ksmd's CPU are measured over this long",
     "The saving (`general_profit`, else `pages_sharing` pages) and ksmd's CPU are compared over this long, "
     "and each change is held this long before it is judged (at least `interval`)."},
    {"ksm.min_pages_to_scan", Count{F(ksm.min_pages_to_scan), 1, 100000, " pages"},
     "halving stops here; below it, merging that does not pay stops",
     "Halving stops here, and merging that still does not pay stops (run=0; merged pages stay merged). "
     "Retried after 10 windows."},
    {"ksm.max_pages_to_scan", Count{F(ksm.max_pages_to_scan), 1, 100000, " pages"},
     "KSM starts here when memory is wanted; doubling while merging pays stops here",
     "`pages_to_scan` when KSM starts because memory is wanted; after a slow-down, while memory is wanted and "
     "merging pays, `pages_to_scan` doubles each window back up to this (at least `min_pages_to_scan`)."},
    {"ksm.sleep_millisecs", Count{F(ksm.sleep_millisecs), 1, 60000, " ms"}, "ksmd's pause between two scans",
     "ksmd's pause between two batches of `pages_to_scan` pages, written with every change."},
    {"ksm.never_merge", StringList{F(ksm.never_merge)},
     "VMs (names or UUIDs) never merged (KSM side channels): while one runs without <nosharepages/>, KSM stays off",
     "VMs (names or UUIDs) whose memory must never be merged (KSM timing side channels). While one of them runs "
     "without `<memoryBacking><nosharepages/>` in its domain XML, KSM is not started, and is stopped if running."},
    {"offload", Section{}, "", ""},
    {"offload.enabled", Bool{F(offload.enabled)}, "proactive memory.reclaim of cold VM memory (cgroup v2)",
     "Turns compressed offload on or off: `memory.reclaim` on each running VM's own cgroup v2, in small steps, "
     "onto zswap or zram swap. VMs on cgroup v1, backed by hugetlb pages, or without a cgroup of their own "
     "(QEMU in libvirtd's cgroup) are skipped with that reason."},
    {"offload.psi_target", Ratio{F(offload.psi_target)}, "share of time the VM's tasks may stall on memory",
     "Guard: the VM's memory PSI (`some`, share of wall time over the last `step_interval`) above this stops "
     "its steps for `backoff` (at least 0, below 1)."},
    {"offload.max_refault_ratio", Ratio{F(offload.max_refault_ratio)}, "refaulted bytes per minute / resident bytes",
     "Guard: pages the VM brings back from (z)swap per minute (`zswpin` + `pswpin`, else "
     "`workingset_refault_anon`), as a share of its resident memory, above this stops its steps for "
     "`backoff`."},
    {"offload.step_ratio", Ratio{F(offload.step_ratio), true}, "bytes per step: this share of resident memory",
     "One step asks `memory.reclaim` for this share of the VM's resident memory (4x at the ladder's offload and "
     "swap stages); above 0, at most 1."},
    {"offload.step_interval", Duration{F(offload.step_interval), true}, "per VM, between two steps",
     "Per VM, between two steps; also the span the guards' rates are measured over."},
    {"offload.backoff", Duration{F(offload.backoff), true}, "no step for this long after a guard tripped",
     "After a guard tripped, no step for this long (a guard still tripping when it ends starts it again)."},
    {"offload.max_ratio", Ratio{F(offload.max_ratio), true}, "most of a VM's memory that may be offloaded",
     "Never more than this share of the VM's memory (resident + offloaded) offloaded; above 0, at most 1."},
    {"offload.allow_disk_swap", Bool{F(offload.allow_disk_swap)}, "offload onto swap that is not compressed",
     "Offload also where swap is neither zswap nor zram (disk): off, because a refault from disk costs the "
     "VM milliseconds where one from compressed memory costs microseconds."},
    {"offload.exclude", StringList{F(offload.exclude)}, "VMs (names or UUIDs) never offloaded",
     "VMs, by name or UUID, never offloaded (e.g. latency-critical ones)."},
    {"limits", Section{}, "", ""},
    {"limits.max_actions_per_cycle", Integer{F(limits.max_actions_per_cycle), 0, 1000, ""},
     "cap on actions per cycle (0: none; the scaled limit applies)",
     "Actions per cycle, all kinds together, scale with the host: enough to change every running VM once per "
     "`balloon.cooldown`, `max(4, ceil(VMs x interval / cooldown))`. Above 0, this caps that number (0 to 1000)."},
    {"limits.max_share_per_minute", Ratio{F(limits.max_share_per_minute), true},
     "balloon and virtio-mem bytes moved in any 60 s, as a share of the host's memory",
     "Balloon and virtio-mem bytes moved in any 60 s, as a share of the host's memory (all nodes): above 0, "
     "at most 1."},
    {"limits.max_bytes_per_minute", Size{F(limits.max_bytes_per_minute), 0}, "cap on those bytes (0: none)",
     "Above 0, caps the bytes `max_share_per_minute` allows."},
};

#undef F

bool SameForm(const model::Policy& p) {
  return p.balloon.reclaim_below.percent.has_value() == p.balloon.release_above.percent.has_value();
}

// Only meaningful in the same form; a mixed pair is reported by SameForm.
bool BandsOrdered(const model::Policy& p) {
  const auto& b = p.balloon;
  if (!SameForm(p)) return true;
  return b.reclaim_below.percent ? *b.reclaim_below.percent < *b.release_above.percent
                                 : b.reclaim_below.bytes < b.release_above.bytes;
}

const std::vector<Relation> kRelations = {
    {"interval", "stale_after", [](const model::Policy& p) { return p.stale_after >= p.interval; }, "at least",
     "at most"},
    {"balloon.reclaim_below", "balloon.release_above", SameForm, "in the same form (both percentages or both sizes) as",
     "in the same form (both percentages or both sizes) as"},
    {"balloon.reclaim_below", "balloon.release_above", BandsOrdered, "above", "below"},
    {"balloon.max_step", "balloon.min_step",
     [](const model::Policy& p) { return p.balloon.min_step <= p.balloon.max_step; }, "at most", "at least"},
    {"interval", "balloon.pressure.rate_window",
     [](const model::Policy& p) { return p.balloon.pressure.rate_window >= p.interval; }, "at least", "at most"},
    {"compaction.cooldown", "compaction.max_backoff",
     [](const model::Policy& p) { return p.compaction.max_backoff >= p.compaction.cooldown; }, "at least", "at most"},
    {"interval", "ksm.window", [](const model::Policy& p) { return p.ksm.window >= p.interval; }, "at least",
     "at most"},
    {"ksm.min_pages_to_scan", "ksm.max_pages_to_scan",
     [](const model::Policy& p) { return p.ksm.max_pages_to_scan >= p.ksm.min_pages_to_scan; }, "at least", "at most"},
    {"interval", "offload.step_interval", [](const model::Policy& p) { return p.offload.step_interval >= p.interval; },
     "at least", "at most"},
};

}  // namespace

const std::vector<Key>& Keys() { return kKeys; }
const std::vector<Relation>& Relations() { return kRelations; }

}  // namespace kvmem::config::schema
