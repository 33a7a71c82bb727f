#!/usr/bin/env bash
# Flags, usage errors (exit 2), the landing page, HTTP errors, collector switches, JSON logs.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
NOLV=$(no_libvirt_flags "$EXPORTER")

"$EXPORTER" --help | grep -q -- '--web.listen-address=VALUE' || fail "--help lacks --web.listen-address"
"$EXPORTER" --help | grep -q -- '--\[no-\]collector.ksm' || fail "--help lacks --[no-]collector.ksm"
"$EXPORTER" --version | grep -q '^kvmem_exporter [0-9]' || fail "--version"

expect_usage_error() {  # expect_usage_error PATTERN ARGS...
  local pattern=$1 rc=0 err; shift
  err=$("$EXPORTER" "$@" 2>&1 >/dev/null) || rc=$?
  assert_eq "$rc" 2 "exit code for $*"
  grep -q -- "$pattern" <<<"$err" || fail "message for $* was '$err', want it to mention '$pattern'"
}
expect_usage_error 'unknown flag --bogus' --bogus
expect_usage_error 'path.procfs=/nonexistent is not a readable directory' --path.procfs=/nonexistent
expect_usage_error 'bad listen address "nonsense"' --web.listen-address=nonsense
expect_usage_error 'expected debug, info, warn or error' --log.level=loud
expect_usage_error 'expected logfmt or json' --log.format=xml
expect_usage_error 'telemetry-path must start with /' --web.telemetry-path=metrics
expect_usage_error 'collector.ksm expects true or false' --collector.ksm=perhaps
expect_usage_error 'collector.libvirt.vm-detail: expected full or fleet, got "brief"' --collector.libvirt.vm-detail=brief
pass "usage errors exit 2 and name the flag"

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --web.telemetry-path=/m --no-collector.numa $NOLV --log.format=json
scrape "$EXP_PORT" / | grep -q '<a href="/m">' || fail "landing page does not link the telemetry path"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EXP_PORT/nope"); assert_eq "$code" 404 "unknown path"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$EXP_PORT/m"); assert_eq "$code" 405 "POST"
scrape "$EXP_PORT" /m >"$E2E_TMP/m.prom"
grep -q '^kvmem_node_memory_total_bytes' "$E2E_TMP/m.prom" && fail "--no-collector.numa still emits numa families"
grep -q '^kvmem_ksm_run' "$E2E_TMP/m.prom" || fail "ksm missing"
head -n1 "$EXP_LOG" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); assert d["level"]=="info" and d["msg"]=="kvmem_exporter started", d' || fail "JSON log line"
# Port already taken: a clear runtime error, exit 1.
rc=0; err=$("$EXPORTER" --web.listen-address=127.0.0.1:"$EXP_PORT" 2>&1) || rc=$?
assert_eq "$rc" 1 "exit code when the port is taken"
grep -q 'cannot listen on 127.0.0.1' <<<"$err" || fail "port-in-use message: $err"
# SIGHUP is harmless.
kill -HUP "$EXP_PID"; sleep 0.2; kill -0 "$EXP_PID" || fail "SIGHUP killed the exporter"
stop_daemon "$EXP_PID"
pass "landing page, 404/405, collector switches, JSON logs, port in use, SIGHUP, SIGTERM"

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --collector.disable-defaults --collector.ksm
scrape "$EXP_PORT" >"$E2E_TMP/only.prom"
collectors=$(grep -o '^kvmem_scrape_collector_success{collector="[a-z_]*"' "$E2E_TMP/only.prom" | cut -d'"' -f2 | tr '\n' ' ')
assert_eq "$collectors" "ksm " "--collector.disable-defaults --collector.ksm"
stop_daemon "$EXP_PID"
pass "--collector.disable-defaults"
echo "exporter_flags: all passed"
