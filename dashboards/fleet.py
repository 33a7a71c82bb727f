"""The fleet dashboard (kvmem-fleet.json) for a central Prometheus that sees many hosts. Its data
are recording rules: group kvmem-fleet-host of alerts/kvmem.rules.yml, evaluated on each host and
federated, and alerts/kvmem-fleet.rules.yml, evaluated centrally; plus a few raw series that must
be federated too (each panel's description names them). instance is the host's stable name,
the same for its exporter and its controller. Used by generate.py only."""
from grafana import R, dashboard, query_variable, row, sel, table, target, timeseries, targets, value_map

I = 'instance=~"$instance"'
FEDERATE = "Federate {} from each host too (not only kvmem:*)."


def tab(*exprs):
    """Instant table targets A, B, C... for one merged table."""
    return [target(e, ref=chr(ord("A") + i), instant=True, fmt="table") for i, e in enumerate(exprs)]


def hosts():
    score = f"max by(instance) (kvmem:host_balancer_score:ratio{sel(I)})"
    return [
        row("Hosts"),
        table("Hosts by balancer score", "Highest first. Score: the fullest node's memory used for hugepages, "
              "pushed towards 1 by memory stalls (10 % stalled counts as full). Stalled: share of the last 5m some "
              "tasks waited for memory. Used for hugepages: the fullest node, counting free memory in blocks "
              "smaller than a huge page as used.",
              tab(f"sort_desc({score})", f"max by(instance) (kvmem:host_memory_stalled:ratio{sel(I)})",
                  f"max by(instance) (kvmem:node_memory_used_for_hugepages:ratio{sel(I)})"),
              w=12, unit="percentunit", columns={"A": "Score", "B": "Stalled", "C": "Used for hugepages"},
              sort=("Score", True)),
        timeseries("Balancer score", "kvmem:host_balancer_score:ratio per host, 0 to 1.",
                   targets((score, "{{instance}}")), "percentunit", minimum=0, maximum=1),
    ]


def room():
    return [
        row("Room for VMs, by page size"),
        table("Room per node and page size", "Memory a VM backed by pages of this size (in bytes) could get on "
              "the node: free hugepages of that size, or for 4096 available memory minus free hugepages.",
              tab(f"max by(instance, node, size) (kvmem:node_room:bytes{sel(I)})"), w=12, unit="bytes",
              columns={"A": "Room"}, sort=("Room", True)),
        table("Largest room per host", "The largest room on a single node of the host (a VM should fit on one "
              "node), and the largest on any other host: where this host's VMs could go.",
              tab(f"max by(instance, size) (fleet:host_room:bytes{sel(I)})",
                  f"max by(instance, size) (fleet:room_elsewhere:bytes{sel(I)})"),
              w=12, unit="bytes", columns={"A": "On this host", "B": "On another host"}, sort=("On this host", True)),
    ]


def fragmentation():
    used, huge = "kvmem:node_memory_used:ratio" + sel(I), "kvmem:node_memory_used_for_hugepages:ratio" + sel(I)
    small = f"max by(instance, node) ({huge} - {used})"
    return [
        row("Fragmentation"),
        table("Used memory per node", "Used: 1 - available / total. Used for hugepages also counts free memory in "
              "blocks smaller than a huge page; the difference is that memory, as a share of the node.",
              tab(f"max by(instance, node) ({used})", f"max by(instance, node) ({huge})", small),
              w=12, unit="percentunit", columns={"A": "Used", "B": "Used for hugepages", "C": "In small blocks"},
              sort=("In small blocks", True)),
        timeseries("Free memory in small blocks", "Free memory in blocks smaller than a huge page, as a share of "
                   "the node: used for hugepages minus used.",
                   targets((small, "{{instance}} node {{node}}")), "percentunit", minimum=0),
    ]


def savings():
    ksm, swap = f"kvmem:ksm_saved_bytes{sel(I)}", f"kvmem_domain_cgroup_swap_bytes{sel(I)}"
    why = ("KSM: memory merged pages save (kvmem:ksm_saved_bytes). Offloaded: VMs' memory in swap, zswap or zram "
           "(kvmem_domain_cgroup_swap_bytes); zswap and zram still hold it compressed in RAM. "
           + FEDERATE.format("kvmem_domain_cgroup_swap_bytes"))
    return [
        row("KSM and offload"),
        table("Savings per host", why, tab(f"sum by(instance) ({ksm})", f"sum by(instance) ({swap})"), w=12, unit="bytes",
              columns={"A": "KSM", "B": "Offloaded"}, sort=("KSM", True)),
        timeseries("Savings in the fleet", why, targets((f"sum({ksm})", "KSM"), (f"sum({swap})", "offloaded")),
                   "bytes", minimum=0),
    ]


def vms():
    labels = "instance, domain, page_size, hugepages, numatune_mode"
    move = f"max by(instance, uuid, hugepages, numatune_mode) (kvmem:vm_move:info{sel(I)})"
    facts = f" * on(instance, uuid) group_left(hugepages, numatune_mode) {move})"
    return [
        row("VMs"),
        table("Lowest NUMA locality", "The ten VMs with the least of their memory on the nodes their vCPUs run on. "
              + FEDERATE.format("kvmem_domain_numa_locality_ratio"),
              tab(f"bottomk(10, max by(instance, domain) (kvmem_domain_numa_locality_ratio{sel(I)}))"),
              w=8, unit="percentunit", columns={"A": "Locality"}, sort=("Locality", False)),
        table("VMs that fit elsewhere", "Yes: the VM's memory (balloon maximum) fits in the largest single-node room "
              "for its page size on another host. page_size 4096: no hugepages.",
              tab(f"max by({labels}) (fleet:vm_fits_elsewhere:bool{sel(I)}{facts}",
                  f"max by({labels}) (kvmem:vm_memory:bytes{sel(I)}{facts}"),
              w=16, columns={"A": "Fits elsewhere", "B": "Memory"}, sort=("Memory", True), units={"Memory": "bytes"},
              mappings={"Fits elsewhere": value_map({1: ("yes", "green"), 0: ("no", "red")})}),
    ]


def controllers():
    acted = sel(I, 'outcome!="failed"')
    return [
        row("Controllers"),
        timeseries("Since last cycle", "Seconds since each host's controller finished a cycle; above 60 for 1m "
                   "fires KvmemControllerStuck. Federation adds its own delay. " + FEDERATE.format("kvmem_controller_last_run_timestamp_seconds"),
                   targets((f"time() - max by(instance) (kvmem_controller_last_run_timestamp_seconds{sel(I)})",
                            "{{instance}}")), "s", minimum=0, thresholds=[(None, "green"), (60, "red")]),
        timeseries("Actions per second", "Actions applied or recorded in dry-run. KvmemControllerActingTooOften "
                   "fires above the alert level (a quarter of the action limit per 2s cycle) over 10m. "
                   + FEDERATE.format("kvmem_controller_actions_total and kvmem_controller_actions_per_cycle_limit"),
                   targets((f'sum by(instance) (rate(kvmem_controller_actions_total{acted}{R}))',
                            "{{instance}}"),
                           (f"0.125 * max by(instance) (kvmem_controller_actions_per_cycle_limit{sel(I)})",
                            "{{instance}} alert level")), "ops", minimum=0),
    ]


def fleet():
    variables = [query_variable("instance", "Host", "label_values(kvmem:host_balancer_score:ratio, instance)",
                                description="Hosts by their stable name (instance).")]
    return dashboard("kvmem-fleet", "kvmem / Fleet", "Many hosts from a central Prometheus: hosts by balancer score, "
                     "hugepage-aware room per node and page size, fragmentation, KSM and offload savings, VMs with "
                     "low locality or room elsewhere, controllers stuck or acting too often. Needs the "
                     "kvmem-fleet-host rules on each host (federated) and alerts/kvmem-fleet.rules.yml centrally; "
                     "instance must name the host.", variables,
                     hosts() + room() + fragmentation() + savings() + vms() + controllers())
