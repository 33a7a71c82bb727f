#!/usr/bin/env bash
# A libvirt that never answers, and no libvirt at all, against the real kvmem_exporter:
# every scrape returns within --libvirt.timeout + 1 s with kvmem_libvirt_up 0 and the host
# metrics intact; repeated scrapes add no threads, file descriptors or connections; the
# missing daemon is logged once; SIGTERM still exits cleanly with a call stuck in libvirt.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
command -v python3 >/dev/null || fail "python3 not installed; run scripts/setup.sh"
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"

sock="$E2E_TMP/silent.sock"
python3 - "$sock" "$E2E_TMP/accepted" <<'PY' &
import socket, sys
path, count_file = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
held = []
open(count_file, "w").write("0\n")
while True:  # accept, hold, never answer
    held.append(s.accept()[0])
    open(count_file, "w").write("%d\n" % len(held))
PY
E2E_PIDS+=($!)
for _ in $(seq 50); do [[ -S "$sock" ]] && break; sleep 0.05; done

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="qemu:///system?socket=$sock" --libvirt.timeout=1s
out="$E2E_TMP/hang.prom"
threads=() fds=()
for i in $(seq 1 8); do
  t=$(curl -sS --max-time 10 -o "$out" -w '%{time_total}' "http://127.0.0.1:$EXP_PORT/metrics")
  awk -v t="$t" 'BEGIN { exit !(t < 2.0) }' || fail "scrape $i took ${t}s with --libvirt.timeout=1s"
  assert_eq "$(metric_value "$out" kvmem_libvirt_up)" 0 "scrape $i: kvmem_libvirt_up"
  assert_eq "$(metric_value "$out" kvmem_libvirt_timeouts_total)" "$i" "scrape $i: timeouts"
  assert_eq "$(metric_value "$out" 'kvmem_scrape_collector_success{collector="numa"}')" 1 "scrape $i: host metrics"
  grep -q '^kvmem_node_memory_total_bytes{' "$out" || fail "scrape $i: host series missing"
  threads+=("$(awk '/^Threads:/ {print $2}' "/proc/$EXP_PID/status")")
  fds+=("$(ls "/proc/$EXP_PID/fd" | wc -l)")
done
assert_eq "${threads[-1]}" "${threads[0]}" "threads after 8 scrapes (${threads[*]})"
assert_eq "${fds[-1]}" "${fds[0]}" "open fds after 8 scrapes (${fds[*]})"
assert_eq "$(cat "$E2E_TMP/accepted")" 1 "connections to the silent daemon"
findings=$(promtool check metrics <"$out" 2>&1) || fail "promtool: $findings"
[[ -z "$findings" ]] || fail "promtool findings: $findings"
t0=$EPOCHREALTIME
stop_daemon "$EXP_PID"
pass "hung libvirt: 8 scrapes within budget, ${threads[0]} threads, ${fds[0]} fds, 1 connection; exit in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"

start_daemon NOLV "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="qemu:///system?socket=$E2E_TMP/absent.sock" --libvirt.timeout=1s
for i in $(seq 1 5); do
  t=$(curl -sS --max-time 10 -o "$out" -w '%{time_total}' "http://127.0.0.1:$NOLV_PORT/metrics")
  awk -v t="$t" 'BEGIN { exit !(t < 1.0) }' || fail "no-libvirt scrape $i took ${t}s"
  assert_eq "$(metric_value "$out" kvmem_libvirt_up)" 0 "no libvirt: up"
  assert_eq "$(metric_value "$out" 'kvmem_scrape_collector_success{collector="libvirt"}')" 1 "no libvirt is not a collector failure"
done
errors=$(metric_value "$out" kvmem_libvirt_connection_errors_total)
((errors >= 1 && errors <= 3)) || fail "connection errors $errors after 5 quick scrapes; back-off should hold it at 1-3"
warns=$(grep -c 'libvirt unavailable' "$NOLV_LOG" || true)
assert_eq "$warns" 1 "log lines about the missing libvirt"
grep -q 'collector failed' "$NOLV_LOG" && fail "a missing libvirt was logged as a collector failure"
stop_daemon "$NOLV_PID"
pass "no libvirt: instant scrapes, $errors connection errors (back-off), one warning"
