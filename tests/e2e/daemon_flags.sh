#!/usr/bin/env bash
# The flags both daemons share are checked alike: the same bad values exit 2 from
# kvmem_exporter and kvmem_controller with the same message (durations of at least 1 ms,
# parseable listen addresses, readable path directories), and a --path.procfs or --path.sysfs
# that does not look like procfs or sysfs (no meminfo, no devices/system) starts with a
# warning naming what is missing.
source "$(dirname "$0")/lib.sh"
EXP=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?}

expect_exit2() {  # expect_exit2 BINARY WANT_MESSAGE ARGS...
  local bin=$1 want=$2 rc=0 err; shift 2
  err=$(timeout 20 "$bin" "$@" 2>&1 >/dev/null) || rc=$?
  assert_eq "$rc" 2 "exit code of $(basename "$bin") $*"
  assert_eq "$err" "$(basename "$bin"): $want" "message of $(basename "$bin") $*"
}
for bin in "$EXP" "$CTL"; do
  expect_exit2 "$bin" '--libvirt.timeout: must be at least 1ms, got "0s"' --libvirt.timeout=0s
  expect_exit2 "$bin" '--libvirt.timeout: must be at least 1ms, got "0.0004s"' --libvirt.timeout=0.0004s
  expect_exit2 "$bin" '--libvirt.timeout: expected a duration such as 10s, 500ms or 2m, got "-1s"' --libvirt.timeout=-1s
  expect_exit2 "$bin" '--web.listen-address: bad listen address "kvm1:9848": host must be an IP address; expected HOST:PORT such as 127.0.0.1:9848, [::1]:9848 or :9848' \
    --web.listen-address=kvm1:9848
  expect_exit2 "$bin" '--web.listen-address: bad listen address "127.0.0.1:65536": port above 65535; expected HOST:PORT such as 127.0.0.1:9848, [::1]:9848 or :9848' \
    --web.listen-address=127.0.0.1:65536
  expect_exit2 "$bin" '--path.procfs=/nonexistent is not a readable directory' --path.procfs=/nonexistent
  expect_exit2 "$bin" '--path.sysfs=/nonexistent is not a readable directory' --path.sysfs=/nonexistent
done
for flag in actuate.timeout actuate.backoff actuate.backoff-max; do
  expect_exit2 "$CTL" "--$flag: must be at least 1ms, got \"0s\"" "--$flag=0s"
done
pass "bad durations, addresses and paths exit 2 from both daemons with the same messages"

mkdir -p "$E2E_TMP/empty"
want_proc="--path.procfs=$E2E_TMP/empty does not look like procfs: it has no meminfo; everything read from it will be missing"
want_sys="--path.sysfs=$E2E_TMP/empty does not look like sysfs: it has no devices/system; everything read from it will be missing"
start_daemon EXP "$EXP" --web.listen-address=127.0.0.1:0 --path.procfs="$E2E_TMP/empty" --path.sysfs="$E2E_TMP/empty" $(no_libvirt_flags "$EXP")
grep -qF "level=warn msg=\"$want_proc\"" "$EXP_LOG" || fail "exporter: no procfs warning in $(cat "$EXP_LOG")"
grep -qF "level=warn msg=\"$want_sys\"" "$EXP_LOG" || fail "exporter: no sysfs warning in $(cat "$EXP_LOG")"
stop_daemon "$EXP_PID"
rc=0
err=$(timeout 20 "$CTL" --once --libvirt.uri= --path.procfs="$E2E_TMP/empty" --path.sysfs="$E2E_TMP/empty" 2>&1 >/dev/null) || rc=$?
grep -qF "level=warn msg=\"$want_proc\"" <<<"$err" || fail "controller: no procfs warning in $err"
grep -qF "level=warn msg=\"$want_sys\"" <<<"$err" || fail "controller: no sysfs warning in $err"
# A real host and the fixture hosts look right: no warning.
start_daemon EXP "$EXP" --web.listen-address=127.0.0.1:0 $(no_libvirt_flags "$EXP")
grep -q 'does not look like' "$EXP_LOG" && fail "exporter warns about /proc and /sys: $(cat "$EXP_LOG")"
stop_daemon "$EXP_PID"
pass "paths that do not look like procfs or sysfs: both daemons warn and name what is missing"
