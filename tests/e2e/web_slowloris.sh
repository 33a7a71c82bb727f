#!/usr/bin/env bash
# A slowloris attack (300 connections, each trickling a byte every 0.5-3 s and reconnecting
# when dropped) against the exporter on this host for 30 s, and against the controller for
# 10 s, while a client scrapes once per second on a new connection: every scrape must
# succeed in under 1 s, and the server must have dropped attackers to make room.
source "$(dirname "$0")/lib.sh"
EXP=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?}
command -v python3 >/dev/null || fail "python3 not installed; run scripts/setup.sh"
ulimit -n 4096 2>/dev/null || true  # 300 attacking sockets in one process
SLOWLORIS="$(dirname "$0")/slowloris.py"

start_daemon EXP "$EXP" --web.listen-address=127.0.0.1:0 $(no_libvirt_flags "$EXP")
python3 "$SLOWLORIS" --port "$EXP_PORT" --connections 300 --duration 30 --bound 1.0 | tee "$E2E_TMP/exp.txt" ||
  fail "exporter: scrapes failed or were slow under slowloris"
scrape "$EXP_PORT" >"$E2E_TMP/exp.prom"
evicted=$(metric_value "$E2E_TMP/exp.prom" 'kvmem_exporter_http_connections_dropped_total{reason="evicted"}')
[[ $evicted -gt 0 ]] || fail "the exporter evicted no slow client: the attack never filled it"
assert_eq "$(metric_value "$E2E_TMP/exp.prom" 'kvmem_exporter_http_connections_dropped_total{reason="refused"}')" 0 "refused"
stop_daemon "$EXP_PID"
pass "exporter: every scrape under 1 s during the attack; $evicted slow clients evicted"

start_daemon CTL "$CTL" --web.listen-address=127.0.0.1:0 --libvirt.uri=
python3 "$SLOWLORIS" --port "$CTL_PORT" --connections 300 --duration 10 --bound 1.0 | tee "$E2E_TMP/ctl.txt" ||
  fail "controller: scrapes failed or were slow under slowloris"
stop_daemon "$CTL_PID"
pass "controller: every scrape under 1 s during the attack"
echo "web_slowloris: all passed"
