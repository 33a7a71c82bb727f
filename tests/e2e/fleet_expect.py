#!/usr/bin/env python3
"""The fleet answers for the three fixture hosts of tests/e2e/fleet_lib.sh, asked of any
Prometheus-compatible query API (a federating Prometheus, or VictoriaMetrics fed by vmagent and
vmalert). Polls until every answer is exact or the deadline passes; then prints the differences
and exits 1.

usage: fleet_expect.py QUERY_URL DEADLINE_SECONDS [--no-watcher]

Every expected number below is worked out by hand from the fixture files (docs/fleet.md,
"Worked example"): h1 = tests/fixtures/hosts/two-node, h2 = four-node-sparse, h3 = old-kernel,
with the libvirt test-driver hosts tests/fixtures/libvirt/fleet/h{1,2,3}.xml.
"""
import json, sys, time, urllib.parse, urllib.request

GiB = 1 << 30


def used_for_hugepages(available, unusable, free, total):
    return 1 - (available - unusable * free) / total


# (instance, node) -> balancer score. No host's PSI share reaches its node's used share here
# (h1: 0.0072 / 0.1 = 0.072; h2: 0.001; h3 has no PSI), so each score is the node's share
# of memory that a new huge page cannot get.
SCORES = {
    ("h1", "0"): used_for_hugepages(29556449280, 0.278, 10170179584, 67182460928),
    ("h1", "1"): used_for_hugepages(29383323648, 0.999, 6758445056, 67507306496),
    ("h2", "0"): used_for_hugepages(15242821632, 0.278, 5556305920, 34825502720),
    ("h2", "1"): used_for_hugepages(15898484736, 0.278, 6144499712, 33822867456),
    ("h2", "4"): used_for_hugepages(29338906624, 0.278, 12699463680, 67645734912),
    ("h2", "6"): used_for_hugepages(8237969408, 0.278, 7787409408, 17179869184),
    ("h3", "0"): used_for_hugepages(14917926912, 0.278, 6608896000, 32678019072),
}
HOST_RANKING = ["h1", "h2", "h3"]  # by their highest node score: 0.6648, 0.6465, 0.5997

# (instance, page size) -> the most room a single node of another host has for that page size.
# Largest single-node room, per host: 1 GiB pages h1 4 GiB (node 1), h2 6 GiB (node 4), h3 0;
# 2 MiB pages h1 4 GiB, h2 1 GiB, h3 512 MiB; base pages (available minus free hugepages)
# h1 25261481984 (node 0), h2 22896455680 (node 4), h3 14381056000.
ROOM_ELSEWHERE = {
    ("h1", "1073741824"): 6 * GiB, ("h2", "1073741824"): 4 * GiB, ("h3", "1073741824"): 6 * GiB,
    ("h1", "2097152"): 1 * GiB, ("h2", "2097152"): 4 * GiB, ("h3", "2097152"): 4 * GiB,
    ("h1", "4096"): 22896455680, ("h2", "4096"): 25261481984, ("h3", "4096"): 25261481984,
}
# domain -> 1 when another host has one node with room for all of its memory in its page size.
# db-1g (5 GiB of 1 GiB pages on h1) fits only on h2's node 4; cache-1g (the same on h2) fits
# nowhere else: h1's best node has 4 GiB of 1 GiB pages.
FITS = {"db-1g": 1, "web": 1, "cache-1g": 0, "app-2m": 1, "small": 1, "batch-2m": 1}
MOVE_INFO = {  # domain -> labels of kvmem:vm_move:info
    "db-1g": {"instance": "h1", "page_size": "1073741824", "hugepages": "true", "numatune_mode": "strict", "pinned": "true",
              "numatune_nodeset": "1"},
    "web": {"instance": "h1", "page_size": "4096", "hugepages": "false", "numatune_mode": "none", "pinned": "false"},
    "app-2m": {"instance": "h2", "page_size": "2097152", "hugepages": "true", "numatune_nodeset": "1"},
}
# OpenStack Watcher's series: host memory by fqdn (sums of the fixtures' nodes) and per-VM use
# in MiB (guest available - usable: the test driver reports usable as half of the memory).
WATCHER_TOTAL = {"h1": 134689767424, "h2": 153473974272, "h3": 32678019072}
WATCHER_AVAILABLE = {"h1": 58939772928, "h2": 68718182400, "h3": 14917926912}
WATCHER_VM_MIB = {"f1000000-0000-4000-8000-000000000001": 2560, "f2000000-0000-4000-8000-000000000002": 1536,
                  "f3000000-0000-4000-8000-000000000001": 512}


def query(base, expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "nocache": "1"})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check(base, watcher):
    problems = []

    def compare(what, got, want):
        for k in sorted(set(got) | set(want), key=str):
            if k not in got:
                problems.append(f"{what} {k}: missing, want {want[k]}")
            elif k not in want:
                problems.append(f"{what} {k}: unexpected {got[k]}")
            elif not close(got[k], want[k]):
                problems.append(f"{what} {k}: got {got[k]!r}, want {want[k]!r}")

    r = query(base, "kvmem:node_balancer_score:ratio")
    compare("node score", {(s["metric"]["instance"], s["metric"]["node"]): float(s["value"][1]) for s in r}, SCORES)
    # One recorded host score per host, whatever other labels it keeps.
    r = query(base, "kvmem:host_balancer_score:ratio")
    per_host = [s["metric"].get("instance") for s in r]
    if sorted(per_host) != sorted(HOST_RANKING):
        problems.append(f"kvmem:host_balancer_score:ratio: one series per host wanted, got {[s['metric'] for s in r]}")
    # The KubeVirt descheduler's query (docs/fleet.md): one sample per host, labelled instance.
    r = query(base, "sort_desc(max by(instance) (kvmem:host_balancer_score:ratio))")
    if [s["metric"].get("instance") for s in r] != HOST_RANKING:
        problems.append(f"host ranking: got {[s['metric'] for s in r]}, want instances {HOST_RANKING}")
    host_best = {h: max(v for (i, _), v in SCORES.items() if i == h) for h in HOST_RANKING}
    compare("host score", {s["metric"].get("instance"): float(s["value"][1]) for s in r}, host_best)
    r = query(base, "fleet:room_elsewhere:bytes")
    compare("room elsewhere", {(s["metric"]["instance"], s["metric"]["size"]): float(s["value"][1]) for s in r},
            ROOM_ELSEWHERE)
    r = query(base, "fleet:vm_fits_elsewhere:bool")
    compare("fits elsewhere", {s["metric"]["domain"]: float(s["value"][1]) for s in r}, FITS)
    # docs/fleet.md's "where could it go" query: only h2 (and db-1g's own host h1 is not it).
    r = query(base, 'fleet:host_room:bytes >= on(size) group_left label_replace('
                    'kvmem:vm_memory:bytes{uuid="f1000000-0000-4000-8000-000000000001"}, "size", "$1", "page_size", "(.*)")')
    if sorted(s["metric"].get("instance") for s in r) != ["h2"]:
        problems.append(f"hosts with room for db-1g: got {[s['metric'] for s in r]}, want h2")
    r = query(base, "kvmem:vm_move:info")
    info = {s["metric"]["domain"]: s["metric"] for s in r}
    for dom, want in MOVE_INFO.items():
        got = info.get(dom, {})
        bad = {k: got.get(k) for k, v in want.items() if got.get(k) != v}
        if bad:
            problems.append(f"move facts {dom}: got {bad}, want {want}")
    if watcher:
        for name, want in (("node_memory_MemTotal_bytes", WATCHER_TOTAL),
                           ("node_memory_MemAvailable_bytes", WATCHER_AVAILABLE)):
            # Watcher's own query shape: one series per fqdn, only result[0] is read.
            got = {}
            for h in want:
                rr = query(base, f"{name}{{fqdn='{h}'}}")
                if len(rr) == 1:
                    got[h] = float(rr[0]["value"][1])
                elif rr:
                    problems.append(f"{name}{{fqdn='{h}'}}: {len(rr)} series, Watcher reads only the first")
            compare(name, got, want)
        got = {}
        for uuid in WATCHER_VM_MIB:
            rr = query(base, f"avg_over_time(ceilometer_memory_usage{{resource='{uuid}'}}[300s])")
            if len(rr) == 1:
                got[uuid] = float(rr[0]["value"][1])
        compare("ceilometer_memory_usage", got, WATCHER_VM_MIB)
    return problems


def main():
    base, deadline = sys.argv[1].rstrip("/"), time.monotonic() + float(sys.argv[2])
    watcher = "--no-watcher" not in sys.argv[3:]
    while True:
        try:
            problems = check(base, watcher)
        except (OSError, ValueError, KeyError) as e:
            problems = [f"query failed: {e}"]
        if not problems:
            print(f"fleet answers exact: {len(SCORES)} node scores, ranking {' > '.join(HOST_RANKING)}, "
                  f"{len(ROOM_ELSEWHERE)} rooms elsewhere, {len(FITS)} VMs (only cache-1g fits nowhere else)"
                  + (", Watcher's series" if watcher else ""))
            return 0
        if time.monotonic() > deadline:
            print("\n".join(problems), file=sys.stderr)
            return 1
        time.sleep(1)


sys.exit(main())
