// The fleet rules (docs/fleet.md): kvmem-fleet-host, evaluated where each host's raw series
// are (its own Prometheus, or a central vmalert), and kvmem-fleet plus kvmem-fleet-watcher,
// evaluated where every host's kvmem:* series meet. Recording rules only. Host aggregates are
// `without(node)`, so target labels such as fqdn survive them.
//
// Written for both PromQL and MetricsQL (VictoriaMetrics 1.79): no `or on()` after a
// comparison, no scalar(), no ratio that can be 0/0 (a memoryless node has MemTotal 0), and
// max(a, b) spelled as a + clamp_min(b - a, 0). Host names (instance) are unique in the fleet.
#include "controller/alerts/groups.h"

namespace kvmem::alerts {
namespace {

// The page size a VM is backed by, as a page_size label: its first hugepage size, or the base
// page (x86-64: 4 KiB) for ordinary memory. Applied to kvmem_domain_info.
std::string WithPageSize(const std::string& info) {
  return "label_replace(\n  label_replace(" + info +
         ", \"page_size\", \"$1\", \"hugepage_size_bytes\", \"([0-9]+).*\"),\n"
         "  \"page_size\", \"" +
         PromNumber(kBasePageBytes) + "\", \"hugepages\", \"false\"\n)";
}

// The facts a balancer filters VMs by, one series per VM.
std::string MoveInfo() {
  return "max without(hugepage_size_bytes, balloon_model, balloon_stats_period_seconds, autodeflate, "
         "free_page_reporting) (\n" +
         WithPageSize("kvmem_domain_info") + "\n)";
}

// Share of a node's memory that a new huge-page-sized allocation cannot get now: used memory
// (hugepage-aware) plus free memory that lies in blocks smaller than a huge page.
// Without the fragmentation collector, hugepage-aware used memory alone.
const char* const kUsedForHuge =
    "1 - (\n"
    "  kvmem_node_memory_available_bytes\n"
    "  - kvmem_node_fragmentation_unusable_ratio * kvmem_node_memory_free_bytes\n"
    ") / (kvmem_node_memory_total_bytes > 0)\n"
    "or\n"
    "1 - kvmem_node_memory_available_bytes / (kvmem_node_memory_total_bytes > 0)";

// The host's memory stall share (PSI some, avg300), 0 where the kernel has no PSI.
const char* const kHostStalled =
    "sum without(kind) (kvmem_memory_pressure_avg300_ratio{kind=\"some\"})\n"
    "or\n"
    "max without(node) (kvmem_node_memory_total_bytes * 0)";

// max(used for hugepages, the host's stall share over its full scale), per node, in [0, 1].
std::string NodeScore() {
  const std::string used = "kvmem:node_memory_used_for_hugepages:ratio";
  return "clamp_max(clamp_min(\n  " + used + "\n  + clamp_min(\n    clamp_max(kvmem:host_memory_stalled:ratio / " +
         PromNumber(kStallShareFullScale) + ", 1)\n    - ignoring(node) group_right()\n    " + used +
         ",\n    0\n  ),\n0), 1)";
}

}  // namespace

RuleGroup FleetHostGroup() {
  RuleGroup g{"kvmem-fleet-host", {}, {}};
  const std::string base = PromNumber(kBasePageBytes);
  g.records = {
      // Room for one more VM's memory on one node, by page size.
      {"kvmem:node_room:bytes",
       "kvmem_node_hugepages_free_bytes\nor\nlabel_replace(\n  kvmem_node_memory_available_bytes\n"
       "  - (\n    sum without(size) (kvmem_node_hugepages_free_bytes)\n"
       "    or\n    kvmem_node_memory_available_bytes * 0\n  ),\n  \"size\", \"" +
           base + "\", \"\", \"\"\n)"},
      {"kvmem:node_memory_used:ratio", "1 - kvmem_node_memory_available_bytes / (kvmem_node_memory_total_bytes > 0)"},
      {"kvmem:node_memory_used_for_hugepages:ratio", kUsedForHuge},
      {"kvmem:host_memory_stalled:ratio", kHostStalled},
      {"kvmem:node_balancer_score:ratio", NodeScore()},
      {"kvmem:host_balancer_score:ratio", "max without(node) (kvmem:node_balancer_score:ratio)"},
      {"kvmem:host_memory_total:bytes", "sum without(node) (kvmem_node_memory_total_bytes)"},
      {"kvmem:host_memory_available:bytes", "sum without(node) (kvmem_node_memory_available_bytes)"},
      {"kvmem:vm_move:info", MoveInfo()},
      {"kvmem:vm_memory:bytes",
       "kvmem_domain_balloon_maximum_bytes\n* on(instance, job, uuid) group_left(page_size)\nkvmem:vm_move:info"},
      {"kvmem:vm_memory_used:bytes",
       "kvmem_domain_guest_available_bytes - kvmem_domain_guest_usable_bytes > 0\n"
       "or\nkvmem_domain_balloon_current_bytes"},
  };
  return g;
}

namespace {

// Per host and page size: the most room any single node of the host has.
const char* const kHostRoom = "fleet:host_room:bytes";

// The best room on any other host: the fleet's best, unless this host is the only one with it,
// then the second best (0 in a fleet of one).
std::string RoomElsewhere() {
  const std::string h = kHostRoom;
  const std::string best = "max by(size) (" + h + ")";
  const std::string at_best = "(" + h + " == bool on(size) group_left() " + best + ")";
  const std::string ties = "sum by(size) " + at_best;
  const std::string second = "max by(size) (" + h + " * (" + h + " < bool on(size) group_left() " + best + "))";
  const std::string alone = at_best + "\n  * on(size) group_left()\n  (" + ties + " == bool 1)";
  return best + "\n- on(size) group_right()\n(\n  " + alone + "\n  * on(size) group_left()\n  (" + best + " - " +
         second + ")\n)";
}

}  // namespace

RuleGroup FleetGroup() {
  RuleGroup g{"kvmem-fleet", {}, {}};
  g.records = {
      {kHostRoom, "max by(instance, size) (kvmem:node_room:bytes)"},
      {"fleet:room_elsewhere:bytes", RoomElsewhere()},
      {"fleet:vm_fits_elsewhere:bool",
       "max without(job) (kvmem:vm_memory:bytes)\n<= bool on(instance, page_size) group_left\n"
       "label_replace(fleet:room_elsewhere:bytes, \"page_size\", \"$1\", \"size\", \"(.*)\")"},
  };
  return g;
}

// Named as OpenStack Watcher's Prometheus datasource queries them: one series per fqdn (the
// label it finds hosts by) and per instance UUID (its resource label; MB, as Ceilometer).
RuleGroup FleetWatcherGroup() {
  RuleGroup g{"kvmem-fleet-watcher", {}, {}};
  g.records = {
      {"node_memory_MemTotal_bytes", "sum by(fqdn) (kvmem:host_memory_total:bytes{fqdn!=\"\"})"},
      {"node_memory_MemAvailable_bytes", "sum by(fqdn) (kvmem:host_memory_available:bytes{fqdn!=\"\"})"},
      {"ceilometer_memory_usage",
       "label_replace(\n  max by(uuid) (kvmem:vm_memory_used:bytes) / 1048576,\n"
       "  \"resource\", \"$1\", \"uuid\", \"(.*)\"\n)"},
  };
  return g;
}

std::vector<RuleGroup> BuildFleetRules() { return {FleetGroup(), FleetWatcherGroup()}; }

}  // namespace kvmem::alerts
