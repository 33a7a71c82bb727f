#!/usr/bin/env bash
# Series kvmem_exporter serves per host, per NUMA node and per VM, with
# --collector.libvirt.vm-detail=full and =fleet, and the series the fleet recording rules
# (kvmem-fleet-host) add per host; writes bench/cardinality/RESULTS.md (report.py says how
# each column is counted).
#
#   bench/cardinality/run.sh [OUT]          measure and write OUT (default bench/cardinality/RESULTS.md)
#   bench/cardinality/run.sh --check [FILE] check that FILE is as run.sh writes it; measures nothing
#
# KVMEM_EXPORTER names the binary (default build/exporter/kvmem_exporter). Needs curl, python3
# with yaml, and prometheus (scripts/setup.sh). Everything listens on 127.0.0.1 and is stopped
# by PID on exit (tests/e2e/lib.sh).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
if [[ "${1:-}" == --check ]]; then exec python3 "$here/report.py" check "${2:-$here/RESULTS.md}"; fi
out=$(realpath -m "${1:-$here/RESULTS.md}")
exporter=$(realpath -m "${KVMEM_EXPORTER:-$src/build/exporter/kvmem_exporter}")
export KVMEM_SOURCE_DIR=$src
source "$src/tests/e2e/lib.sh"
source "$src/tests/e2e/monitoring_lib.sh"
[[ -x "$exporter" ]] || fail "no $exporter; build first or set KVMEM_EXPORTER"
command -v prometheus >/dev/null || fail "prometheus not installed; run scripts/setup.sh"

python3 "$src/bench/libvirt/gen-host.py" 1000 "$E2E_TMP/host-1000.xml"
fixtures=$src/tests/fixtures
runs=()  # "label|host dir|libvirt node file"
for h in two-node four-node-sparse old-kernel; do runs+=("$h|$fixtures/hosts/$h|$fixtures/libvirt/host.xml"); done
runs+=("1000 domains|$fixtures/hosts/two-node|$E2E_TMP/host-1000.xml")

# Every run's exporter stays up until Prometheus has evaluated the rules on all of them.
measured=$E2E_TMP/measured.tsv targets=() i=0
for spec in "${runs[@]}"; do
  IFS='|' read -r label dir uri <<<"$spec"
  nodes=$(find "$dir/sys/devices/system/node" -maxdepth 1 -regex '.*/node[0-9]+' | wc -l)
  for detail in full fleet; do
    i=$((i + 1))
    start_daemon "EXP$i" "$exporter" --web.listen-address=127.0.0.1:0 --collector.libvirt.vm-detail="$detail" \
      --libvirt.uri="test://$uri" --path.procfs="$dir/proc" --path.sysfs="$dir/sys"
    port_var=EXP${i}_PORT
    scrape "${!port_var}" >"$E2E_TMP/$i.prom"
    domains=$(metric_value "$E2E_TMP/$i.prom" kvmem_libvirt_domains)
    read -r total host node_series vm_series _ max_vm < <(python3 "$here/report.py" count "$E2E_TMP/$i.prom")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t127.0.0.1:%s\n' "$label" "$nodes" "$domains" "$detail" "$total" \
      "$host" "$node_series" "$vm_series" "$max_vm" "${!port_var}" >>"$measured"
    targets+=("run$i=127.0.0.1:${!port_var}")
  done
done

# The fleet group alone, evaluated by a real Prometheus over every run's exporter.
python3 - "$src/alerts/kvmem.rules.yml" "$E2E_TMP/fleet.rules.yml" <<'EOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
groups = [g for g in doc["groups"] if g["name"] == "kvmem-fleet-host"]
assert len(groups) == 1, "no kvmem-fleet-host group"
yaml.safe_dump({"groups": groups}, open(sys.argv[2], "w"), sort_keys=False)
EOF
prometheus_config "$E2E_TMP/prometheus.yml" 1s "$E2E_TMP/fleet.rules.yml" "" "${targets[@]}"
start_prometheus "$E2E_TMP/prometheus.yml"
# per_instance EXPR: "instance count" lines.
per_instance() {
  prom_query "$PROM_PORT" "count by (instance) ($1)" |
    python3 -c 'import json, sys; [print(r["metric"]["instance"], r["value"][1]) for r in json.load(sys.stdin)["data"]["result"]]'
}
# Until every target has been scraped and the rules' counts stop changing.
prev="" cur=""
for _ in $(seq 60); do
  sleep 1
  cur=$(per_instance '{__name__=~"kvmem:.+"}' | sort)
  [[ $(prom_query "$PROM_PORT" 'count(up == 1)' | grep -o '"[0-9]*"]' | tr -dc 0-9) == "$i" ]] || continue
  [[ -n "$cur" && "$cur" == "$prev" ]] && break
  prev=$cur
done
[[ -n "$cur" && "$cur" == "$prev" ]] || fail "the fleet rules' series did not settle within 60 s"
per_instance '{__name__=~"kvmem:.+",uuid!=""}' | sort >"$E2E_TMP/rules_vm.txt"
while IFS=$'\t' read -r -a f; do
  rules=$(awk -v i="${f[9]}" '$1 == i { print $2 }' <<<"$cur")
  rules_vm=$(awk -v i="${f[9]}" '$1 == i { print $2 }' "$E2E_TMP/rules_vm.txt")
  printf '%s\t' "${f[@]:0:9}"
  printf '%s\t%s\n' "${rules:-0}" "${rules_vm:-0}"
done <"$measured" >"$E2E_TMP/rows.tsv"
stop_daemon "$PROM_PID"
for n in $(seq "$i"); do pid_var=EXP${n}_PID; stop_daemon "${!pid_var}"; done

{
  echo "date=$(date -u +%Y-%m-%d)"
  echo "kernel=$(uname -sr)"
  echo "commit=$(git -C "$src" describe --always --dirty --abbrev=12)"
  echo "exporter=$("$exporter" --version)"
  echo "prometheus=$(prometheus --version 2>&1 | head -n1)"
} >"$E2E_TMP/meta"
python3 "$here/report.py" write "$out" "$E2E_TMP/rows.tsv" "$E2E_TMP/meta"
python3 "$here/report.py" check "$out"
echo "wrote $out"
