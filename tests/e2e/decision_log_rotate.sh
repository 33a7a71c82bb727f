#!/usr/bin/env bash
# deploy/logrotate/kvmem-controller, run by the real logrotate against a controller that keeps
# writing decisions (dry-run, a fragmented fixture host: a compaction decision every few
# cycles): its postrotate (with `kill -HUP` for `systemctl reload`) makes the controller reopen
# the path. The rotated file holds only whole intent/outcome pairs, the new file fills, and a
# restart reads it back with nothing unfinished.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
for tool in logrotate jq; do command -v "$tool" >/dev/null || fail "$tool not installed; run scripts/setup.sh"; done
host="$E2E_TMP/host"
compaction_drill "$host" "$E2E_TMP/policy.yaml"
log="$E2E_TMP/decisions.jsonl"
start_daemon CTL "$CTL" --policy "$E2E_TMP/policy.yaml" --libvirt.uri= --path.procfs="$host/proc" \
  --path.sysfs="$host/sys" --decision-log.file="$log" --web.listen-address=127.0.0.1:0
# lines FILE N: waits up to 10 s for FILE to hold at least N lines.
lines() {
  local i
  for i in $(seq 1 100); do [[ -f "$1" && $(wc -l <"$1") -ge $2 ]] && return 0; sleep 0.1; done
  fail "$1 did not reach $2 lines within 10 s"
}
lines "$log" 4

conf="$E2E_TMP/logrotate.conf"
sed -e "s|^/var/lib/kvmem-controller/decisions.jsonl {|$log {|" \
    -e "s|systemctl reload kvmem-controller.service|kill -HUP $CTL_PID|" \
    "$SRC/deploy/logrotate/kvmem-controller" >"$conf"
grep -q "^$log {" "$conf" && grep -q "kill -HUP $CTL_PID" "$conf" || fail "could not adapt the logrotate file"
chmod 0644 "$conf"
logrotate -f -s "$E2E_TMP/logrotate.state" "$conf" 2>"$E2E_TMP/logrotate.err" ||
  fail "logrotate: $(cat "$E2E_TMP/logrotate.err")"
[[ -f "$log.1" ]] || fail "no $log.1 after rotation: $(ls "$E2E_TMP")"
lines "$log" 4
stop_daemon "$CTL_PID"

# Whole JSON lines only, and every intent's outcome in the same file.
for f in "$log.1" "$log"; do
  jq -e . "$f" >/dev/null || fail "$f holds a line that is not JSON"
  intents=$(jq -r 'select(.event == "intent") | .id' "$f" | sort)
  outcomes=$(jq -r 'select(.event == "outcome") | .id' "$f" | sort)
  [[ -n "$intents" ]] || fail "$f has no intent records"
  assert_eq "$outcomes" "$intents" "outcome ids in $(basename "$f")"
done
grep -q 'msg="decision log reopened"' "$CTL_LOG" || fail "reopen not logged: $(grep -i decision "$CTL_LOG" | tail -n 3)"
rotated=$(wc -l <"$log.1") fresh=$(wc -l <"$log")

start_daemon CTL "$CTL" --policy "$E2E_TMP/policy.yaml" --libvirt.uri= --path.procfs="$host/proc" \
  --path.sysfs="$host/sys" --decision-log.file="$log" --web.listen-address=127.0.0.1:0
scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_interrupted_actions_total)" 0 "unfinished actions after the restart"
stop_daemon "$CTL_PID"
pass "logrotate's postrotate reopens the decision log: $rotated lines rotated, $fresh in the new file, all in whole pairs"
echo "decision_log_rotate: all passed"
