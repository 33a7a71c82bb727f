#!/usr/bin/env bash
# Fault drill: the policy is reloaded (SIGHUP) with errors. On a fixture host (deterministic
# node bands) the controller starts with a policy that puts both nodes into reclaim; four broken
# files (YAML syntax, an unknown key, a bad value, a deleted file) are each rejected with a
# message naming the file and what is wrong, counted, and the old policy stays in force (bands
# unchanged, daemon alive); then a fixed file is picked up (both nodes in release).
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
host="$E2E_TMP/host"
cp -r "$SRC/tests/fixtures/hosts/two-node" "$host"
policy="$E2E_TMP/policy.yaml"
reclaim=$'interval: 200ms\nballoon:\n  reclaim_below: 99%\n  release_above: 99.5%\ncompaction:\n  enabled: false\n'
printf '%s' "$reclaim" >"$policy"
start_daemon CTL "$CTL" --policy "$policy" --libvirt.uri= --path.procfs="$host/proc" --path.sysfs="$host/sys" \
  --web.listen-address=127.0.0.1:0

# bands NODE STATE: waits up to 5 s for kvmem_controller_node_state{node,state} 1 on both nodes.
bands() {
  local i
  for i in $(seq 1 50); do
    scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
    if [[ "$(metric_value "$E2E_TMP/m.prom" "kvmem_controller_node_state{node=\"0\",state=\"$1\"}")" == 1 &&
          "$(metric_value "$E2E_TMP/m.prom" "kvmem_controller_node_state{node=\"1\",state=\"$1\"}")" == 1 ]]; then
      return 0
    fi
    sleep 0.1
  done
  fail "nodes not in $1 within 5 s: $(grep node_state "$E2E_TMP/m.prom" | tr '\n' ' ')"
}
# reload N: SIGHUP, then wait for the Nth failed reload to be counted.
reload_fails() {
  kill -HUP "$CTL_PID"
  local i
  for i in $(seq 1 50); do
    scrape "$CTL_PORT" >"$E2E_TMP/m.prom"
    [[ "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_policy_reloads_total{result="error"}')" == "$1" ]] && return 0
    sleep 0.1
  done
  fail "failed reload $1 not counted within 5 s"
}
bands reclaim

printf 'interval: 200ms\nballoon: [reclaim_below: 1%%\n' >"$policy"
reload_fails 1
grep -q "policy reload failed; keeping the previous policy.*$policy" "$CTL_LOG" || fail "YAML error not logged with the file name"
printf 'interval: 200ms\nballon:\n  reclaim_below: 1%%\n' >"$policy"
reload_fails 2
grep -q 'unknown key ballon at line 2, column 1' "$CTL_LOG" || fail "unknown key not named: $(tail -n 2 "$CTL_LOG")"
printf 'interval: 200ms\nballoon:\n  reclaim_below: lots\n' >"$policy"
reload_fails 3
grep -q 'balloon.reclaim_below' <(grep 'policy reload failed' "$CTL_LOG" | tail -n 1) || fail "bad value not named: $(tail -n 1 "$CTL_LOG")"
rm "$policy"
reload_fails 4
bands reclaim
kill -0 "$CTL_PID" || fail "controller died on a broken reload"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_policy_reloads_total{result="ok"}')" 0 "successful reloads so far"
assert_eq "$(grep -c 'policy reload failed; keeping the previous policy' "$CTL_LOG")" 4 "reload failures logged"
pass "4 broken reloads (syntax, unknown key, bad value, missing file): each rejected, counted and named; old policy in force"

printf 'interval: 200ms\nballoon:\n  reclaim_below: 1%%\n  release_above: 2%%\ncompaction:\n  enabled: false\n' >"$policy"
kill -HUP "$CTL_PID"
bands release
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_policy_reloads_total{result="ok"}')" 1 "successful reloads"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_policy_reloads_total{result="error"}')" 4 "failed reloads"
grep -q 'msg="policy reloaded"' "$CTL_LOG" || fail "reload not logged"
stop_daemon "$CTL_PID"
pass "fixed file picked up on the next SIGHUP: both nodes in release; SIGTERM exits 0"
echo "fault_policy_reload: all passed"
