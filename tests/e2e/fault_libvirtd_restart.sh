#!/usr/bin/env bash
# Fault drill: libvirtd is killed (SIGKILL) while kvmem_exporter (read-only socket) and
# kvmem_controller (read-write socket) run against it, then started again. A private libvirtd
# (tests/e2e/vm/libvirtd.sh: own mount namespace, the machine's libvirt untouched) without any
# domain is enough: up/down is the daemon's. While it is gone both keep
# serving HTTP with their host metrics and report libvirt down; when it is back both reconnect
# (back-off 1 s doubling) and report it up. Exact values are asserted at each step.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} EXPORTER=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?}
[[ $(id -u) -eq 0 ]] || { echo "skip: a private libvirtd needs root"; exit 77; }
command -v libvirtd >/dev/null || [[ -x /usr/sbin/libvirtd ]] || { echo "skip: libvirtd not installed (scripts/setup.sh --with-vm)"; exit 77; }
command -v virsh >/dev/null || fail "virsh not installed; run scripts/setup.sh"
unshare --mount true 2>/dev/null || { echo "skip: no mount namespaces here"; exit 77; }

state=$(mktemp -d /tmp/kvmem-lvd.XXXXXX)
trap '"$SRC/tests/e2e/vm/libvirtd.sh" stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; cleanup' EXIT
lvd() { "$SRC/tests/e2e/vm/libvirtd.sh" "$1" "$state" >"$E2E_TMP/libvirtd.$1.out" 2>&1 || { cat "$E2E_TMP/libvirtd.$1.out" >&2; fail "libvirtd.sh $1"; }; }
lvd start
uri=$(cat "$state/uri") uri_ro=$(cat "$state/uri-ro")
printf 'interval: 200ms\n' >"$E2E_TMP/policy.yaml"
start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="$uri_ro" --libvirt.timeout=1s
start_daemon CTL "$CTL" --policy "$E2E_TMP/policy.yaml" --web.listen-address=127.0.0.1:0 --libvirt.uri="$uri" --libvirt.timeout=1s

# until PORT SERIES VALUE SECONDS: scrape until the series has the value; fails on any non-200.
until_value() {
  local i code
  for i in $(seq 1 $(($4 * 5))); do
    code=$(curl -sS --max-time 5 -o "$E2E_TMP/m.prom" -w '%{http_code}' "http://127.0.0.1:$1/metrics") || fail "scrape of :$1 failed"
    assert_eq "$code" 200 "HTTP status of :$1"
    [[ "$(metric_value "$E2E_TMP/m.prom" "$2")" == "$3" ]] && return 0
    sleep 0.2
  done
  fail "$2 on :$1 did not become $3 within $4 s (last $(metric_value "$E2E_TMP/m.prom" "$2"))"
}
until_value "$EXP_PORT" kvmem_libvirt_up 1 10
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_libvirt_connection_errors_total)" 0 "exporter connection errors at start"
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_libvirt_domains)" 0 "running domains"
until_value "$CTL_PORT" kvmem_controller_libvirt_up 1 10
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_libvirt_connection_errors_total)" 0 "controller connection errors at start"
pass "libvirtd up: exporter and controller connected, 0 errors"

kill -KILL "$(cat "$state/libvirtd.pid")"
t_kill=$SECONDS
until_value "$EXP_PORT" kvmem_libvirt_up 0 10
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_libvirt_connection_errors_total)" 1 "exporter: the dropped connection"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_scrape_collector_success{collector="libvirt"}')" 1 "a down libvirt is not a collector failure"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_scrape_collector_success{collector="numa"}')" 1 "host collectors"
grep -q '^kvmem_node_memory_total_bytes{node="0"}' "$E2E_TMP/m.prom" || fail "host metrics missing while libvirt is down"
until_value "$CTL_PORT" kvmem_controller_libvirt_up 0 10
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_libvirt_connection_errors_total)" 1 "controller: the dropped connection"
c1=$(metric_value "$E2E_TMP/m.prom" kvmem_controller_cycles_total)
wait_until 60 "10 more controller cycles while libvirt is down" metric_at_least "$CTL_PORT" kvmem_controller_cycles_total $((${c1%.*} + 10))
until_value "$CTL_PORT" kvmem_controller_libvirt_up 0 1
c2=$(metric_value "$E2E_TMP/m.prom" kvmem_controller_cycles_total)
assert_eq "$(metric_value "$E2E_TMP/m.prom" kvmem_controller_observe_failures_total)" 0 "observe failures (host still observed)"
kill -0 "$EXP_PID" && kill -0 "$CTL_PID" || fail "a daemon died with libvirtd"
pass "libvirtd killed: both serve HTTP 200 and host metrics, report libvirt down (up 0, 1 dropped connection), the loop goes on"

lvd start
t_back=$SECONDS
until_value "$EXP_PORT" kvmem_libvirt_up 1 70
until_value "$CTL_PORT" kvmem_controller_libvirt_up 1 70
t_up=$SECONDS
assert_eq "$(grep -c 'libvirt connected' "$EXP_LOG")" 2 "exporter 'connected' log lines (start, reconnect)"
assert_eq "$(grep -c 'libvirt unavailable' "$EXP_LOG")" 1 "exporter 'unavailable' log lines"
stop_daemon "$EXP_PID"
stop_daemon "$CTL_PID"
pass "libvirtd back after $((t_back - t_kill)) s: both reconnected within $((t_up - t_back)) s and report up; SIGTERM exits 0"
echo "fault_libvirtd_restart: all passed"
