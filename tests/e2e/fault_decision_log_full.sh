#!/usr/bin/env bash
# Fault drill: the decision log's disk fills up. The log lives on a 256 KiB tmpfs; the
# controller (dry-run, a fragmented fixture host: a compaction decision every few cycles, two
# records each) keeps writing while a filler file takes every free block. Then: the loop goes
# on (cycles keep counting), the failure is logged once and counted, the gauge reads 0; after the
# filler is removed writing resumes by itself (logged once) and the file holds only whole JSON
# lines: a restart reads every record back, none malformed.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
command -v jq >/dev/null || fail "jq not installed; run scripts/setup.sh"
[[ $(id -u) -eq 0 ]] || { echo "skip: mounting a tmpfs needs root"; exit 77; }
mnt="$E2E_TMP/small"
mkdir "$mnt"
mount -t tmpfs -o size=256k,mode=0755 kvmem-e2e-full "$mnt" || { echo "skip: cannot mount a tmpfs here"; exit 77; }
# Daemons first (one may hold the log open), then the mount, then lib.sh's cleanup.
unmount() {
  local p
  for p in "${E2E_PIDS[@]:-}"; do [[ -n "$p" ]] && { kill -KILL "$p" 2>/dev/null || true; }; done
  sleep 0.2
  umount "$mnt" || umount -l "$mnt" || true
  cleanup
}
trap unmount EXIT

host="$E2E_TMP/host"
compaction_drill "$host" "$E2E_TMP/policy.yaml"
log="$mnt/decisions.jsonl"
start() {
  start_daemon CTL "$CTL" --policy "$E2E_TMP/policy.yaml" --libvirt.uri= --path.procfs="$host/proc" \
    --path.sysfs="$host/sys" --decision-log.file="$log" --web.listen-address=127.0.0.1:0
}
m() { scrape "$CTL_PORT" >"$E2E_TMP/m.prom"; metric_value "$E2E_TMP/m.prom" "$1"; }
# until METRIC VALUE: waits up to 10 s.
until_metric() {
  local i
  for i in $(seq 1 100); do [[ "$(m "$1")" == "$2" ]] && return 0; sleep 0.1; done
  fail "$1 did not reach $2 within 10 s (last $(m "$1"))"
}
start
until_metric kvmem_controller_decision_log_writable 1
wait_until 60 "two decision log records" metric_at_least "$CTL_PORT" kvmem_controller_decision_log_records_total 2
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null || true  # until ENOSPC
until_metric kvmem_controller_decision_log_writable 0
c1=$(m kvmem_controller_cycles_total) f1=$(m kvmem_controller_decision_log_write_failures_total)
wait_until 60 "10 more cycles on the full disk" metric_at_least "$CTL_PORT" kvmem_controller_cycles_total $((${c1%.*} + 10))
wait_until 60 "a lost record counted" metric_at_least "$CTL_PORT" kvmem_controller_decision_log_write_failures_total $((${f1%.*} + 1))
c2=$(m kvmem_controller_cycles_total) f2=$(m kvmem_controller_decision_log_write_failures_total)
assert_eq "$(m kvmem_controller_decision_log_writable)" 0 "writable while full"
assert_eq "$(grep -c 'cannot write the decision log' "$CTL_LOG")" 1 "failure log lines (once per streak)"
grep -q 'cannot write the decision log.*err="write: No space left on device' "$CTL_LOG" ||
  grep -q 'cannot write the decision log.*err="short write' "$CTL_LOG" || fail "ENOSPC not named: $(grep 'decision log' "$CTL_LOG")"
pass "disk full: loop went on ($c1 -> $c2 cycles), $f2 lost records counted, logged once"

rm "$mnt/filler"
until_metric kvmem_controller_decision_log_writable 1
r1=$(m kvmem_controller_decision_log_records_total) f3=$(m kvmem_controller_decision_log_write_failures_total)
wait_until 60 "writing resumed (records above $r1)" metric_at_least "$CTL_PORT" kvmem_controller_decision_log_records_total $((${r1%.*} + 1))
r2=$(m kvmem_controller_decision_log_records_total)
assert_eq "$(m kvmem_controller_decision_log_write_failures_total)" "$f3" "failures after space returned"
assert_eq "$(grep -c 'decision log writable again' "$CTL_LOG")" 1 "resume log lines"
stop_daemon "$CTL_PID"
lines=$(wc -l <"$log")
start
grep -q "msg=\"decision log read back\".* records=$lines interrupted_actions=0" "$CTL_LOG" ||
  fail "restart did not read back all $lines lines cleanly: $(grep 'decision log' "$CTL_LOG")"
grep -q 'not decision records' "$CTL_LOG" && fail "torn lines in the decision log"
stop_daemon "$CTL_PID"
jq -e . "$log" >/dev/null || fail "the decision log is not all JSON"
pass "space freed: writing resumed by itself, $lines whole JSON lines, 0 malformed on read-back"
echo "fault_decision_log_full: all passed"
