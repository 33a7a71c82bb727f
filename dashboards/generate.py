#!/usr/bin/env python3
"""kvmem's Grafana dashboards as code: writes kvmem-host.json, kvmem-vms.json,
kvmem-controller.json and (from fleet.py) kvmem-fleet.json next to this file. Every query uses
only families the exporter and the controller really emit, or the recording rules in alerts/
(tests/e2e/monitoring_dashboards.sh runs each one against a Prometheus scraping them).
Usage: dashboards/generate.py [--check]  (--check: fail if the JSON drifted)."""
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
from fleet import fleet
from grafana import (R, annotation, dashboard, query_variable, row, sel, stat, state_timeline, table, target, targets,
                     timeseries, value_map)


I, N, D = 'instance=~"$instance"', 'node=~"$node"', 'domain=~"$domain"'
SOME = 'kind="some"'


def host():
    n = sel(I, N)
    panels = [
        row("Memory per NUMA node"),
        timeseries("Available memory", "Hugepage-aware available memory per node: free, file LRU, reclaimable slab and "
                   "free hugepages. The controller's balloon bands (balloon.reclaim_below, release_above) and the "
                   "KvmemNodeMemoryLow alert use this value.",
                   targets((f"kvmem_node_memory_available_bytes{n}", "node {{node}}")), "bytes"),
        timeseries("Available share", "Available memory as a share of the node's total.",
                   targets((f"kvmem_node_memory_available_bytes{n} / kvmem_node_memory_total_bytes{n}",
                            "node {{node}}")), "percentunit", minimum=0, maximum=1),
        timeseries("Memory use", "Where each node's memory goes (nodeN/meminfo), with hugepage pools of every size.",
                   targets((f"kvmem_node_memory_anon_bytes{n}", "node {{node}} anon"),
                           (f"kvmem_node_memory_file_bytes{n}", "node {{node}} page cache"),
                           (f"kvmem_node_memory_slab_bytes{n}", "node {{node}} slab"),
                           (f"sum by (instance, node) (kvmem_node_hugepages_pool_bytes{n})", "node {{node}} hugepage pools"),
                           (f"kvmem_node_memory_free_bytes{n}", "node {{node}} free")), "bytes", w=24),
        row("Hugepages"),
        timeseries("Hugepage pools per node and size", "Pool and free bytes per node and page size (size in bytes).",
                   targets((f"kvmem_node_hugepages_pool_bytes{n}", "node {{node}} {{size}} B pool"),
                           (f"kvmem_node_hugepages_free_bytes{n}", "node {{node}} {{size}} B free")), "bytes"),
        timeseries("Free and surplus hugepages", "Free pages per pool (0 with pages in the pool fires "
                   "KvmemHugePagesExhausted), surplus pages from overcommit, and host-wide reservations.",
                   targets((f"kvmem_node_hugepages_free_pages{n}", "node {{node}} {{size}} B free"),
                           (f"kvmem_node_hugepages_surplus_pages{n}", "node {{node}} {{size}} B surplus"),
                           (f"kvmem_hugepages_reserved_pages{sel(I)}", "{{size}} B reserved")), "short"),
        row("Transparent hugepages"),
        timeseries("THP faults and fallbacks", "THP events per second. fault_fallback against fault_alloc is the "
                   "controller's second compaction trigger (compaction.thp_fallback_rate_above).",
                   targets((f'sum by (instance, event) (rate(kvmem_thp_events_total{{{I},event=~"fault_alloc|'
                            f'fault_fallback|collapse_alloc|collapse_alloc_failed|split_page"}}{R}))', "{{event}}")),
                   "ops"),
        timeseries("Anonymous memory in THP", "AnonHugePages per node.",
                   targets((f"kvmem_node_memory_anon_huge_bytes{n}", "node {{node}}")), "bytes"),
        stat("THP mode", "transparent_hugepage/enabled.", targets((f"kvmem_thp_enabled{sel(I)} == 1", "{{mode}}")),
             text_mode="name", w=12),
        stat("THP defrag", "transparent_hugepage/defrag: how hard a fault tries to compact.",
             targets((f"kvmem_thp_defrag{sel(I)} == 1", "{{mode}}")), text_mode="name", w=12),
        row("KSM"),
        timeseries("KSM pages", "pages_sharing (what is saved) against pages_unshared (checked in vain); a low "
                   "ratio for an hour fires KvmemKsmIneffective.",
                   targets((f"kvmem_ksm_pages_sharing{sel(I)}", "sharing"), (f"kvmem_ksm_pages_shared{sel(I)}", "shared"),
                           (f"kvmem_ksm_pages_unshared{sel(I)}", "unshared"),
                           (f"kvmem_ksm_pages_volatile{sel(I)}", "volatile")), "short"),
        timeseries("KSM profit", "Memory KSM saves net of its metadata (ksm/general_profit).",
                   targets((f"kvmem_ksm_general_profit_bytes{sel(I)}", "profit")), "bytes"),
        timeseries("ksmd CPU", "Share of one CPU ksmd uses (its utime + stime). KvmemKsmUnprofitable fires when "
                   "this buys less memory than the host's memory per CPU over ksm.payback.",
                   targets((f"rate(kvmem_ksmd_cpu_seconds_total{sel(I)}{R})", "ksmd")), "percentunit", minimum=0),
        timeseries("KSM saving per ksmd CPU-second", "Bytes KSM saved per second of ksmd CPU over 5m (general_profit, "
                   "or pages_sharing x 4 KiB where the kernel lacks it), against the break-even the controller uses: "
                   "the host's memory per CPU over ksm.payback (1h by default). A gap: ksmd used no CPU.",
                   targets((f"delta(kvmem_ksm_pages_sharing{sel(I)}[5m]) * 4096 / "
                            f"increase(kvmem_ksmd_cpu_seconds_total{sel(I)}[5m])", "saved per CPU-second"),
                           (f"sum by (instance) (kvmem_node_memory_total_bytes{sel(I)}) / "
                            f"sum by (instance) (kvmem_node_cpus{sel(I)}) / 3600", "break-even (payback 1h)")),
                   "bytes"),
        row("Swap, zswap and zram"),
        timeseries("Swap traffic", "Swap and zswap in and out. Both directions at once is thrashing "
                   "(KvmemSwapThrashing, KvmemZswapThrashing).",
                   targets((f"rate(kvmem_swap_in_bytes_total{sel(I)}{R})", "swap in"),
                           (f"rate(kvmem_swap_out_bytes_total{sel(I)}{R})", "swap out"),
                           (f"rate(kvmem_zswap_in_bytes_total{sel(I)}{R})", "zswap in"),
                           (f"rate(kvmem_zswap_out_bytes_total{sel(I)}{R})", "zswap out")), "Bps"),
        timeseries("Swap and compressed memory", "Used swap per device, zram's data and the RAM it takes, and the "
                   "zswap pool.",
                   targets((f"kvmem_swap_device_used_bytes{sel(I)}", "{{device}} used"),
                           (f"kvmem_zram_original_data_bytes{sel(I)}", "zram {{device}} data"),
                           (f"kvmem_zram_memory_used_bytes{sel(I)}", "zram {{device}} RAM"),
                           (f"kvmem_zswap_pool_bytes{sel(I)}", "zswap pool")), "bytes"),
        row("Fragmentation, compaction and pressure"),
        timeseries("Fragmentation index (THP order)", "-1: a huge page is free; towards 1: free memory is too "
                   "fragmented. Above compaction.compact_above for compaction.for the controller compacts "
                   "(KvmemNodeFragmentationHigh).",
                   targets((f"kvmem_node_fragmentation_index{n}", "node {{node}}")), "short", minimum=-1, maximum=1),
        timeseries("Free memory usable for huge pages", "Free memory in blocks of the THP order or larger, against all "
                   "free memory.",
                   targets((f"kvmem_node_fragmentation_huge_free_bytes{n}", "node {{node}} in huge blocks"),
                           (f"kvmem_node_memory_free_bytes{n}", "node {{node}} free")), "bytes"),
        timeseries("Memory pressure (PSI)", "Share of time tasks stalled on memory. The controller compacts only "
                   "while some avg10 is below compaction.quiet_below.",
                   targets((f"kvmem_memory_pressure_avg10_ratio{sel(I)}", "{{kind}} avg10"),
                           (f"rate(kvmem_memory_pressure_stalled_seconds_total{sel(I)}{R})", "{{kind}} stalled")),
                   "percentunit", minimum=0),
        timeseries("Compaction", "Direct compaction stalls and results, and kcompactd wake-ups, per second.",
                   targets((f"rate(kvmem_compaction_stalls_total{sel(I)}{R})", "stalls"),
                           (f"rate(kvmem_compaction_successes_total{sel(I)}{R})", "successes"),
                           (f"rate(kvmem_compaction_failures_total{sel(I)}{R})", "failures"),
                           (f"rate(kvmem_compaction_daemon_wakeups_total{sel(I)}{R})", "kcompactd wake-ups")), "ops"),
        row("NUMA"),
        timeseries("NUMA miss ratio", "Share of the pages allocated on the node that were meant for another node "
                   "(KvmemNumaMissRatioHigh).",
                   targets((f"rate(kvmem_node_numa_miss_pages_total{n}{R}) / (rate(kvmem_node_numa_hit_pages_total{n}{R}) "
                            f"+ rate(kvmem_node_numa_miss_pages_total{n}{R}))", "node {{node}}")), "percentunit", minimum=0),
        timeseries("NUMA allocations", "Pages allocated per second: hits, misses (here although meant elsewhere) and "
                   "foreign (meant here, allocated elsewhere).",
                   targets((f"rate(kvmem_node_numa_hit_pages_total{n}{R})", "node {{node}} hit"),
                           (f"rate(kvmem_node_numa_miss_pages_total{n}{R})", "node {{node}} miss"),
                           (f"rate(kvmem_node_numa_foreign_pages_total{n}{R})", "node {{node}} foreign")), "ops"),
        row("Host configuration and memory tiers"),
        stat("Host checks", "Each host configuration check the exporter could evaluate: pass or fail, with its severity "
             "(KvmemHostCheckCritical, KvmemHostCheckWarning). What a failure means and its fix: kvmem_exporter "
             "--check-host on the host, and docs/host-check.md.",
             targets((f"kvmem_host_check_failed{sel(I)}", "{{check}} ({{severity}})")),
             mappings=value_map({0: ("pass", "green"), 1: ("FAIL", "red")}), w=12, h=6, text_mode="value_and_name"),
        stat("Memory tier per node", "The kernel's memory tier of each node (memory_tierN): a lower number is faster "
             "memory, DRAM is 4. A CPU-less node in the lowest tier gets VM memory as if it were DRAM.",
             targets((f"kvmem_node_memory_tier_info{n}", "node {{node}}: tier {{tier}}")), w=12, h=6,
             text_mode="name"),
        timeseries("Pages demoted and promoted", "Pages moved to a slower tier by reclaim (by who demoted them) and "
                   "back to a faster one by NUMA balancing in tiering mode (kernel.numa_balancing=2), per second.",
                   targets((f"rate(kvmem_tiering_demoted_pages_total{sel(I)}{R})", "demoted ({{reason}})"),
                           (f"rate(kvmem_tiering_promoted_pages_total{sel(I)}{R})", "promoted")), "ops"),
        timeseries("NUMA balancing work", "Page table entries NUMA balancing unmapped to sample accesses (each costs a "
                   "KVM invalidation for guest memory) and the hint faults they caused, local and all, per second "
                   "(a storm above 10000/s fails numa_balancing_hint_fault_storm).",
                   targets((f"rate(kvmem_numa_balancing_pte_updates_total{sel(I)}{R})", "PTE updates"),
                           (f"rate(kvmem_numa_balancing_hint_faults_total{sel(I)}{R})", "hint faults"),
                           (f"rate(kvmem_numa_balancing_hint_faults_local_total{sel(I)}{R})", "local hint faults")),
                   "ops"),
        row("Exporter"),
        stat("Collectors", "Whether each collector succeeded in the last scrape (KvmemExporterCollectorFailing).",
             targets((f"kvmem_scrape_collector_success{sel(I)}", "{{collector}}")),
             mappings=value_map({1: ("ok", "green"), 0: ("failing", "red")}), w=12, h=6, text_mode="value_and_name"),
        timeseries("Collector duration", "Time each collector took in a scrape.",
                   targets((f"kvmem_scrape_collector_duration_seconds{sel(I)}", "{{collector}}")), "s", h=6),
    ]
    variables = [
        query_variable("instance", "Exporter", "label_values(kvmem_exporter_build_info, instance)", multi=False),
        query_variable("node", "NUMA node", f"label_values(kvmem_node_info{sel(I)}, node)"),
    ]
    return dashboard("kvmem-host", "kvmem / Host memory", "Per-NUMA-node memory, hugepage pools, THP, KSM, swap, "
                     "fragmentation, pressure and NUMA misses from kvmem_exporter.", variables, panels)


def vms():
    d, dn = sel(I, D), sel(I, D, N)
    stats_state = (f'max by (instance, domain, uuid) ((kvmem_domain_guest_stats_state{{{I},{D},state="ok"}} == 1) * 0'
                   f' or (kvmem_domain_guest_stats_state{{{I},{D},state="stale"}} == 1)'
                   f' or (kvmem_domain_guest_stats_state{{{I},{D},state="missing"}} == 1) * 2'
                   f' or (kvmem_domain_guest_stats_state{{{I},{D},state="disabled"}} == 1) * 3)')
    panels = [
        row("Balloon and guest memory"),
        timeseries("Balloon size and guest use", "The balloon's current size and maximum against what the guest "
                   "uses (available - usable) and could still use without swapping (usable).",
                   targets((f"kvmem_domain_balloon_current_bytes{d}", "{{domain}} balloon"),
                           (f"kvmem_domain_balloon_maximum_bytes{d}", "{{domain}} maximum"),
                           (f"kvmem_domain_guest_available_bytes{d} - kvmem_domain_guest_usable_bytes{d}",
                            "{{domain}} guest used"),
                           (f"kvmem_domain_guest_usable_bytes{d}", "{{domain}} guest usable")), "bytes", w=24),
        timeseries("Guest usable share", "Guest usable memory over its balloon size; below "
                   "balloon.pressure.usable_below_ratio the VM is under pressure (KvmemGuestMemoryPressure).",
                   targets((f"kvmem_domain_guest_usable_bytes{d} / kvmem_domain_balloon_current_bytes{d}", "{{domain}}")),
                   "percentunit", minimum=0),
        timeseries("Guest swap", "Guest swap-in and swap-out (KvmemGuestSwapInHigh).",
                   targets((f"rate(kvmem_domain_guest_swap_in_bytes_total{d}{R})", "{{domain}} in"),
                           (f"rate(kvmem_domain_guest_swap_out_bytes_total{d}{R})", "{{domain}} out")), "Bps"),
        timeseries("Guest major faults", "Major page faults per second in the guest (KvmemGuestMajorFaultsHigh).",
                   targets((f"rate(kvmem_domain_guest_major_faults_total{d}{R})", "{{domain}}")), "ops"),
        timeseries("QEMU resident memory", "The QEMU process's RSS on the host, and the domain's min_guarantee.",
                   targets((f"kvmem_domain_rss_bytes{d}", "{{domain}} rss"),
                           (f"kvmem_domain_memory_min_guarantee_bytes{d}", "{{domain}} min_guarantee")), "bytes"),
        row("virtio-mem"),
        timeseries("virtio-mem sizes", "Device size (most it can plug), what the host requests and what the guest "
                   "has plugged.",
                   targets((f"kvmem_domain_virtio_mem_size_bytes{d}", "{{domain}}/{{device}} size"),
                           (f"kvmem_domain_virtio_mem_requested_bytes{d}", "{{domain}}/{{device}} requested"),
                           (f"kvmem_domain_virtio_mem_current_bytes{d}", "{{domain}}/{{device}} plugged")), "bytes", w=24),
        row("NUMA placement"),
        timeseries("Memory per host NUMA node", "Where each VM's memory physically sits.",
                   targets((f"kvmem_domain_numa_memory_bytes{dn}", "{{domain}} node {{node}}")), "bytes", stack=True),
        timeseries("NUMA locality", "Share of the VM's memory on nodes running its vCPUs. Below "
                   "placement.locality_below (0.8 by default) for placement.for the controller pins the vCPUs or "
                   "migrates the memory; still below after at least 15m: KvmemVmNumaLocalityLow.",
                   targets((f"kvmem_domain_numa_locality_ratio{d}", "{{domain}}")), "percentunit", minimum=0, maximum=1),
        timeseries("vCPUs per host node", "Where the VM's vCPUs run right now.",
                   targets((f"kvmem_domain_vcpus{dn}", "{{domain}} node {{node}}")), "short", stack=True, w=24),
        row("Guest statistics"),
        state_timeline("Guest stats state", "ok: the controller may resize the VM; stale, missing or disabled: it "
                       "never shrinks it (KvmemGuestStatsStale).", targets((stats_state, "{{domain}}")),
                       value_map({0: ("ok", "green"), 1: ("stale", "orange"), 2: ("missing", "red"),
                                  3: ("disabled", "text")})),
        timeseries("Stats age", "How old the guest's last report is, and how old the exporter's cached values are "
                   "(0 unless libvirt was slow).",
                   targets((f"time() - kvmem_domain_guest_stats_last_update_timestamp_seconds{d}", "{{domain}} guest report"),
                           (f"kvmem_domain_stats_age_seconds{d}", "{{domain}} exporter cache")), "s", w=24),
        row("Cgroup: pressure and compressed offload"),
        timeseries("Memory stall per VM", "Share of time some of the VM's tasks stalled on memory (its cgroup's "
                   "memory.pressure, cgroup v2). Above offload.psi_target with memory offloaded fires "
                   "KvmemVmStalledByOffload; the controller's offload backs off at once.",
                   targets((f"rate(kvmem_domain_memory_pressure_stalled_seconds_total{sel(I, D, SOME)}{R})",
                            "{{domain}}")), "percentunit", minimum=0),
        timeseries("Offloaded memory per VM", "The VM's memory in swap, zswap or zram (memory.swap.current).",
                   targets((f"kvmem_domain_cgroup_swap_bytes{d}", "{{domain}}")), "bytes", minimum=0),
        timeseries("Resident memory per VM", "anon and file bytes of the VM's cgroup.",
                   targets((f"kvmem_domain_cgroup_memory_bytes{d}", "{{domain}} {{type}}")), "bytes", minimum=0),
        timeseries("Refaults per VM", "Pages brought back from swap, zswap or zram per minute, as a share of "
                   "resident memory; the offload guard (offload.max_refault_ratio, 0.2 %) and KvmemVmRefaultStorm "
                   "use this.",
                   targets((f"rate(kvmem_domain_cgroup_swap_refaults_total{d}[5m]) * 4096 * 60 / on(instance, "
                            f"domain, uuid) sum by (instance, domain, uuid) (kvmem_domain_cgroup_memory_bytes{d})",
                            "{{domain}}")), "percentunit", minimum=0),
        row("KSM and facts"),
        timeseries("KSM saving per VM", "Memory KSM saves for each VM, net of its metadata.",
                   targets((f"kvmem_domain_ksm_profit_bytes{d}", "{{domain}}")), "bytes"),
        timeseries("KSM merging pages per VM", "Pages of the VM that KSM merges now.",
                   targets((f"kvmem_domain_ksm_merging_pages{d}", "{{domain}}")), "short"),
        stat("libvirt", "Whether the exporter's last libvirt refresh succeeded.",
             targets((f"kvmem_libvirt_up{sel(I)}", "{{instance}}")),
             mappings=value_map({1: ("up", "green"), 0: ("down", "red")}), w=8),
        stat("Running VMs", "Domains in the exporter's libvirt snapshot.",
             targets((f"kvmem_libvirt_domains{sel(I)}", "{{instance}}")), w=8),
        stat("libvirt timeouts", "Scrapes in the time range that served cached VM values.",
             targets((f"increase(kvmem_libvirt_timeouts_total{sel(I)}[$__range])", "{{instance}}")), w=8, decimals=0),
        table("VM memory facts", "From the domain XML: hugepage backing, numatune, vCPU pinning, balloon model and stats period.",
              [target(f"kvmem_domain_info{d}", ref="A", instant=True, fmt="table")],
              hidden=("Time", "Value", "__name__", "job")),
    ]
    variables = [
        query_variable("instance", "Exporter", "label_values(kvmem_libvirt_up, instance)", multi=False),
        query_variable("domain", "VM", f"label_values(kvmem_domain_info{sel(I)}, domain)"),
        query_variable("node", "Host NUMA node", f"label_values(kvmem_node_info{sel(I)}, node)"),
    ]
    return dashboard("kvmem-vms", "kvmem / VMs", "Per-VM balloon against guest usage, virtio-mem, NUMA placement and "
                     "locality, and the age of the guest's statistics.", variables, panels)


def controller():
    i = sel(I)
    band = (f'sum by (instance, node) (kvmem_controller_node_state{{{I},{N},state="release"}}) - '
            f'sum by (instance, node) (kvmem_controller_node_state{{{I},{N},state="reclaim"}})')
    panels = [
        row("Mode and loop"),
        stat("Mode", "dry-run: actions are only logged and counted; apply: started with --apply.",
             targets((f"kvmem_controller_dry_run{i}", "{{instance}}")),
             mappings=value_map({1: ("dry-run", "blue"), 0: ("apply", "green")}), text_mode="value_and_name"),
        stat("Since last cycle", "Seconds since the last finished cycle (KvmemControllerStuck).",
             targets((f"time() - kvmem_controller_last_run_timestamp_seconds{i}", "{{instance}}")), "s",
             thresholds=[(None, "green"), (60, "red")]),
        stat("Cycle duration", "Observe, decide and act, last cycle.",
             targets((f"kvmem_controller_reconcile_duration_seconds{i}", "{{instance}}")), "s"),
        stat("Last action", "When the controller last applied or recorded an action.",
             targets((f"kvmem_controller_last_action_timestamp_seconds{i} * 1000", "{{instance}}")), "dateTimeFromNow"),
        row("Decisions"),
        timeseries("Actions by rule and outcome", "Actions per second (applied, dry_run, failed); each also shows as "
                   "an annotation (KvmemControllerActingTooOften).",
                   targets((f"sum by (instance, reason, outcome) (rate(kvmem_controller_actions_total{i}{R}))",
                            "{{reason}} {{outcome}}")), "ops"),
        timeseries("Skips by rule", "Decisions not to act, per second: dead band, cooldowns, floors, stale stats, "
                   "limits. The log has the reason of each.",
                   targets((f"sum by (instance, reason) (rate(kvmem_controller_skips_total{i}{R}))", "{{reason}}")), "ops"),
        state_timeline("Node balloon band", "Per node: reclaim (available below balloon.reclaim_below), steady, or "
                       "release (above balloon.release_above).", targets((band, "{{instance}} node {{node}}")),
                       value_map({-1: ("reclaim", "red"), 0: ("steady", "green"), 1: ("release", "blue")})),
        state_timeline("Node reclaim ladder stage", "Per node, the levers a shortage calls for, cheapest first: calm, "
                       "ksm (below ksm.merge_below), balloon (below balloon.reclaim_below), offload (no balloon room "
                       "left: compressed offload), swap (offload onto disk swap, only with offload.allow_disk_swap).",
                       targets((f"kvmem_controller_node_reclaim_stage{sel(I, N)}", "{{instance}} node {{node}}")),
                       value_map({0: ("calm", "green"), 1: ("ksm", "blue"), 2: ("balloon", "yellow"),
                                  3: ("offload", "orange"), 4: ("swap", "red")})),
        row("Targets"),
        timeseries("Balloon targets", "The last balloon size the controller set (or would have set, in dry-run).",
                   targets((f"kvmem_controller_balloon_target_bytes{sel(I, D)}", "{{domain}}")), "bytes"),
        timeseries("virtio-mem requested sizes", "The last virtio-mem size the controller requested (or would have).",
                   targets((f"kvmem_controller_virtio_mem_requested_bytes{sel(I, D)}", "{{domain}}/{{device}}")), "bytes"),
        row("Compaction"),
        timeseries("Fragmentation index around compactions", "The node's index before and after the controller's "
                   "last compaction; the cooldown doubles when it did not drop.",
                   targets((f"kvmem_controller_compaction_fragmentation_index{sel(I, N)}", "node {{node}} {{when}}")),
                   "short", minimum=-1, maximum=1),
        timeseries("Compaction duration", "How long the last compaction of each node took.",
                   targets((f"kvmem_controller_compaction_duration_seconds{sel(I, N)}", "node {{node}}")), "s"),
        row("Hugepage pools"),
        timeseries("Pool target, obtained and demand", "Per node and page size (size in bytes), in pages: the pool "
                   "size the pool manager wants (demand + hugepages.headroom + pages in use), what the kernel gave "
                   "at the controller's last resize, and the demand of shut-off autostart VMs pinned to the node.",
                   targets((f"kvmem_controller_hugepage_pool_target_pages{sel(I, N)}", "node {{node}} {{size}} B target"),
                           (f"kvmem_controller_hugepage_pool_obtained_pages{sel(I, N)}",
                            "node {{node}} {{size}} B obtained"),
                           (f"kvmem_controller_hugepage_pool_demand_pages{sel(I, N)}", "node {{node}} {{size}} B demand")),
                   "short", minimum=0),
        timeseries("Pool shortfall", "Free pages missing for demand + headroom, as of the last cycle. Above 0 for "
                   "three hugepages.retry_after retries (at least 10m) fires KvmemHugepagePoolShortfall.",
                   targets((f"kvmem_controller_hugepage_pool_shortfall_pages{sel(I, N)}", "node {{node}} {{size}} B")),
                   "short", minimum=0),
        timeseries("Reservation failures by cause", "Pool growths that obtained fewer pages than asked: fragmented "
                   "(the node's fragmentation index was above 0.5), no_memory, or error (nothing read back).",
                   targets((f"sum by (instance, node, size, cause) (increase("
                            f"kvmem_controller_hugepage_reservation_failures_total{sel(I, N)}{R}))",
                            "node {{node}} {{size}} B {{cause}}")), "short", minimum=0),
        timeseries("Compactions for reservations", "Compactions the pool manager ran on a fragmented node just "
                   "before growing a pool of pages below 1 GiB (through the compaction gates).",
                   targets((f"increase(kvmem_controller_hugepage_compactions_total{sel(I, N)}{R})", "node {{node}}")),
                   "short", minimum=0),
        row("NUMA placement"),
        timeseries("Placement moves by kind", "vcpus: a VM's vCPUs pinned to the node holding its memory (copies "
                   "nothing); memory: its memory migrated to its vCPUs' node. Applied, or recorded in dry-run.",
                   targets((f"sum by (instance, kind) (increase(kvmem_controller_placement_moves_total{i}{R}))",
                            "{{kind}}")), "short", minimum=0, w=8),
        timeseries("Migrated memory", "Bytes per second the controller migrated between nodes; averaged over "
                   "moves, placement.max_bytes_per_second caps it.",
                   targets((f"rate(kvmem_controller_placement_migrated_bytes_total{i}{R})", "{{instance}}")),
                   "Bps", minimum=0, w=8),
        timeseries("Locality around placement moves", "Each moved VM's locality ratio before its last move, and "
                   "after it as the actuator measured it (none in dry-run). Moves start below "
                   "placement.locality_below (0.8 by default).",
                   targets((f"kvmem_controller_placement_locality_ratio{sel(I, D)}", "{{domain}} {{when}}")),
                   "percentunit", minimum=0, maximum=1, w=8),
        row("Health and webhook"),
        timeseries("Loop problems", "Cycles that could not observe the host, virtio-mem changes that did not settle, "
                   "and policy reloads (SIGHUP) by result.",
                   targets((f"increase(kvmem_controller_observe_failures_total{i}{R})", "observe failures"),
                           (f"increase(kvmem_controller_virtio_mem_settle_timeouts_total{i}{R})", "settle timeouts"),
                           (f"sum by (instance, result) (increase(kvmem_controller_policy_reloads_total{i}{R}))",
                            "reload {{result}}")), "short", w=8),
        timeseries("Webhook requests", "Alertmanager webhook requests by result (accepted, or why refused).",
                   targets((f"sum by (instance, result) (rate(kvmem_controller_webhook_requests_total{i}{R}))",
                            "{{result}}")), "reqps", w=8),
        timeseries("Webhook evaluations", "Immediate cycles that firing alerts triggered, by alert.",
                   targets((f"sum by (instance, alertname) (increase(kvmem_controller_webhook_evaluations_total{i}{R}))",
                            "{{alertname}}")), "short", w=8),
    ]
    variables = [
        query_variable("instance", "Controller", "label_values(kvmem_controller_dry_run, instance)"),
        query_variable("node", "NUMA node", f"label_values(kvmem_controller_node_state{i}, node)"),
        query_variable("domain", "VM", 'label_values({__name__=~"kvmem_controller_balloon_target_bytes|'
                       f'kvmem_controller_placement_locality_ratio",{I}}}, domain)'),
    ]
    annotations = [
        annotation("Controller actions", f"sum by (instance, actuator, reason, outcome) "
                   f"(increase(kvmem_controller_actions_total{i}[$__interval])) > 0", "{{reason}}",
                   "{{actuator}}: {{outcome}} on {{instance}}"),
        annotation("Webhook evaluations", f"sum by (instance, alertname) "
                   f"(increase(kvmem_controller_webhook_evaluations_total{i}[$__interval])) > 0", "{{alertname}}",
                   "evaluated now on {{instance}}", color="purple"),
    ]
    return dashboard("kvmem-controller", "kvmem / Controller", "What kvmem_controller decides and does: actions (also "
                     "as annotations), skips, per-node bands, balloon and virtio-mem targets, compaction, hugepage "
                     "pools, NUMA placement moves, dry-run and the Alertmanager webhook.", variables, panels,
                     annotations)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    drift = []
    for name, build in (("kvmem-host.json", host), ("kvmem-vms.json", vms), ("kvmem-controller.json", controller),
                        ("kvmem-fleet.json", fleet)):
        text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(here, name)
        if "--check" in sys.argv[1:]:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    drift.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if drift:
        sys.exit(f"dashboards out of date with generate.py: {', '.join(drift)}; run dashboards/generate.py")


if __name__ == "__main__":
    main()
