#!/usr/bin/env python3
"""bench/cardinality's arithmetic: counts the series of one /metrics exposition by what they
belong to, writes RESULTS.md from run.sh's measurements, and checks that a RESULTS.md is what
this script writes (the shape, and the sums that must hold between its columns).

  report.py count METRICS.prom                one line: total host node vm domains max_vm
  report.py write OUT MEASUREMENTS.tsv META   RESULTS.md from run.sh's rows and key=value lines
  report.py check RESULTS.md                  exit 1 with the reasons when it is not run.sh's

A series belongs to a VM when it has a `domain` label, to a NUMA node when it has a `node` label
and no `domain`, and to the host otherwise."""
import re
import sys

LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
HOSTS = ["two-node", "four-node-sparse", "old-kernel", "1000 domains"]
DETAILS = ["full", "fleet"]
COLUMNS = ["host", "NUMA nodes", "domains", "vm-detail", "series", "per host", "per node", "per VM",
           "per VM (max)", "fleet rules: series", "fleet rules: per VM"]
TITLE = "# kvmem_exporter cardinality: series per host, per NUMA node and per VM"


def count(path):
    total = host = node = vm = 0
    per_domain = {}
    for line in open(path, encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        total += 1
        name_end = min(i for i in (line.find("{"), line.find(" "), len(line)) if i >= 0)
        labels = dict(LABEL.findall(line[name_end:line.rfind("}")])) if line[name_end] == "{" else {}
        if "domain" in labels:
            vm += 1
            per_domain[labels["domain"]] = per_domain.get(labels["domain"], 0) + 1
        elif "node" in labels:
            node += 1
        else:
            host += 1
    print(total, host, node, vm, len(per_domain), max(per_domain.values(), default=0))


def per(n, d):
    return f"{n / d:.2f}" if d else "—"


def row(m):
    """m: the measurement of one run, as run.sh writes it (one TSV line)."""
    return [m["host"], m["nodes"], m["domains"], m["detail"], m["total"], m["per_host"],
            per(int(m["node_series"]), int(m["nodes"])), per(int(m["vm_series"]), int(m["domains"])),
            m["max_vm"], m["rules"], per(int(m["rules_vm"]), int(m["domains"]))]


def table_line(cells):
    return "| " + " | ".join(cells) + " |"


def write(out, tsv, meta_path):
    keys = ["host", "nodes", "domains", "detail", "total", "per_host", "node_series", "vm_series", "max_vm",
            "rules", "rules_vm"]
    runs = [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in open(tsv) if line.strip()]
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(meta_path) if "=" in line)
    lines = [
        TITLE,
        "",
        "Written by `bench/cardinality/run.sh`; do not edit by hand (`run.sh --check` and the CTest",
        "`e2e_bench_cardinality_results` reject a file it did not write).",
        "",
        f"- Date: {meta['date']}",
        f"- Kernel: {meta['kernel']}",
        f"- Commit: {meta['commit']}",
        f"- Exporter: `{meta['exporter']}`",
        f"- Prometheus: {meta['prometheus']}",
        "",
        "Each run is kvmem_exporter with its default collectors on 127.0.0.1, on a fixture host's",
        "`/proc` and `/sys` (tests/fixtures/hosts) and libvirt's test driver: the 5 domains of",
        "tests/fixtures/libvirt/host.xml, or for `1000 domains` the host bench/libvirt generates",
        "(bench/libvirt/gen-host.py 1000) on two-node's `/proc` and `/sys`. A series is per VM",
        "when it has a `domain` label, per node when it has a `node` label and no `domain`, per host",
        "otherwise; per node and per VM are those series divided by the NUMA nodes (sysfs",
        "`nodeN` directories) and by the domains (`kvmem_libvirt_domains`). series = per host +",
        "per node × nodes + per VM × domains.",
        "",
        "The test driver runs no QEMU process, so the per-VM families read from `/proc/PID` and the",
        "VM's cgroup are absent here: on a real host add, per VM and `full`,",
        "`kvmem_domain_numa_memory_bytes` per host node holding its memory,",
        "`kvmem_domain_tier_memory_bytes` per tier, the locality ratio, 2 KSM, 1 THP and 10 cgroup",
        "series (info, 2 pressure, 2 memory, usage, swap, zswap, zswapped, refaults on cgroup v2);",
        "with `fleet`, the memory per node, the locality ratio and 7 cgroup series (2 pressure,",
        "2 memory, usage, swap, refaults).",
        "",
        "The fleet rules columns are the series Prometheus records for the exporter with the",
        "`kvmem-fleet-host` group of alerts/kvmem.rules.yml alone (one Prometheus scraping every",
        "run at once, counted per instance); per VM counts those with a `uuid` label.",
        "",
        table_line(COLUMNS),
        table_line(["---"] * len(COLUMNS)),
    ]
    lines += [table_line(row(m)) for m in runs]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def check(path):
    text = open(path, encoding="utf-8").read().splitlines()
    errors = []
    if not text or text[0] != TITLE:
        errors.append("the title is not run.sh's")
    for key in ["Date", "Kernel", "Commit", "Exporter", "Prometheus"]:
        if not any(line.startswith(f"- {key}: ") and len(line) > len(key) + 5 for line in text):
            errors.append(f"no '- {key}:' line")
    try:
        start = text.index(table_line(COLUMNS))
    except ValueError:
        print(f"{path}: no table with run.sh's columns", file=sys.stderr)
        return 1
    rows = [line.strip("| ").split(" | ") for line in text[start + 2:] if line.startswith("|")]
    want = [(h, d) for h in HOSTS for d in DETAILS]
    if [(r[0], r[3]) for r in rows] != want:
        errors.append(f"rows are {[(r[0], r[3]) for r in rows]}, want {want}")
    by = {(r[0], r[3]): r for r in rows if len(r) == len(COLUMNS)}
    for (h, d), r in by.items():
        try:
            nodes, domains, total, host, max_vm = int(r[1]), int(r[2]), int(r[4]), int(r[5]), int(r[8])
            node, vm = float(r[6]), float(r[7])
        except ValueError:
            errors.append(f"{h} {d}: a cell is not a number: {r}")
            continue
        if abs(host + node * nodes + vm * domains - total) > 0.005 * (nodes + domains) + 1e-9:
            errors.append(f"{h} {d}: per host + per node × nodes + per VM × domains is not the total {total}")
        if max_vm < vm:
            errors.append(f"{h} {d}: per VM (max) {max_vm} is below the mean {vm}")
    for h in HOSTS:
        full, fleet = by.get((h, "full")), by.get((h, "fleet"))
        if not full or not fleet:
            continue
        if full[1:3] + full[5:7] != fleet[1:3] + fleet[5:7]:
            errors.append(f"{h}: nodes, domains, per host or per node differ between full and fleet")
        if not float(fleet[7]) < float(full[7]):
            errors.append(f"{h}: fleet serves no fewer series per VM than full")
        if full[9:] != fleet[9:]:
            errors.append(f"{h}: the fleet rules record different series under full and fleet")
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "count":
        count(args[0])
    elif cmd == "write":
        write(*args)
    elif cmd == "check":
        sys.exit(check(args[0]))
    else:
        sys.exit(f"unknown command {cmd}; see the docstring")
