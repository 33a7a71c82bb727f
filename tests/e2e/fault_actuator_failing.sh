#!/usr/bin/env bash
# Fault drill: an actuator that keeps failing. A fixture host whose node 1 is fragmented (no
# free order-9 block) but whose node1/compact cannot be written (it is a directory: EISDIR,
# which root cannot bypass the way it bypasses mode bits). With --apply the controller tries,
# fails, and backs off per node, doubling from --actuate.backoff=1s up to
# --actuate.backoff-max=4s; every failure is counted and recorded; the daemon stays up and exits 0.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
for tool in jq python3; do command -v "$tool" >/dev/null || fail "$tool not installed; run scripts/setup.sh"; done
host="$E2E_TMP/host"
compaction_drill "$host" "$E2E_TMP/policy.yaml"
mkdir "$host/sys/devices/system/node/node1/compact"
start_daemon CTL "$CTL" --apply --policy "$E2E_TMP/policy.yaml" --libvirt.uri= --path.procfs="$host/proc" \
  --path.sysfs="$host/sys" --actuate.backoff=1s --actuate.backoff-max=4s \
  --decision-log.file="$E2E_TMP/decisions.jsonl" --web.listen-address=127.0.0.1:0
t0=$SECONDS
# Real attempts (the write reached the file) at about 0, 1, 3, 7, 11 and 15 s: wait for the
# sixth (up to 40 s on a loaded machine), then 2 s more, short of the seventh 4 s later.
attempt_times() {
  jq -r 'select(.event == "outcome" and ((.error // "") | test("Is a directory"))) | .time' "$E2E_TMP/decisions.jsonl"
}
for _ in $(seq 1 400); do (($(attempt_times | wc -l) >= 6)) && break; sleep 0.1; done
sleep 2
kill -0 "$CTL_PID" || fail "controller died"
outcomes() { grep -c '"event":"outcome"' "$E2E_TMP/decisions.jsonl"; }
before=$(outcomes)
scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
after=$(outcomes)
stop_daemon "$CTL_PID"
elapsed=$((SECONDS - t0))

# Real attempts reach the sysfs file; the rest are refused by the back-off without a write.
jq -r 'select(.event == "outcome") | .error' "$E2E_TMP/decisions.jsonl" >"$E2E_TMP/errors.txt"
attempts=$(grep -c 'node1/compact: cannot open for writing: Is a directory' "$E2E_TMP/errors.txt" || true)
refused=$(grep -c '^backing off after' "$E2E_TMP/errors.txt" || true)
total=$(wc -l <"$E2E_TMP/errors.txt")
assert_eq "$((attempts + refused))" "$total" "every outcome is either a real attempt or a back-off refusal"
((attempts == 6)) || fail "$attempts real attempts in ${elapsed}s, want 6 (back-off 1, 2, 4, 4, 4 s): $(sort "$E2E_TMP/errors.txt" | uniq -c)"
# The gaps between them double from 1 s, then stay at 4 s: never early, and late by less than
# two seconds (the loop runs every 100 ms; the rest is load, or a slow fdatasync under ASan).
gaps=$(attempt_times | python3 -c '
import sys, datetime
t = [datetime.datetime.fromisoformat(l.strip().replace("Z", "+00:00")).timestamp() for l in sys.stdin]
print(" ".join(f"{b - a:.2f}" for a, b in zip(t, t[1:])))')
read -r -a gap <<<"$gaps"
want=(1 2 4 4 4)
for i in 0 1 2 3 4; do
  awk -v g="${gap[$i]}" -v w="${want[$i]}" 'BEGIN { exit !(g >= w - 0.15 && g < w + 2) }' ||
    fail "gap $((i + 1)) between real attempts ${gap[$i]} s, want ${want[$i]} s (all: $gaps)"
done
for n in 1 2 3 4 5; do
  next=$((n == 1 ? 1 : n == 2 ? 2 : 4))
  grep -qx "backing off after $n failures; next try in [1-$next] s" "$E2E_TMP/errors.txt" ||
    fail "no refusal after $n failures with a wait of at most $next s: $(sort -u "$E2E_TMP/errors.txt")"
done
grep -q 'backing off after [0-9]* failures; next try in [5-9] s' "$E2E_TMP/errors.txt" && fail "back-off went past --actuate.backoff-max"
# The metric is counted right after the outcome record is written: bracket it by the records.
counted=$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_actions_total{actuator="compaction",reason="compaction.fragmentation",outcome="failed"}')
((before - 1 <= counted && counted <= after)) || fail "failed actions counted $counted, records $before..$after around the scrape"
assert_eq "$(grep -c 'msg=action action="compact node 1".* outcome=failed' "$CTL_LOG")" "$total" "failed actions logged"
grep -q 'outcome="applied"' "$E2E_TMP/m.prom" && fail "an action counted as applied"
assert_eq "$(jq -r 'select(.event == "outcome") | .result' "$E2E_TMP/decisions.jsonl" | sort -u)" failed "decision log results"
pass "failing actuator: $attempts real attempts in ${elapsed}s, gaps $gaps s (back-off 1 -> 2 -> 4 s, capped), $total failures counted, no crash, exit 0"
echo "fault_actuator_failing: all passed"
