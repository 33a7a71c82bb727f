#!/usr/bin/env bash
# Load benchmark of both daemons' HTTP servers with wrk: 64 connections for 60 s against
# the exporter on this host, the controller's metrics, and the exporter over TLS with basic
# auth. Records requests/s, p50/p99 latency, errors (non-2xx and socket errors, a request
# unanswered after 10 s, Prometheus's default scrape timeout, among them: must be 0)
# and the daemon's RSS sampled every 2 s (start, after warm-up, max, end: must stay flat).
#
# Usage: bench/load/run.sh [--record] [--check MAX_GROWTH_KIB]
#   --record   append the results, with date and machine, to bench/load/RESULTS.md
#   --check N  exit 1 unless every run has 0 errors and RSS grew by at most N KiB from the
#              sample after warm-up to the end (tests/e2e/web_load.sh uses this)
# Environment: DURATION (s, default 60), CONNECTIONS (64), THREADS (wrk threads, 2),
#   KVMEM_BUILD_DIR (default build/), KVMEM_EXPORTER, KVMEM_CONTROLLER (default: in it).
# Only 127.0.0.1 is loaded; every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${KVMEM_BUILD_DIR:-$SRC/build}
EXP=${KVMEM_EXPORTER:-$BUILD/exporter/kvmem_exporter}
CTL=${KVMEM_CONTROLLER:-$BUILD/controller/kvmem_controller}
DURATION=${DURATION:-60} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2}
record=0 check=""
while (($#)); do
  case $1 in
    --record) record=1 ;;
    --check) check=$2; shift ;;
    *) echo "usage: $0 [--record] [--check MAX_GROWTH_KIB]" >&2; exit 2 ;;
  esac
  shift
done
for tool in wrk openssl htpasswd curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not installed; run scripts/setup.sh" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/kvmem-load.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && { timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; }; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# TLS and basic auth for the third run: a CA, a server certificate, a bcrypt hash.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=load-ca \
  -keyout "$TMP/ca.key" -out "$TMP/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$TMP/server.key" -out "$TMP/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/san"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial -days 1 \
  -extfile "$TMP/san" -out "$TMP/server.crt" 2>/dev/null
printf "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  load: '%s'\n" \
  "$(htpasswd -nbBC 10 load load-pass | cut -d: -f2)" >"$TMP/web.yml"
AUTH="Authorization: Basic $(printf 'load:load-pass' | base64)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# bench NAME URL CURL_ARGS -- DAEMON ARGS... : starts the daemon, waits until it answers,
# runs wrk while sampling RSS, stops the daemon; appends one JSON line to $TMP/results.
bench() {
  local name=$1 url=$2; shift 2
  local curl_args=()
  while [[ $1 != -- ]]; do curl_args+=("$1"); shift; done
  shift
  "$@" >"$TMP/$name.log" 2>&1 &
  local pid=$! i
  PIDS+=("$pid")
  for i in $(seq 1 100); do
    curl -fsS -o /dev/null --max-time 2 "${curl_args[@]}" "$url" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.log" >&2; echo "run.sh: $name exited" >&2; exit 1; }
    sleep 0.1
  done
  sleep 0.5  # the readiness probes' connections are gone: wrk gets every slot
  local start_rss samples=() wrk_args=(-t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s --latency -s "$HERE/report.lua")
  start_rss=$(rss_kib "$pid")
  [[ $url == https* ]] && wrk_args+=(-H "$AUTH")
  wrk "${wrk_args[@]}" "$url" >"$TMP/$name.wrk" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  while kill -0 "$wrk_pid" 2>/dev/null; do
    samples+=("$(rss_kib "$pid")")
    sleep 2
  done
  wait "$wrk_pid" || { cat "$TMP/$name.wrk" >&2; echo "run.sh: wrk failed on $name" >&2; exit 1; }
  local end_rss
  end_rss=$(rss_kib "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  local json
  json=$(grep '^{"requests"' "$TMP/$name.wrk") || { cat "$TMP/$name.wrk" >&2; exit 1; }
  # The sample after warm-up: the third (4 s in), or the last one in a short run.
  local warm=${samples[2]:-${samples[-1]}}
  local max=$start_rss s
  for s in "${samples[@]}" "$end_rss"; do ((s > max)) && max=$s; done
  printf '{"name":"%s","start_kib":%d,"warm_kib":%d,"max_kib":%d,"end_kib":%d,"wrk":%s}\n' \
    "$name" "$start_rss" "$warm" "$max" "$end_rss" "$json" >>"$TMP/results"
}

EXP_PORT=$(free_port)
bench exporter "http://127.0.0.1:$EXP_PORT/metrics" -- \
  "$EXP" --web.listen-address="127.0.0.1:$EXP_PORT" --no-collector.libvirt
CTL_PORT=$(free_port)
bench controller "http://127.0.0.1:$CTL_PORT/metrics" -- \
  "$CTL" --web.listen-address="127.0.0.1:$CTL_PORT" --libvirt.uri= --no-webhook
TLS_PORT=$(free_port)
bench exporter_tls_basic_auth "https://127.0.0.1:$TLS_PORT/metrics" --cacert "$TMP/ca.crt" -u load:load-pass -- \
  "$EXP" --web.listen-address="127.0.0.1:$TLS_PORT" --no-collector.libvirt --web.config.file="$TMP/web.yml"

python3 - "$TMP/results" "$DURATION" "$CONNECTIONS" "$record" "$HERE/RESULTS.md" "${check:-}" <<'PY'
import json, os, platform, subprocess, sys, time
results_file, duration, connections, record, results_md, check = sys.argv[1:7]
rows = [json.loads(l) for l in open(results_file)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
head = (f"### {time.strftime('%Y-%m-%d %H:%M %Z')}: {duration} s, {connections} connections, wrk {os.environ.get('THREADS', '2')} threads\n"
        f"Machine: {cpu}, {os.cpu_count()} CPUs, {mem // 1024 // 1024} GiB, Linux {platform.release()}; "
        f"load average before: {open('/proc/loadavg').read().split()[0]}\n\n"
        "| target | requests/s | p50 ms | p99 ms | errors (non-2xx + socket) | RSS start / after warm-up / max / end MiB |\n"
        "|---|---|---|---|---|---|\n")
lines, failed = [], []
for r in rows:
    w = r["wrk"]
    errors = w["status"] + w["connect"] + w["read"] + w["write"] + w["timeout"]
    rate = w["requests"] / (w["duration_us"] / 1e6)
    mib = lambda k: f"{r[k] / 1024:.1f}"
    lines.append(f"| {r['name']} | {rate:.0f} | {w['p50_us'] / 1000:.2f} | {w['p99_us'] / 1000:.2f} | {errors} "
                 f"({w['status']} status, {w['connect']} connect, {w['read']} read, {w['write']} write, {w['timeout']} timeout) "
                 f"| {mib('start_kib')} / {mib('warm_kib')} / {mib('max_kib')} / {mib('end_kib')} |")
    if errors:
        failed.append(f"{r['name']}: {errors} errors")
    growth = r["end_kib"] - r["warm_kib"]
    if check and growth > int(check):
        failed.append(f"{r['name']}: RSS grew {growth} KiB after warm-up (bound {check} KiB)")
text = head + "\n".join(lines) + "\n"
print(text)
if record == "1":
    with open(results_md, "a") as f:
        f.write("\n" + text)
for f in failed:
    print("FAIL: " + f, file=sys.stderr)
sys.exit(1 if failed else 0)
PY
