#!/usr/bin/env bash
# Fault drill: SIGTERM during an action, and restarts that read the decision log back.
# node1/compact of a fragmented fixture host is a FIFO, so the compaction write blocks until
# the test opens it for reading: a real action of controllable length.
#  1. SIGTERM while the write blocks, released 2 s later: the controller waits for it, records
#     its outcome (applied), starts nothing more and exits 0.
#  2. Restart: reads the log back, 0 interrupted. A write nobody releases + SIGTERM: the action
#     times out after --actuate.timeout=2s, its outcome (failed: timed out) is recorded, exit 0.
#  3. Restart, SIGKILL during the action: the log ends with an intent.
#  4. Restart: the unfinished action is logged and counted (interrupted_actions_total 1), closed
#     with result "unknown"; the controller decides again from what it observes.
#  5. Restart: nothing unfinished any more.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
command -v jq >/dev/null || fail "jq not installed; run scripts/setup.sh"
host="$E2E_TMP/host"
compaction_drill "$host" "$E2E_TMP/policy.yaml"
fifo="$host/sys/devices/system/node/node1/compact"
mkfifo "$fifo"
log="$E2E_TMP/decisions.jsonl"
start() {  # [TIMEOUT]
  start_daemon CTL "$CTL" --apply --policy "$E2E_TMP/policy.yaml" --libvirt.uri= --path.procfs="$host/proc" \
    --path.sysfs="$host/sys" --actuate.timeout="${1:-2s}" --decision-log.file="$log" --web.listen-address=127.0.0.1:0
}
intents() { jq -r 'select(.event == "intent") | .id' "$log" 2>/dev/null | wc -l; }
# wait_intents N: until the log holds N intents (5 s).
wait_intents() {
  local i
  for i in $(seq 1 100); do (($(intents) >= $1)) && return 0; sleep 0.05; done
  fail "no intent number $1 in the decision log within 5 s"
}
# stop_timed PID: SIGTERM, wait for exit 0; sets took to the seconds it took. (Not in a
# subshell: wait needs the daemon to be our child.)
stop_timed() {
  local t0=$EPOCHREALTIME rc=0
  kill -TERM "$1"
  timeout 10 tail -s 0.02 --pid="$1" -f /dev/null || fail "no exit within 10 s of SIGTERM"
  wait "$1" || rc=$?
  assert_eq "$rc" 0 "exit code after SIGTERM"
  took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}
last() { tail -n 1 "$log" | jq -r "$1"; }

# 1. SIGTERM during an action that completes 2 s later (within --actuate.timeout=5s).
start 5s
wait_intents 1
(sleep 2; timeout 10 cat "$fifo" >"$E2E_TMP/written") &
reader=$!
stop_timed "$CTL_PID"
wait "$reader"
assert_eq "$(cat "$E2E_TMP/written")" 1 "what the compaction wrote"
awk -v t="$took" 'BEGIN { exit !(t >= 1.8 && t < 4.5) }' || fail "exit took ${took}s; want after the 2 s action, well before the 5 s timeout"
assert_eq "$(intents)" 1 "intents: nothing started after SIGTERM"
assert_eq "$(wc -l <"$log")" 2 "records: one intent, one outcome"
assert_eq "$(last .event)/$(last .result)/$(last .action)" "outcome/applied/compact node 1" "last record"
assert_eq "$(last .id)" "$(head -n 1 "$log" | jq -r .id)" "outcome id matches the intent"
grep -q 'msg="shutting down" signal=SIGTERM' "$CTL_LOG" || fail "shutdown not logged"
pass "SIGTERM during a 2 s action: waited ${took}s for it, recorded 'applied', started nothing more, exit 0"

# 2. Restart; a write nobody releases is timed out at shutdown.
start
grep -q 'msg="decision log read back".*records=2 interrupted_actions=0' "$CTL_LOG" || fail "read-back not logged: $(cat "$CTL_LOG")"
scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_interrupted_actions_total)" 0 "interrupted after a clean stop"
wait_intents 2
sleep 0.3
stop_timed "$CTL_PID"
awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 4.5) }' || fail "exit took ${took}s with --actuate.timeout=2s (0.3 s into the action)"
assert_eq "$(last .event)/$(last .result)" "outcome/failed" "last record after a hung action"
[[ "$(last .error)" == "timed out after 2 s;"* ]] || fail "outcome error: $(last .error)"
grep -q 'exiting with an action still running past --actuate.timeout' "$CTL_LOG" || fail "stuck exit not logged"
assert_eq "$(intents)" 2 "intents after the second run"
pass "hung action at SIGTERM: timed out after 2 s, recorded as failed, exit 0 in ${took}s"

# 3. SIGKILL mid-action.
start
wait_intents 3
kill -KILL "$CTL_PID"
wait "$CTL_PID" 2>/dev/null || true
assert_eq "$(last .event)" intent "last record after SIGKILL"
killed_id=$(last .id)

# 4. The restart reports it, counts it, closes it, and decides again from the observed host.
start
grep -q "the previous run ended during an action.*action=\"compact node 1\".*id=$killed_id" "$CTL_LOG" ||
  fail "interrupted action not reported: $(cat "$CTL_LOG")"
scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_interrupted_actions_total)" 1 "interrupted actions counted"
assert_eq "$(jq -r "select(.id == \"$killed_id\" and .event == \"outcome\") | .result" "$log")" unknown "closing record"
wait_intents 4
stop_timed "$CTL_PID"

# 5. Nothing left open.
start
grep -q 'msg="decision log read back".* interrupted_actions=0' "$CTL_LOG" || fail "read-back after the report: $(cat "$CTL_LOG")"
scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_interrupted_actions_total)" 0 "interrupted after it was reported"
wait_intents 5
stop_timed "$CTL_PID"
jq -e . "$log" >/dev/null || fail "the decision log is not all JSON"
assert_eq "$(jq -r 'select(.event == "intent")' "$log" | jq -s length)" 5 "intents in total"
assert_eq "$(jq -r 'select(.event == "outcome")' "$log" | jq -s length)" 5 "outcomes in total (applied, 3 timed out, 1 unknown)"
pass "SIGKILL mid-action: the restart reported and counted 1 interrupted action, closed it as unknown, acted on fresh observations; the next restart found none"
echo "fault_sigterm_action: all passed"
