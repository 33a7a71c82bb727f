#!/usr/bin/env bash
# Dashboards against real data: kvmem_exporter serves a fixture host (two nodes, node 1
# fragmented, fake QEMU processes) plus libvirt's test driver, four controllers run beside it
# (one dry-run in the release band growing virtio-mem, one --apply in reclaim compacting node 1
# of the fixture copy, one --apply growing a hugepage pool the kernel will not grow on a second
# copy, one dry-run moving a VM's vCPUs to its memory), and Prometheus scrapes all five every
# second. Then: the JSON is what dashboards/generate.py writes, every metric named in dashboards
# and alert rules exists in the real output, and every dashboard query (variables filled in) is
# accepted and returns data. The fleet dashboard runs against a fleet of two: hosts kvm-a (the
# exporter and the --apply controller) and kvm-b (a second exporter and the pool manager on the
# pool copy), scraped with instance set to those names by a host-side Prometheus evaluating
# alerts/kvmem.rules.yml, federated (kvmem:* and the few raw series the dashboard says it needs)
# into a central Prometheus evaluating alerts/kvmem-fleet.rules.yml.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitoring_lib.sh"
EXPORTER=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}

python3 "$SRC/dashboards/generate.py" --check || fail "dashboards drifted from dashboards/generate.py"
for f in "$SRC"/dashboards/*.json; do python3 -m json.tool "$f" >/dev/null || fail "$f is not valid JSON"; done
pass "dashboard JSON is well formed and matches generate.py"

HOST="$E2E_TMP/host"
make_fixture_root "$HOST"
# Node 1 loses its last free huge blocks (orders 9 and 10), so its fragmentation index is high.
sed -i 's/^\(Node 1, zone   Normal.*\)      9      1      0 *$/\1      9      0      0 /' "$HOST/proc/buddyinfo"
grep -qE '^Node 1, zone +Normal( +[0-9]+){9} +0 +0 *$' "$HOST/proc/buddyinfo" || fail "could not fragment node 1"
touch "$HOST"/sys/devices/system/node/node{0,1}/compact   # --apply compacts into the copy
URI="test://$SRC/tests/fixtures/libvirt/host.xml"
common=(--path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" --libvirt.uri="$URI" --web.listen-address=127.0.0.1:0)

# stale_after is huge because the test driver's guest stats carry a 1989 timestamp.
cat >"$E2E_TMP/release.yaml" <<'YAML'
interval: 500ms
stale_after: 500000h
balloon: {reclaim_below: 5%, release_above: 10%, cooldown: 1s, pressure: {usable_below_ratio: 0.6}}
virtio_mem: {sustain: 1, settle_timeout: 1s, step: 2GiB}  # the test driver never plugs: after the timeout a 2 GiB step from 0 is a real grow past the 1 GiB request
limits: {max_actions_per_cycle: 20}
YAML
cat >"$E2E_TMP/reclaim.yaml" <<'YAML'
interval: 500ms
stale_after: 500000h
balloon: {reclaim_below: 50%, release_above: 60%, cooldown: 1s}
compaction: {for: 1s, cooldown: 2s}
YAML
# The hugepage pool manager, on its own copy of the host: node 1's 2 MiB pool (which the
# test driver's preferred-noballoon VM uses, so hugepages.headroom applies) is one the kernel
# will not grow. Its nr_hugepages becomes a read-only sysctl, which nobody may write (root
# included: sysctl permissions ignore CAP_DAC_OVERRIDE), with every page in use, so each
# reservation reads back short and is counted by cause (error: the write itself fails),
# after a compaction of node 1 first. Its value (the kernel's cap_last_cap) does not matter.
POOLHOST="$E2E_TMP/pool-host"
cp -a "$HOST" "$POOLHOST"
POOL1="$POOLHOST/sys/devices/system/node/node1/hugepages/hugepages-2048kB"
ln -sf /proc/sys/kernel/cap_last_cap "$POOL1/nr_hugepages"
echo 0 >"$POOL1/free_hugepages"
(: >>"$POOL1/nr_hugepages") 2>/dev/null && fail "$POOL1/nr_hugepages is writable; the pool test needs it read-only"
cat >"$E2E_TMP/pools.yaml" <<'YAML'
interval: 500ms
stale_after: 500000h
balloon: {enabled: false}
virtio_mem: {enabled: false}
compaction: {for: 1h, cooldown: 1s}  # no compaction of its own: only the pool manager's
hugepages: {headroom: 64MiB, retry_after: 1s}
placement: {enabled: false}
YAML
# Placement in dry-run: the vmem domain has 10% of its memory near its vCPUs (node 0) and 90%
# on node 1, so the move is to pin its vCPUs to node 1. (Applied, the pin would need a host
# with a node 1: libnuma maps the node to CPUs on the live host.)
cat >"$E2E_TMP/place.yaml" <<'YAML'
interval: 500ms
stale_after: 500000h
balloon: {enabled: false}
virtio_mem: {enabled: false}
compaction: {enabled: false}
hugepages: {enabled: false}
placement: {for: 1s}
YAML
# ksmd at work: its utime grows a tick (10 ms) every 100 ms, so the KSM saving per CPU-second has
# a finite value (a static fixture's ksmd never spends CPU, and the ratio is then undefined).
(ticks=1041; while :; do
   ticks=$((ticks + 1))
   printf '97 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 %d 14227 0 0 25 5 1 0 27\n' "$ticks" >"$HOST/proc/97/stat.new"
   mv "$HOST/proc/97/stat.new" "$HOST/proc/97/stat"
   sleep 0.1
 done) &
E2E_PIDS+=($!)
start_daemon EXP "$EXPORTER" "${common[@]}"
start_daemon DRY "$CTL" --policy "$E2E_TMP/release.yaml" "${common[@]}"
start_daemon APPLY "$CTL" --apply --policy "$E2E_TMP/reclaim.yaml" "${common[@]}"
start_daemon POOLS "$CTL" --apply --policy "$E2E_TMP/pools.yaml" --path.procfs="$POOLHOST/proc" \
  --path.sysfs="$POOLHOST/sys" --libvirt.uri="$URI" --web.listen-address=127.0.0.1:0
start_daemon PLACE "$CTL" --policy "$E2E_TMP/place.yaml" "${common[@]}"
start_daemon EXP2 "$EXPORTER" --path.procfs="$POOLHOST/proc" --path.sysfs="$POOLHOST/sys" --libvirt.uri="$URI" \
  --web.listen-address=127.0.0.1:0

# Counters that move, so rates and ratios are real numbers, not 0/0: NUMA allocations on both
# nodes, written in place (the exporter keeps the files open).
for n in 0 1; do cp "$HOST/sys/devices/system/node/node$n/numastat" "$HOST/sys/devices/system/node/node$n/numastat.orig"; done
(
  i=0
  while sleep 0.5; do
    i=$((i + 1))
    for n in 0 1; do
      f="$HOST/sys/devices/system/node/node$n/numastat"
      awk -v i="$i" '$1 == "numa_hit" { $2 += 1000 * i } $1 == "numa_miss" || $1 == "other_node" { $2 += 50 * i } $1 == "local_node" { $2 += 950 * i } { print }' \
        "$f.orig" >"$f.new" && cat "$f.new" >"$f"
    done
  done
) &
E2E_PIDS+=("$!")

prometheus_config "$E2E_TMP/prometheus.yml" 1s "" "" "kvmem=127.0.0.1:$EXP_PORT" \
  "kvmem-controller=127.0.0.1:$DRY_PORT" "kvmem-controller-apply=127.0.0.1:$APPLY_PORT" \
  "kvmem-controller-pools=127.0.0.1:$POOLS_PORT" "kvmem-controller-placement=127.0.0.1:$PLACE_PORT"
start_prometheus "$E2E_TMP/prometheus.yml"

# The fleet: host-side rules, then federation of what the fleet dashboard's descriptions name.
cat >"$E2E_TMP/edge.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$SRC/alerts/kvmem.rules.yml"]
scrape_configs:
  - job_name: kvmem
    static_configs:
      - {targets: ["127.0.0.1:$EXP_PORT"], labels: {instance: kvm-a}}
      - {targets: ["127.0.0.1:$EXP2_PORT"], labels: {instance: kvm-b}}
  - job_name: kvmem-controller
    static_configs:
      - {targets: ["127.0.0.1:$APPLY_PORT"], labels: {instance: kvm-a}}
      - {targets: ["127.0.0.1:$POOLS_PORT"], labels: {instance: kvm-b}}
YAML
start_prometheus "$E2E_TMP/edge.yml" EDGE
FLEET_RAW='kvmem_domain_cgroup_swap_bytes|kvmem_domain_numa_locality_ratio|kvmem_controller_last_run_timestamp_seconds|kvmem_controller_actions_total|kvmem_controller_actions_per_cycle_limit'
cat >"$E2E_TMP/fleet.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$SRC/alerts/kvmem-fleet.rules.yml"]
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      match[]: ['{__name__=~"kvmem:.+"}', '{__name__=~"$FLEET_RAW"}']
    static_configs:
      - targets: ["127.0.0.1:$EDGE_PORT"]
YAML
start_prometheus "$E2E_TMP/fleet.yml" FLEET

wait_until 30 "15 s of samples from all five targets" prom_has_data "$PROM_PORT" \
  'count(count_over_time(up[1m]) >= 15) == 5'
wait_until 20 "a compaction by the --apply controller" prom_has_data "$PROM_PORT" \
  'kvmem_controller_compaction_fragmentation_index'
wait_until 20 "a virtio-mem decision by the dry-run controller" prom_has_data "$PROM_PORT" \
  'kvmem_controller_virtio_mem_requested_bytes'
wait_until 20 "a hugepage reservation that fell short on node 1" prom_has_data "$PROM_PORT" \
  'kvmem_controller_hugepage_reservation_failures_total{node="1",size="2097152",cause="error"} > 0'
wait_until 20 "a placement move of vmem recorded in dry-run" prom_has_data "$PROM_PORT" \
  'kvmem_controller_placement_locality_ratio{domain="vmem",when="before"} == 0.1'
# One webhook evaluation while Prometheus watches, so the controller dashboard's evaluation panel and annotation have data.
curl -fsS -H 'Content-Type: application/json' "http://127.0.0.1:$DRY_PORT/webhook" -d \
  '{"version":"4","status":"firing","receiver":"kvmem","alerts":[{"status":"firing","labels":{"alertname":"KvmemNodeMemoryLow","node":"0"}}]}' \
  >/dev/null || fail "webhook post"

wait_until 10 "Prometheus to see the webhook evaluation" prom_has_data "$PROM_PORT" \
  'kvmem_controller_webhook_evaluations_total{alertname="KvmemNodeMemoryLow"} > 0'
wait_until 30 "the central Prometheus to record VMs that fit elsewhere on both hosts" prom_has_data "$FLEET_PORT" \
  'count(count by(instance) (count_over_time(fleet:vm_fits_elsewhere:bool[1m]) >= 5)) == 2'
wait_until 20 "the central Prometheus to have both controllers' action counters" prom_has_data "$FLEET_PORT" \
  'count(count by(instance) (count_over_time(kvmem_controller_actions_total[1m]) >= 5)) == 2'
# In a fleet of two, the room elsewhere of each host is the other's room, for every page size.
for pair in kvm-a:kvm-b kvm-b:kvm-a; do
  here="instance=\"${pair%:*}\"" there="instance=\"${pair#*:}\""
  prom_has_data "$FLEET_PORT" "fleet:host_room:bytes{$there}" || fail "no room recorded for ${pair#*:}"
  out=$(prom_query "$FLEET_PORT" "fleet:room_elsewhere:bytes{$here} != on(size) fleet:host_room:bytes{$there}
    or on(size) fleet:host_room:bytes{$there} unless on(size) fleet:room_elsewhere:bytes{$here}") || fail "query refused"
  python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["data"]["result"] != [])' <<<"$out" ||
    fail "fleet:room_elsewhere:bytes of ${pair%:*} is not the room of ${pair#*:}: $out"
done
pass "the central Prometheus records the fleet rules from federated kvmem:* series (room elsewhere is the other host's room)"
# Every metric the dashboards and alert rules name must be in what the binaries really serve.
scrape "$EXP_PORT" >"$E2E_TMP/all.prom"
scrape "$DRY_PORT" >>"$E2E_TMP/all.prom"
scrape "$APPLY_PORT" >>"$E2E_TMP/all.prom"
scrape "$POOLS_PORT" >"$E2E_TMP/pools.prom"
scrape "$PLACE_PORT" >"$E2E_TMP/place.prom"
cat "$E2E_TMP/pools.prom" "$E2E_TMP/place.prom" >>"$E2E_TMP/all.prom"
# What the pool and placement panels draw, exactly: node 1's 2 MiB pool wants 32 pages more
# (64 MiB of headroom, none free) than the 40 it reads back; one vCPU pin of vmem, nothing migrated.
assert_eq "$(metric_value "$E2E_TMP/pools.prom" 'kvmem_controller_hugepage_pool_shortfall_pages{node="1",size="2097152"}')" 32 "node 1 2 MiB shortfall"
assert_eq "$(metric_value "$E2E_TMP/pools.prom" 'kvmem_controller_hugepage_pool_demand_pages{node="1",size="2097152"}')" 0 "node 1 2 MiB demand"
pool1=$(cat "$POOL1/nr_hugepages")
assert_eq "$(metric_value "$E2E_TMP/pools.prom" 'kvmem_controller_hugepage_pool_obtained_pages{node="1",size="2097152"}')" "$pool1" "node 1 2 MiB obtained"
assert_eq "$(metric_value "$E2E_TMP/pools.prom" 'kvmem_controller_hugepage_pool_target_pages{node="1",size="2097152"}')" $((pool1 + 32)) "node 1 2 MiB target"
(($(metric_value "$E2E_TMP/pools.prom" 'kvmem_controller_hugepage_compactions_total{node="1"}') >= 1)) ||
  fail "no compaction of node 1 before its reservations"
assert_eq "$(metric_value "$E2E_TMP/place.prom" 'kvmem_controller_placement_moves_total{kind="vcpus"}')" 1 "vCPU pins"
assert_eq "$(metric_value "$E2E_TMP/place.prom" 'kvmem_controller_placement_moves_total{kind="memory"}')" 0 "memory migrations"
assert_eq "$(metric_value "$E2E_TMP/place.prom" 'kvmem_controller_placement_migrated_bytes_total')" 0 "migrated bytes"
pass "pool manager (shortfall 32 pages, obtained $pool1, failures counted) and placement (one vCPU pin) metrics as expected"
named=$(python3 - "$SRC" <<'PY'
import json, re, sys, glob, yaml
src = sys.argv[1]
exprs = [r["expr"] for f in ("kvmem", "kvmem-fleet") for g in yaml.safe_load(open(f"{src}/alerts/{f}.rules.yml"))["groups"]
         for r in g["rules"]]
for path in glob.glob(f"{src}/dashboards/*.json"):
    d = json.load(open(path))
    exprs += [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
    exprs += [a["target"]["expr"] for a in d["annotations"]["list"]]
    exprs += [v["query"] for v in d["templating"]["list"] if v["type"] == "query"]
print("\n".join(sorted({m for e in exprs for m in re.findall(r"\bkvmem_[a-z0-9_]+", e)})))
PY
)
missing=()
for m in $named; do grep -qE "^# TYPE $m " "$E2E_TMP/all.prom" || missing+=("$m"); done
((${#missing[@]} == 0)) || fail "named in dashboards or alerts but not served: ${missing[*]}"
pass "all $(wc -w <<<"$named") metrics named in dashboards and alert rules are served by the exporter or the controller"
# Every recorded series a dashboard names is recorded by a rule, and the fleet dashboard's panels
# name in their descriptions each raw series they need, since a fleet may federate only kvmem:*.
python3 - "$SRC" <<'PY' || fail "dashboards name recorded series no rule records, or raw series their descriptions omit"
import json, re, sys, glob, yaml
src, bad = sys.argv[1], []
records = {r["record"] for f in ("kvmem", "kvmem-fleet") for g in yaml.safe_load(open(f"{src}/alerts/{f}.rules.yml"))["groups"]
           for r in g["rules"] if "record" in r}
for path in sorted(glob.glob(f"{src}/dashboards/*.json")):
    d = json.load(open(path))
    for p in d["panels"]:
        exprs = " ".join(t["expr"] for t in p.get("targets", []))
        bad += [f"{d['uid']} / {p['title']}: no rule records {m}" for m in
                sorted(set(re.findall(r"\b(?:kvmem|fleet):[a-z0-9_:]+", exprs)) - records)]
        if d["uid"] == "kvmem-fleet":
            bad += [f"{d['uid']} / {p['title']}: description does not name {m}" for m in
                    sorted(set(re.findall(r"\bkvmem_[a-z0-9_]+", exprs))) if m not in p["description"]]
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
pass "every recorded series the dashboards name has a rule; the fleet panels name the raw series they need"
fleet_json="$SRC/dashboards/kvmem-fleet.json"
per_host=()
for f in "$SRC"/dashboards/*.json; do [[ "$f" == "$fleet_json" ]] || per_host+=("$f"); done
python3 "$SRC/dashboards/check_queries.py" "http://127.0.0.1:$PROM_PORT" 20 "${per_host[@]}" ||
  fail "dashboard queries"
pass "every query of the per-host dashboards is accepted by Prometheus and returns data"
python3 "$SRC/dashboards/check_queries.py" "http://127.0.0.1:$FLEET_PORT" 20 "$fleet_json" ||
  fail "fleet dashboard queries"
pass "every fleet dashboard query is accepted by the central Prometheus and returns data"
for pid in "$EXP_PID" "$EXP2_PID" "$DRY_PID" "$APPLY_PID" "$POOLS_PID" "$PLACE_PID"; do stop_daemon "$pid"; done
echo "monitoring_dashboards: all passed"
