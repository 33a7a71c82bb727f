#!/usr/bin/env bash
# Scrape latency and series count of kvmem_exporter's libvirt collector on a test-driver host
# with N domains (default 1000), beside Debian's prometheus-libvirt-exporter (Kumina 0.2.0)
# on the same host, in the same run. Prints a Markdown table for RESULTS.md.
#
#   bench/libvirt/run.sh [BUILD_DIR] [N] [DURATION]      e.g. bench/libvirt/run.sh build 1000 20s
#
# Needs wrk, curl, python3 and prometheus-libvirt-exporter (scripts/setup.sh).
# Latency: wrk, one thread, one connection, DURATION each, after 3 warm-up scrapes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build}
n=${2:-1000}
duration=${3:-20s}
exporter=$build/exporter/kvmem_exporter
[[ -x "$exporter" ]] || { echo "no $exporter; build first" >&2; exit 1; }
for c in wrk curl python3; do command -v "$c" >/dev/null || { echo "$c missing (scripts/setup.sh)" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/kvmem-bench-libvirt.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
python3 "$here/gen-host.py" "$n" "$tmp/host.xml"
uri="test://$tmp/host.xml"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure LABEL PORT: warm-up, series count, wrk percentiles, RSS.
measure() {
  local label=$1 port=$2 pid=$3 url="http://127.0.0.1:$2/metrics"
  for _ in $(seq 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
  for _ in 1 2 3; do curl -sf -o "$tmp/out.prom" "$url"; done
  local series domains
  series=$(grep -vc '^#' "$tmp/out.prom")
  domains=$(grep -oE 'domain="[^"]*(\\"[^"]*)*"' "$tmp/out.prom" | sort -u | wc -l)
  wrk -t1 -c1 -d"$duration" --latency "$url" >"$tmp/wrk.txt" 2>&1
  local p50 p99 rps rss
  p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  rss=$(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status")
  echo "| $label | $p50 | $p99 | $rps | $series | $domains | $rss |"
}

echo "| exporter | p50 | p99 | scrapes/s | samples | domains seen | RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
port=$(free_port)
"$exporter" --web.listen-address="127.0.0.1:$port" --libvirt.uri="$uri" --collector.disable-defaults --collector.libvirt 2>"$tmp/kvmem1.log" &
pids+=($!)
measure "kvmem_exporter, libvirt collector only" "$port" "$!"
kill "${pids[-1]}"
port=$(free_port)
"$exporter" --web.listen-address="127.0.0.1:$port" --libvirt.uri="$uri" 2>"$tmp/kvmem2.log" &
pids+=($!)
measure "kvmem_exporter, all default collectors" "$port" "$!"
kill "${pids[-1]}"
if command -v prometheus-libvirt-exporter >/dev/null; then
  port=$(free_port)
  prometheus-libvirt-exporter --web.listen-address="127.0.0.1:$port" --libvirt.uri="$uri" 2>"$tmp/kumina.log" &
  pids+=($!)
  measure "prometheus-libvirt-exporter 0.2.0 (Kumina)" "$port" "$!"
else
  echo "| prometheus-libvirt-exporter | not installed | | | | | |"
fi
