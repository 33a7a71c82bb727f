#!/usr/bin/env bash
# kvmem_controller --apply against a real TCG QEMU guest behind a private libvirtd
# (tests/e2e/vm). Phase 1: a policy whose reclaim_below sits above this host's free memory
# puts node 0 into reclaim; the balloon must drop in steps of max_step, stop at the floor
# (min_guest), and the guest must stay alive. Phase 2 (SIGHUP reload): the node is in
# release; a memory hog puts the guest under pressure; the controller grows the balloon back
# to its maximum and then, still under pressure, raises the virtio-mem requested size.
set -euo pipefail
SRC=${KVMEM_SOURCE_DIR:?}
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then exec "$SRC/tests/e2e/vm/with-guest.sh" "$0" "$@"; fi
source "$SRC/tests/e2e/lib.sh"
CTL=${KVMEM_CONTROLLER:?}
U=$KVMEM_TEST_URI D=$KVMEM_TEST_DOMAIN
current_kib() { virsh -c "$U" domstats --balloon "$D" | awk -F= '/balloon.current=/{print $2}'; }
requested_kib() { virsh -c "$U" dumpxml "$D" | awk -F'[<>]' '/<requested/{print $3; exit}'; }
alive() { [[ "$(virsh -c "$U" domstate "$D" | head -n1)" == running ]]; }
# The balloon alone: `actual` counts base RAM only, without virtio-mem (vm/README.md).
actual_kib() { virsh -c "$U" dommemstat "$D" | awk '$1 == "actual" {print $2}'; }

cat >"$E2E_TMP/reclaim.yaml" <<'YAML'
interval: 1s
stale_after: 15s
balloon:
  reclaim_below: 1000TiB
  release_above: 1001TiB
  max_step: 64MiB
  min_guest: 400MiB
  min_free_ratio: 0.15
  cooldown: 1s
virtio_mem:
  enabled: false
compaction:
  enabled: false
ksm:
  enabled: false  # this test is not about KSM: the host's knobs stay untouched
YAML
start=$(current_kib)
assert_eq "$start" 655360 "initial balloon (512 MiB base + 128 MiB virtio-mem)"
start_daemon CTL "$CTL" --apply --policy "$E2E_TMP/reclaim.yaml" --libvirt.uri="$U" --web.listen-address=127.0.0.1:0
floor=409600
seen=("$start") lowest=$start
for _ in $(seq 1 40); do
  sleep 0.5
  c=$(current_kib)
  [[ "$c" != "${seen[-1]}" ]] && seen+=("$c")
  (( c < lowest )) && lowest=$c
  [[ "$c" == "$floor" ]] && break
done
echo "balloon.current over time (KiB): ${seen[*]}"
(( ${#seen[@]} >= 4 )) || fail "expected the balloon to drop in at least 3 steps, saw ${seen[*]}"
for ((i = 1; i < ${#seen[@]}; i++)); do
  step=$(( seen[i-1] - seen[i] ))
  (( step > 0 && step <= 65536 )) || fail "step ${seen[i-1]} -> ${seen[i]} is not a shrink of at most 64 MiB"
done
sleep 4  # the floor must hold while node 0 stays in reclaim
(( $(current_kib) == floor )) || fail "balloon left the floor: $(current_kib) KiB, floor $floor"
(( lowest >= floor )) || fail "balloon went below the floor: $lowest KiB"
alive || fail "guest died during reclaim"
grep -q 'kvmem-guest: mem' <(tail -n 3 "$KVMEM_TEST_SERIAL_LOG") || fail "guest console stopped reporting"
scrape "$CTL_PORT" >"$E2E_TMP/p1.prom"
n=$(metric_value "$E2E_TMP/p1.prom" 'kvmem_controller_actions_total{actuator="balloon",reason="balloon.reclaim",outcome="applied"}')
# The guest's driver may settle by a page or two on its own, so count actions, not sizes.
(( ${n%.*} >= 3 && ${n%.*} <= ${#seen[@]} - 1 )) || fail "applied reclaim actions $n for sizes ${seen[*]}"
grep -q 'msg=action action="balloon' "$CTL_LOG" || fail "no action log line"
pass "reclaim: ${#seen[@]} sizes, steps <= 64 MiB, floor 400 MiB held, guest alive"

cat >"$E2E_TMP/reclaim.yaml" <<'YAML'
interval: 1s
stale_after: 15s
balloon:
  reclaim_below: 1MiB
  release_above: 2MiB
  max_step: 512MiB
  cooldown: 1s
  pressure:
    usable_below_ratio: 0.5
virtio_mem:
  sustain: 2
  step: 64MiB
  shrink_after: 1h
compaction:
  enabled: false
ksm:
  enabled: false  # this test is not about KSM: the host's knobs stay untouched
YAML
kill -HUP "$CTL_PID"
"$SRC/tests/e2e/vm/guest-ctl.sh" hog 250 || fail "guest did not start the hog"
for _ in $(seq 1 60); do
  sleep 0.5
  r=$(requested_kib)
  (( r > 131072 )) && break
done
echo "balloon.current $(current_kib) KiB, virtio-mem requested $(requested_kib) KiB"
(( $(requested_kib) > 131072 )) || { tail -n 20 "$CTL_LOG" >&2; fail "virtio-mem requested size never grew under pressure"; }
(( $(requested_kib) % 2048 == 0 )) || fail "requested size is not block-aligned"
alive || fail "guest died during phase 2"
scrape "$CTL_PORT" >"$E2E_TMP/p2.prom"
assert_eq "$(metric_value "$E2E_TMP/p2.prom" 'kvmem_controller_policy_reloads_total{result="ok"}')" 1 "policy reloads"
n=$(metric_value "$E2E_TMP/p2.prom" 'kvmem_controller_actions_total{actuator="virtio_mem",reason="virtio_mem.grow",outcome="applied"}')
(( ${n%.*} >= 1 )) || fail "no applied virtio_mem.grow action counted"
# virtio-mem grows only once the balloon has nothing left to give: back at 512 MiB of base RAM
# (the domain's <memory>), from the 400 MiB floor of phase 1, by applied releases.
assert_eq "$(actual_kib)" 524288 "balloon actual after the release (512 MiB base RAM)"
n=$(metric_value "$E2E_TMP/p2.prom" 'kvmem_controller_actions_total{actuator="balloon",reason="balloon.release",outcome="applied"}')
(( ${n%.*} >= 1 )) || fail "no applied balloon.release action counted"
stop_daemon "$CTL_PID"
pass "pressure: balloon released to its maximum, virtio-mem grown to $(requested_kib) KiB, guest alive"
echo "controller_guest: all passed"
