#!/usr/bin/env bash
# Runs the real kvmem_exporter on every fixture host and on this machine, scrapes it over
# HTTP, and checks: promtool finds nothing, every family is in docs/metrics.md with its type,
# gzip works, broken files fail only their collector and are logged once, SIGTERM exits cleanly.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
NOLV=$(no_libvirt_flags "$EXPORTER")
SRC=${KVMEM_SOURCE_DIR:?}
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"

check_scrape() {  # check_scrape LABEL FILE
  local label=$1 file=$2 findings
  findings=$(promtool check metrics <"$file" 2>&1) || fail "$label: promtool check metrics failed: $findings"
  [[ -z "$findings" ]] || fail "$label: promtool findings: $findings"
  local name type missing=0
  while read -r _ _ name type; do
    grep -qF "| \`$name\` | $type |" "$SRC/docs/metrics.md" || { echo "$label: $name ($type) missing from docs/metrics.md" >&2; missing=1; }
  done < <(grep '^# TYPE kvmem_' "$file")
  [[ $missing -eq 0 ]] || fail "$label: undocumented families"
}

hosts=("host:/proc:/sys")
for dir in "$SRC"/tests/fixtures/hosts/*/; do
  [[ -d "$dir/proc" ]] && hosts+=("$(basename "$dir"):$dir/proc:$dir/sys")
done

for entry in "${hosts[@]}"; do
  IFS=: read -r label procfs sysfs <<<"$entry"
  start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --path.procfs="$procfs" --path.sysfs="$sysfs" --collector.memory_blocks $NOLV
  out="$E2E_TMP/$label.prom"
  for _ in 1 2 3; do scrape "$EXP_PORT" >"$out"; done
  check_scrape "$label" "$out"
  series=$(grep -c '^kvmem_' "$out" || true)
  [[ $series -gt 0 ]] || fail "$label: empty scrape"
  if [[ $label != broken ]]; then
    bad=$(grep '^kvmem_scrape_collector_success' "$out" | grep -v ' 1$' || true)
    [[ -z "$bad" ]] || fail "$label: collectors failed: $bad"
  fi
  stop_daemon "$EXP_PID"
  pass "$label: $series series, promtool clean, all families documented"
done

# The broken host: each damaged file fails its own collector, names file and line, once.
start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --collector.memory_blocks $NOLV \
  --path.procfs="$SRC/tests/fixtures/hosts/broken/proc" --path.sysfs="$SRC/tests/fixtures/hosts/broken/sys"
for _ in 1 2 3 4 5; do scrape "$EXP_PORT" >"$E2E_TMP/broken.prom"; done
for c in numa hugepages ksm fragmentation pressure; do
  assert_eq "$(metric_value "$E2E_TMP/broken.prom" "kvmem_scrape_collector_success{collector=\"$c\"}")" 0 "broken: $c success"
done
assert_eq "$(metric_value "$E2E_TMP/broken.prom" 'kvmem_scrape_collector_success{collector="memory_blocks"}')" 1 "broken: memory_blocks success"
grep -q 'kvmem_node_memory_blocks{node="0",state="online"}' "$E2E_TMP/broken.prom" || fail "broken: memory_blocks series missing"
grep -q 'err="[^"]*/proc/meminfo:[0-9]*: ' "$EXP_LOG" || { cat "$EXP_LOG" >&2; fail "broken: meminfo error does not name file and line"; }
n=$(grep -c 'node0/numastat:1: value of numa_hit is not a number' "$EXP_LOG" || true)
assert_eq "$n" 1 "broken: numastat error logged once over 5 scrapes"
stop_daemon "$EXP_PID"
pass "broken host: failures isolated, named and logged once"

# gzip when asked for.
start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 $NOLV
enc=$(curl -sS -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$EXP_PORT/metrics" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
assert_eq "$enc" gzip "Content-Encoding"
body=$(curl -sS --compressed "http://127.0.0.1:$EXP_PORT/metrics")  # whole, then grep: no SIGPIPE race
grep -q '^kvmem_exporter_build_info' <<<"$body" || fail "gzip body does not decode"
stop_daemon "$EXP_PID"
pass "gzip"
echo "exporter_fixtures: all passed"
