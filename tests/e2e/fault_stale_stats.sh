#!/usr/bin/env bash
# Fault drill: a real guest whose balloon stats stop refreshing. The TCG guest of
# tests/e2e/vm runs with a 1 s stats period; kvmem_controller --apply with a policy that puts
# node 0 into reclaim shrinks it while the stats are fresh. Then the stats period is set to 0
# (virsh dommemstat --period 0 --live): QEMU keeps the last sample and its last-update stops.
# Within stale_after the controller stops shrinking (skip "stats N s old (stale_after 3 s)"),
# the balloon holds, and the exporter no longer calls the stats ok. Setting the period back to
# 1 s resumes shrinking.
set -euo pipefail
SRC=${KVMEM_SOURCE_DIR:?}
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then exec "$SRC/tests/e2e/vm/with-guest.sh" "$0" "$@"; fi
source "$SRC/tests/e2e/lib.sh"
CTL=${KVMEM_CONTROLLER:?} EXPORTER=${KVMEM_EXPORTER:?}
U=$KVMEM_TEST_URI D=$KVMEM_TEST_DOMAIN
current_kib() { virsh -c "$U" domstats --balloon "$D" | awk -F= '/balloon.current=/{print $2}'; }
applied() {
  scrape "$CTL_PORT" >"$E2E_TMP/c.prom"
  local v
  v=$(SERIES='kvmem_controller_actions_total{actuator="balloon",reason="balloon.reclaim",outcome="applied"}' \
    awk 'index($0, ENVIRON["SERIES"] " ") == 1 { print $NF }' "$E2E_TMP/c.prom")
  echo "${v:-0}"
}
cat >"$E2E_TMP/policy.yaml" <<'YAML'
interval: 500ms
stale_after: 3s
balloon:
  reclaim_below: 1000TiB
  release_above: 1001TiB
  max_step: 16MiB
  min_step: 4MiB
  min_guest: 300MiB
  min_free_ratio: 0.05
  cooldown: 500ms
virtio_mem:
  enabled: false
compaction:
  enabled: false
ksm:
  enabled: false  # this test is not about KSM: the host's knobs stay untouched
YAML
start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="$KVMEM_TEST_URI_RO"
start_daemon CTL "$CTL" --apply --policy "$E2E_TMP/policy.yaml" --libvirt.uri="$U" --log.level=debug \
  --web.listen-address=127.0.0.1:0
for _ in $(seq 1 40); do (($(applied) >= 2)) && break; sleep 0.5; done
(($(applied) >= 2)) || { tail -n 20 "$CTL_LOG" >&2; fail "no shrink while the stats were fresh"; }
pass "fresh stats: $(applied) shrinks applied, balloon at $(current_kib) KiB"

virsh -q -c "$U" dommemstat "$D" --period 0 --live || fail "cannot set the stats period to 0"
t_freeze=$SECONDS
sleep 5  # stale_after 3 s, plus the in-flight cycle and cooldown
frozen_applied=$(applied) frozen_kib=$(current_kib)
sleep 5
assert_eq "$(applied)" "$frozen_applied" "shrinks applied while the stats are frozen"
assert_eq "$(current_kib)" "$frozen_kib" "balloon while the stats are frozen (KiB)"
grep -q "skip what=\"vm $D: balloon.reclaim: stats [0-9.]* s old (stale_after 3 s)\"" "$CTL_LOG" ||
  fail "no 'stats ... old' skip in the log: $(grep 'msg=skip' "$CTL_LOG" | tail -n 3)"
skips=$(metric_value "$E2E_TMP/c.prom" 'kvmem_controller_skips_total{reason="balloon.reclaim"}')
((${skips%.*} >= 10)) || fail "expected >= 10 reclaim skips in 10 s at 500 ms, got $skips"
# The exporter calls stats stale after 3 periods and at least 10 s: poll until 15 s after the freeze.
uuid=$(virsh -q -c "$U" domuuid "$D")
ok_series="kvmem_domain_guest_stats_state{domain=\"$D\",uuid=\"$uuid\",state=\"ok\"}"
while :; do
  scrape "$EXP_PORT" >"$E2E_TMP/e.prom"
  [[ "$(metric_value "$E2E_TMP/e.prom" "$ok_series")" == 0 ]] && break
  ((SECONDS - t_freeze < 15)) || fail "exporter still calls the frozen stats ok after $((SECONDS - t_freeze)) s"
  sleep 0.5
done
pass "stats frozen for $((SECONDS - t_freeze)) s: no shrink for 5 s ($frozen_applied applied, balloon $frozen_kib KiB held), $skips skips 'stats N s old'"

virsh -q -c "$U" dommemstat "$D" --period 1 --live || fail "cannot set the stats period back"
for _ in $(seq 1 20); do (($(applied) > frozen_applied)) && break; sleep 0.5; done
(($(applied) > frozen_applied)) || fail "shrinking did not resume with fresh stats"
resumed=$(applied)
stop_daemon "$CTL_PID"
stop_daemon "$EXP_PID"
pass "stats fresh again: shrinking resumed ($resumed applied); SIGTERM exits 0"
echo "fault_stale_stats: all passed"
