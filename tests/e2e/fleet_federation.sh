#!/usr/bin/env bash
# The fleet through two levels of real Prometheus (docs/fleet.md, "Federation"): three kvmem
# exporters on three fixture hosts, each scraped by its own Prometheus that evaluates
# alerts/kvmem.rules.yml, and a global Prometheus, as deploy/fleet/prometheus-global.yml ships
# it, that federates their kvmem:* series (fqdn as a target label, for OpenStack Watcher) and
# evaluates alerts/kvmem-fleet.rules.yml. Asserts the
# exact per-node balancer scores, the ranking of hosts, the room elsewhere per page size, which
# VM fits on another host, the move facts and Watcher's series (tests/e2e/fleet_expect.py); and
# counts the series the global Prometheus holds per host.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitoring_lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
SRC=${KVMEM_SOURCE_DIR:?}

start_fleet_exporters
declare -A HOST_PROM_PORT=()
for h in "${FLEET_HOSTS[@]}"; do
  cfg="$E2E_TMP/prom-$h.yml"
  {
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    printf 'rule_files:\n  - %s\n' "$SRC/alerts/kvmem.rules.yml"
    echo "scrape_configs:"
    fleet_scrape_job kvmem "$h" "127.0.0.1:${FLEET_EXPORTER_PORT[$h]}"
  } >"$cfg"
  start_prometheus "$cfg" "PROM_$h"
  port_var="PROM_${h}_PORT"
  HOST_PROM_PORT[$h]=${!port_var}
done

# The shipped central config (deploy/fleet/prometheus-global.yml) with its targets pointed at
# the three host Prometheus servers and 1s intervals; match[], honor_labels and the rest as shipped.
cfg="$E2E_TMP/prom-global.yml"
targets=""
for h in "${FLEET_HOSTS[@]}"; do targets+="$h=127.0.0.1:${HOST_PROM_PORT[$h]} "; done
python3 - "$SRC/deploy/fleet/prometheus-global.yml" "$SRC/alerts/kvmem-fleet.rules.yml" "$cfg" $targets <<'PY'
import sys, yaml
shipped, rules, out, targets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
c = yaml.safe_load(open(shipped))
c["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
c["rule_files"] = [rules]
(job,) = c["scrape_configs"]
job["static_configs"] = [{"targets": [t.split("=")[1]], "labels": {"fqdn": t.split("=")[0]}} for t in targets]
yaml.safe_dump(c, open(out, "w"))
PY
promtool check config "$cfg" >/dev/null || fail "promtool rejects the global Prometheus config"
start_prometheus "$cfg" GLOBAL
pass "3 exporters, 3 per-host Prometheus, 1 global Prometheus federating kvmem:* on 127.0.0.1"

python3 "$SRC/tests/e2e/fleet_expect.py" "http://127.0.0.1:$GLOBAL_PORT" 90 || fail "fleet answers on the global Prometheus"
pass "global Prometheus: exact node scores, host ranking, room elsewhere, VM fits, move facts, Watcher's series"

# Watcher finds hosts through the targets API: the fqdn label of each active target.
fqdns=$(curl -fsS "http://127.0.0.1:$GLOBAL_PORT/api/v1/targets?state=active" |
  python3 -c 'import json,sys; print(" ".join(sorted(t["labels"].get("fqdn","") for t in json.load(sys.stdin)["data"]["activeTargets"])))')
[[ "$fqdns" == "h1 h2 h3" ]] || fail "active targets' fqdn labels: got '$fqdns', want 'h1 h2 h3'"
pass "Watcher's host discovery: active targets carry fqdn h1 h2 h3"

# What a fleet costs the central Prometheus: the kvmem:* series federated per host, per VM
# (with a domain label) and per node (a node label, no domain), next to the host's VMs and nodes.
# Each host: 2 VMs of 6 series, 8 per node (3 page sizes of room, used, used for hugepages,
# score, available ratio, NUMA miss ratio), 7 per host.
declare -A WANT_SERIES=(
  [h1]="35 kvmem:* series: 12 for 2 VMs, 16 for 2 nodes, 7 per host"
  [h2]="51 kvmem:* series: 12 for 2 VMs, 32 for 4 nodes, 7 per host"
  [h3]="27 kvmem:* series: 12 for 2 VMs, 8 for 1 nodes, 7 per host"
)
count_of() {
  prom_query "$GLOBAL_PORT" "count($1) or vector(0)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])'
}
# The rate() records appear once two samples are in their window: wait for them.
series_line() {
  local h=$1 sel="__name__=~\"kvmem:.*\", instance=\"$1\""
  local total vm node vms nodes
  total=$(count_of "{$sel}")
  vm=$(count_of "{$sel, domain!=\"\"}")
  node=$(count_of "{$sel, node!=\"\", domain=\"\"}")
  vms=$(count_of "kvmem:vm_move:info{instance=\"$h\"}")
  nodes=$(count_of "kvmem:node_memory_used:ratio{instance=\"$h\"}")
  echo "$total kvmem:* series: $vm for $vms VMs, $node for $nodes nodes, $((total - vm - node)) per host"
}
for h in "${FLEET_HOSTS[@]}"; do
  for _ in $(seq 1 30); do
    line=$(series_line "$h")
    [[ "$line" == "${WANT_SERIES[$h]}" ]] && break
    sleep 1
  done
  echo "  $h (${FLEET_FIXTURE[$h]}): $line"
  assert_eq "$line" "${WANT_SERIES[$h]}" "federated series of $h (docs/fleet.md's table)"
done
pass "federated series per host as docs/fleet.md says"
