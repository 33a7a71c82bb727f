#!/usr/bin/env bash
# Fault drill: /proc and /sys files vanish, come back truncated, and reappear while the
# exporter is scraped without pause. A copy of the two-node fixture host is served; a mutator
# deletes, truncates and restores files (and node1/ as a whole) in a tight loop while 120
# scrapes run back to back. Every scrape must be HTTP 200 and clean under
# `promtool check metrics`; the exporter never crashes. Then, deterministically: a truncated
# meminfo fails its collector (success 0, one log line naming the file), a deleted optional
# file is "no data" (success 1), and restoring the files brings every collector back (logged).
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} EXPORTER=${KVMEM_EXPORTER:?}
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"
pristine="$SRC/tests/fixtures/hosts/two-node"
host="$E2E_TMP/host"
cp -r "$pristine" "$host"
start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --path.procfs="$host/proc" --path.sysfs="$host/sys" \
  $(no_libvirt_flags "$EXPORTER") --collector.memory_blocks

files=(proc/meminfo proc/vmstat proc/buddyinfo proc/pressure/memory proc/swaps proc/sys/vm/swappiness
  sys/devices/system/node/node0/meminfo sys/devices/system/node/node0/numastat sys/devices/system/node/node1/vmstat
  sys/kernel/mm/ksm/pages_shared sys/kernel/mm/transparent_hugepage/enabled
  sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages)
for f in "${files[@]}"; do [[ -f "$host/$f" ]] || fail "fixture lacks $f"; done

# The mutator: bounded by time (60 s) and by the stop file. A step may fail (node1/ is gone).
(
  set +e
  end=$((SECONDS + 60)) i=0
  while ((SECONDS < end)) && [[ ! -e "$E2E_TMP/stop" ]]; do
    f=${files[$((i % ${#files[@]}))]}
    case $((i % 4)) in
      0) rm -f "$host/$f" ;;
      1) head -c "$(($(stat -c %s "$pristine/$f") / 2))" "$pristine/$f" >"$host/$f.tmp" && mv "$host/$f.tmp" "$host/$f" ;;
      2) : >"$host/$f" ;;
      3) cp "$pristine/$f" "$host/$f" ;;
    esac 2>/dev/null
    if ((i % 50 == 25)); then rm -rf "$host/sys/devices/system/node/node1"; fi
    if ((i % 50 == 40)); then cp -r "$pristine/sys/devices/system/node/node1" "$host/sys/devices/system/node/"; fi
    i=$((i + 1))
  done
  echo "$i" >"$E2E_TMP/mutations"
) &
mutator=$!
E2E_PIDS+=("$mutator")

scrapes=0 failing=0
t0=$EPOCHREALTIME
for n in $(seq 1 120); do
  code=$(curl -sS --max-time 10 -o "$E2E_TMP/s.prom" -w '%{http_code}' "http://127.0.0.1:$EXP_PORT/metrics") || fail "scrape $n: curl failed"
  assert_eq "$code" 200 "scrape $n: HTTP status"
  findings=$(promtool check metrics <"$E2E_TMP/s.prom" 2>&1) || fail "scrape $n: promtool: $findings"
  [[ -z "$findings" ]] || fail "scrape $n: promtool findings: $findings"
  grep -q '^kvmem_exporter_build_info{' "$E2E_TMP/s.prom" || fail "scrape $n: incomplete body"
  grep -q '^kvmem_scrape_collector_success{.*} 0$' "$E2E_TMP/s.prom" && failing=$((failing + 1))
  scrapes=$n
done
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
touch "$E2E_TMP/stop"
wait "$mutator"
kill -0 "$EXP_PID" || fail "exporter died"
((failing > 0)) || fail "no scrape saw a damaged file in $scrapes scrapes; the drill did not bite"
logged=$(grep -c 'msg="collector failed"' "$EXP_LOG" || true)
((logged > 0)) || fail "collector failures were not logged"
pass "$scrapes scrapes in ${secs}s during $(cat "$E2E_TMP/mutations") mutations: all 200 and promtool-clean; $failing saw a failing collector ($logged distinct failures logged)"

rm -rf "$host" && cp -r "$pristine" "$host"
scrape "$EXP_PORT" >"$E2E_TMP/ok.prom"
assert_eq "$(grep -c '^kvmem_scrape_collector_success{.*} 0$' "$E2E_TMP/ok.prom")" 0 "failing collectors after restoring the host"
grep -q 'msg="collector recovered"' "$EXP_LOG" || fail "recovery not logged"
before=$(grep -c 'msg="collector failed"' "$EXP_LOG")
head -c 100 "$pristine/proc/meminfo" >"$host/proc/meminfo"
for i in 1 2 3; do scrape "$EXP_PORT" >"$E2E_TMP/bad.prom"; done
grep '^kvmem_scrape_collector_success{.*} 0$' "$E2E_TMP/bad.prom" >"$E2E_TMP/failing.txt" || true
[[ -s "$E2E_TMP/failing.txt" ]] || fail "a truncated meminfo failed no collector"
assert_eq "$(($(grep -c 'msg="collector failed"' "$EXP_LOG") - before))" "$(wc -l <"$E2E_TMP/failing.txt")" \
  "log lines for 3 scrapes of a truncated meminfo (once per collector)"
grep 'msg="collector failed"' "$EXP_LOG" | tail -n 1 | grep -q "$host/proc/meminfo" || fail "failure does not name the file"
grep -q '^kvmem_node_memory_total_bytes{node="1"}' "$E2E_TMP/bad.prom" || fail "per-node metrics lost with meminfo"
cp "$pristine/proc/meminfo" "$host/proc/meminfo"
rm "$host/sys/kernel/mm/ksm/pages_shared"
scrape "$EXP_PORT" >"$E2E_TMP/noksm.prom"
assert_eq "$(grep -c '^kvmem_scrape_collector_success{.*} 0$' "$E2E_TMP/noksm.prom")" 0 "failing collectors with a missing KSM file"
stop_daemon "$EXP_PID"
pass "truncated meminfo fails $(wc -l <"$E2E_TMP/failing.txt") collector(s), logged once with the file; a missing file is no data; SIGTERM exits 0"
echo "fault_vanishing_files: all passed"
