#!/usr/bin/env bash
# kvmem_controller end to end without a real guest: usage errors exit 2 naming key, line and
# column; --once prints a plan; the daemon in dry-run against libvirt's test driver puts this
# host's node 0 into reclaim (thresholds far above any real host, so the band does not depend on
# how much memory this machine has free) yet never shrinks the test domain (its guest stats carry no
# timestamp, so they count as stale), and /plan says why; SIGHUP with a broken policy keeps the old one; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"
CTL=${KVMEM_CONTROLLER:?}

rc=0; err=$("$CTL" --bogus 2>&1) || rc=$?
assert_eq "$rc" 2 "unknown flag"
printf 'balloon:\n  reclaim_belw: 10%%\n' >"$E2E_TMP/typo.yaml"
rc=0; err=$("$CTL" --policy "$E2E_TMP/typo.yaml" --once 2>&1) || rc=$?
assert_eq "$rc" 2 "policy with an unknown key"
grep -q 'unknown key balloon.reclaim_belw at line 2, column 3' <<<"$err" || fail "policy error message: $err"
rc=0; err=$("$CTL" --policy /nonexistent.yaml --once 2>&1) || rc=$?
assert_eq "$rc" 2 "missing policy file"
pass "usage and policy errors exit 2 and name the key, line and column"

"$CTL" --print-policy | grep -q '^stale_after: 30s$' || fail "--print-policy"
"$CTL" --once --libvirt.uri= >"$E2E_TMP/once.txt" 2>"$E2E_TMP/once.log" || fail "--once failed: $(cat "$E2E_TMP/once.log")"
grep -q '^plan: ' "$E2E_TMP/once.txt" || fail "--once printed no plan: $(cat "$E2E_TMP/once.txt")"
grep -qE '^  node 0 (reclaim|steady|release)' "$E2E_TMP/once.txt" || fail "--once shows no band for node 0"
pass "--print-policy and --once"

cat >"$E2E_TMP/reclaim.yaml" <<'YAML'
interval: 500ms
balloon:
  reclaim_below: 1000TiB
  release_above: 1001TiB
  max_step: 256MiB
  cooldown: 1s
YAML
start_daemon CTL "$CTL" --policy "$E2E_TMP/reclaim.yaml" --libvirt.uri=test:///default --web.listen-address=127.0.0.1:0
settled() {
  metric_at_least "$CTL_PORT" kvmem_controller_cycles_total 4 &&
    metric_at_least "$CTL_PORT" 'kvmem_controller_skips_total{reason="balloon.reclaim"}' 2
}
wait_until 60 "4 cycles and 2 reclaim skips of the stale test domain" settled
scrape "$CTL_PORT" >"$E2E_TMP/ctl.prom"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_node_state{node="0",state="reclaim"}')" 1 "node 0 band"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" kvmem_controller_dry_run)" 1 "dry-run"
grep -q '^kvmem_controller_actions_total{actuator="balloon"' "$E2E_TMP/ctl.prom" && fail "shrank a VM whose guest stats have no timestamp"
skips=$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_skips_total{reason="balloon.reclaim"}')
[[ ${skips%.*} -ge 2 ]] || fail "expected reclaim skips for the stale test domain, got $skips"
cycles=$(metric_value "$E2E_TMP/ctl.prom" kvmem_controller_cycles_total)
[[ ${cycles%.*} -ge 4 ]] || fail "expected >= 4 cycles, got $cycles"
promtool check metrics <"$E2E_TMP/ctl.prom" || fail "promtool findings on controller metrics"
pass "dry-run daemon: node 0 in reclaim, stale test domain never shrunk ($skips skips in $cycles cycles)"
curl -fsS "http://127.0.0.1:$CTL_PORT/plan" >"$E2E_TMP/plan.txt" || fail "GET /plan"
head -n 1 "$E2E_TMP/plan.txt" | grep -qE '^cycle [0-9]+ at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z \(dry-run\)$' ||
  fail "/plan header: $(head -n 1 "$E2E_TMP/plan.txt")"
# Line by line only where the host's shape (how many nodes) cannot change it.
sed -n 2p "$E2E_TMP/plan.txt" | grep -qE '^plan: 0 actions, [0-9]+ skips$' || fail "/plan summary: $(sed -n 2p "$E2E_TMP/plan.txt")"
grep -qE '^  node 0 reclaim(, stage [a-z]+)?$' "$E2E_TMP/plan.txt" || fail "/plan lacks node 0's band"
grep -qE '^  skip vm test: balloon.reclaim: stats [0-9.]+ s old \(stale_after 30 s\)$' "$E2E_TMP/plan.txt" ||
  fail "/plan lacks the stale-stats skip: $(cat "$E2E_TMP/plan.txt")"
landing=$(curl -fsS "http://127.0.0.1:$CTL_PORT/")
grep -q 'href="/plan"' <<<"$landing" || fail "landing page does not link /plan"
pass "/plan shows the latest cycle's plan with every skip and its reason"

printf 'balloon:\n  max_step: lots\n' >"$E2E_TMP/reclaim.yaml"
kill -HUP "$CTL_PID"
wait_until 30 "the bad reload counted" metric_at_least "$CTL_PORT" 'kvmem_controller_policy_reloads_total{result="error"}' 1
kill -0 "$CTL_PID" || fail "controller died on a bad reload"
scrape "$CTL_PORT" >"$E2E_TMP/ctl2.prom"
assert_eq "$(metric_value "$E2E_TMP/ctl2.prom" 'kvmem_controller_policy_reloads_total{result="error"}')" 1 "failed reloads"
assert_eq "$(metric_value "$E2E_TMP/ctl2.prom" 'kvmem_controller_node_state{node="0",state="reclaim"}')" 1 "old policy still in force"
grep -q 'policy reload failed; keeping the previous policy' "$CTL_LOG" || fail "reload failure not logged"
stop_daemon "$CTL_PID"
pass "bad policy on SIGHUP keeps the old one; SIGTERM exits 0"
echo "controller_dry_run: all passed"
