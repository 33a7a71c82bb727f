#!/usr/bin/env bash
# Smoke test of the e2e testbed: does the guest honour the balloon and virtio-mem, and
# does the memory hog work? Run it directly (it wraps itself in with-guest.sh) or as
# `with-guest.sh smoke.sh`. Prints the timings; exits 0 on success, 1 on any failure,
# 77 when the machine cannot run the guest.
#   (a) dommemstat has actual/available/usable/unused/last_update (rw and ro URI);
#       the guest's console log has its memory reports and the boot-time hog
#   (b) setmem --live 384 MiB: actual == 393216 within 5 s, available drops ~128 MiB
#   (c) virtio-mem requested 128 -> 256 MiB: live <current> == 256 MiB within 10 s,
#       available rises ~128 MiB
#   (d) virtio-mem requested back to 128 MiB (unplug): <current> == 128 MiB within 10 s
#   (e) control channel: "hog 200" lowers usable by >= 150 MiB, "free" restores it
#   (f) setmem --live 512 MiB: actual == 524288 within 5 s
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then
  # A small boot-time hog exercises the kernel-command-line path of the guest's /init.
  export KVMEM_VM_CMDLINE_EXTRA=${KVMEM_VM_CMDLINE_EXTRA-kvmem.hog_mb=64}
  exec "$here/with-guest.sh" "$here/smoke.sh" "$@"
fi

uri=$KVMEM_TEST_URI
uri_ro=$KVMEM_TEST_URI_RO
dom=$KVMEM_TEST_DOMAIN
serial=$KVMEM_TEST_SERIAL_LOG
MiB=1024 # KiB

t_all=$EPOCHREALTIME
failures=0
say() { echo "smoke: $*"; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }
since() { local a=$1 b=$EPOCHREALTIME; awk -v a="${a/,/.}" -v b="${b/,/.}" 'BEGIN {printf "%.2f", b - a}'; }

# memstat KEY: one value (KiB) of virsh dommemstat, via the read-only socket.
memstat() { virsh -q -r -c "$uri_ro" dommemstat "$dom" | awk -v k="$1" '$1 == k {print $2}'; }
vmem_current() {
  virsh -q -r -c "$uri_ro" dumpxml "$dom" | sed -n "s|.*<current unit='KiB'>\([0-9]*\)</current>.*|\1|p"
}
# wait_for SECONDS DESCRIPTION TEST...: polls TEST every 0.1 s; prints how long it took.
wait_for() {
  local limit=$1 what=$2 t0=$EPOCHREALTIME
  shift 2
  local deadline=$((${EPOCHREALTIME%[.,]*} + limit))
  until "$@"; do
    if ((${EPOCHREALTIME%[.,]*} >= deadline)); then
      fail "$what: not within ${limit}s"
      return 1
    fi
    sleep 0.1
  done
  say "ok: $what after $(since "$t0") s"
}
le() { local v; v=$("$1" "$2"); [[ -n "$v" ]] && ((v <= $3)); }
ge() { local v; v=$("$1" "$2"); [[ -n "$v" ]] && ((v >= $3)); }
eq_current() { [[ "$(vmem_current)" == "$1" ]]; }
eq_stat() { [[ "$(memstat "$1")" == "$2" ]]; }
# last_update changes when the guest sent fresh stats; wait for a newer one.
fresh_stats() {
  local t0
  t0=$(memstat last_update)
  wait_for 5 "fresh balloon stats" test_newer "$t0" >/dev/null
}
test_newer() { (($(memstat last_update) > $1)); }

# --- (a) ---------------------------------------------------------------------------------
say "(a) dommemstat fields"
stats=$(virsh -q -c "$uri" dommemstat "$dom")
stats_ro=$(virsh -q -r -c "$uri_ro" dommemstat "$dom")
for k in actual available usable unused last_update; do
  grep -q "^$k " <<<"$stats" || fail "dommemstat (rw) lacks $k"
  grep -q "^$k " <<<"$stats_ro" || fail "dommemstat (ro) lacks $k"
done
while read -r line; do say "    $line"; done <<<"$stats_ro"
wait_for 3 "memory reports in the console log" grep -q '^kvmem-guest: mem uptime=' "$serial" || true
if [[ "${KVMEM_VM_CMDLINE_EXTRA:-}" == *kvmem.hog_mb=64* ]]; then
  wait_for 10 "boot-time hog holds 64 MiB" grep -q '^kvmem-hog: holding 64 MiB (done)' "$serial" || true
fi
virsh -q -c "$uri_ro" setmem "$dom" 400MiB --live >/dev/null 2>&1 && fail "ro URI allowed setmem"

# --- (b) ---------------------------------------------------------------------------------
say "(b) balloon: setmem --live 384 MiB"
eq_stat actual $((512 * MiB)) || fail "actual is $(memstat actual), expected $((512 * MiB))"
fresh_stats || true
avail0=$(memstat available)
t0=$EPOCHREALTIME
virsh -q -c "$uri" setmem "$dom" 384MiB --live
wait_for 5 "actual == $((384 * MiB))" eq_stat actual $((384 * MiB)) || true
wait_for 5 "available dropped by >= 96 MiB (was $avail0)" le memstat available $((avail0 - 96 * MiB)) || true
avail1=$(memstat available)
say "    available $avail0 -> $avail1 KiB (-$(((avail0 - avail1) / MiB)) MiB), $(since "$t0") s after setmem"

# --- (c) ---------------------------------------------------------------------------------
say "(c) virtio-mem: requested 128 -> 256 MiB"
eq_current $((128 * MiB)) || fail "virtio-mem current is $(vmem_current), expected $((128 * MiB))"
t0=$EPOCHREALTIME
virsh -q -c "$uri" update-memory-device "$dom" --live --requested-size 256MiB
wait_for 10 "<current> == 256 MiB" eq_current $((256 * MiB)) || true
wait_for 5 "available rose by >= 96 MiB" ge memstat available $((avail1 + 96 * MiB)) || true
avail2=$(memstat available)
say "    available $avail1 -> $avail2 KiB (+$(((avail2 - avail1) / MiB)) MiB), $(since "$t0") s after the request"

# --- (d) ---------------------------------------------------------------------------------
say "(d) virtio-mem: requested 256 -> 128 MiB (unplug)"
t0=$EPOCHREALTIME
virsh -q -c "$uri" update-memory-device "$dom" --live --requested-size 128MiB
wait_for 10 "<current> == 128 MiB" eq_current $((128 * MiB)) || true
wait_for 5 "available fell by >= 96 MiB" le memstat available $((avail2 - 96 * MiB)) || true

# --- (e) ---------------------------------------------------------------------------------
say "(e) memory hog over the control channel"
if command -v python3 >/dev/null; then
  # Release the boot-time hog first so that the baseline holds no hog.
  "$here/guest-ctl.sh" free || fail "guest-ctl.sh free"
  fresh_stats || true
  fresh_stats || true
  usable0=$(memstat usable)
  t0=$EPOCHREALTIME
  "$here/guest-ctl.sh" hog 200 || fail "guest-ctl.sh hog 200"
  wait_for 15 "usable dropped by >= 150 MiB (was $usable0)" le memstat usable $((usable0 - 150 * MiB)) || true
  say "    usable $usable0 -> $(memstat usable) KiB"
  "$here/guest-ctl.sh" free || fail "guest-ctl.sh free"
  wait_for 10 "usable back to >= $((usable0 - 32 * MiB))" ge memstat usable $((usable0 - 32 * MiB)) || true
else
  say "    skipped: python3 not found"
fi

# --- (f) ---------------------------------------------------------------------------------
say "(f) balloon: setmem --live 512 MiB"
virsh -q -c "$uri" setmem "$dom" 512MiB --live
wait_for 5 "actual == $((512 * MiB))" eq_stat actual $((512 * MiB)) || true

state=$(virsh -q -r -c "$uri_ro" domstate "$dom")
[[ "$state" == running ]] || fail "domain is '$state' at the end"
if ((failures)); then
  say "FAILED ($failures failures) in $(since "$t_all") s"
  exit 1
fi
say "PASSED in $(since "$t_all") s"
