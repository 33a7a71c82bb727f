#!/usr/bin/env bash
# kvmem_exporter against a real libvirtd and a real QEMU guest (tests/e2e/vm): it reports
# the guest's balloon, guest stats, virtio-mem, residency and vCPU placement; a balloon
# change (virsh setmem --live) and a virtio-mem resize (update-memory-device) show up in
# the metrics; free pages match sysfs; and when libvirt freezes (a proxy that stops
# forwarding) scrapes stay within budget and serve the last good values with their age,
# then recover. Wraps itself in vm/with-guest.sh; exit 77 (skip) only when this machine
# cannot run the guest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then exec "$here/vm/with-guest.sh" "$0" "$@"; fi
source "$here/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"
MiB=1048576
dom=$KVMEM_TEST_DOMAIN
uuid=$(virsh -q -r -c "$KVMEM_TEST_URI_RO" domuuid "$dom")
L="domain=\"$dom\",uuid=\"$uuid\""
V="$L,device=\"virtiomem0\",node=\"0\""

exact_value() { S="$2" awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF; exit }' "$1"; }
# wait_value PORT SERIES WANT SECONDS: scrape until SERIES equals WANT.
wait_value() {
  local port=$1 series=$2 want=$3 deadline=$((SECONDS + $4)) got=""
  while ((SECONDS <= deadline)); do
    scrape "$port" >"$E2E_TMP/poll.prom"
    got=$(exact_value "$E2E_TMP/poll.prom" "$series")
    [[ "$got" == "$want" ]] && return 0
    sleep 0.5
  done
  fail "$series: got '$got', want '$want' within $4 s"
}

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="$KVMEM_TEST_URI_RO" --libvirt.timeout=5s
out="$E2E_TMP/scrape.prom"
wait_value "$EXP_PORT" "kvmem_domain_guest_stats_state{$L,state=\"ok\"}" 1 10
scrape "$EXP_PORT" >"$out"
findings=$(promtool check metrics <"$out" 2>&1) || fail "promtool: $findings"
[[ -z "$findings" ]] || fail "promtool findings: $findings"
assert_eq "$(exact_value "$out" kvmem_libvirt_up)" 1 "kvmem_libvirt_up"
assert_eq "$(exact_value "$out" kvmem_libvirt_domains)" 1 "kvmem_libvirt_domains"
assert_eq "$(exact_value "$out" "kvmem_domain_balloon_maximum_bytes{$L}")" $((1024 * MiB)) "balloon maximum (512 base + 512 virtio-mem)"
assert_eq "$(exact_value "$out" "kvmem_domain_balloon_current_bytes{$L}")" $(((512 + 128) * MiB)) "balloon current (base + plugged)"
assert_eq "$(exact_value "$out" "kvmem_domain_virtio_mem_size_bytes{$V}")" $((512 * MiB)) "virtio-mem size"
assert_eq "$(exact_value "$out" "kvmem_domain_virtio_mem_block_size_bytes{$V}")" $((2 * MiB)) "virtio-mem block"
assert_eq "$(exact_value "$out" "kvmem_domain_virtio_mem_requested_bytes{$V}")" $((128 * MiB)) "virtio-mem requested"
assert_eq "$(exact_value "$out" "kvmem_domain_virtio_mem_current_bytes{$V}")" $((128 * MiB)) "virtio-mem current"
assert_eq "$(exact_value "$out" "kvmem_domain_vcpus{$L,node=\"0\"}")" 1 "vCPUs on node 0"
grep -qF "kvmem_domain_info{$L,hugepages=\"false\",hugepage_size_bytes=\"\",numatune_mode=\"none\",numatune_nodeset=\"\",pinned=\"false\",balloon_model=\"virtio\",balloon_stats_period_seconds=\"1\",autodeflate=\"false\",free_page_reporting=\"false\"} 1" "$out" ||
  fail "kvmem_domain_info: $(grep kvmem_domain_info "$out")"
resident=$(exact_value "$out" "kvmem_domain_numa_memory_bytes{$L,node=\"0\"}")
rss=$(exact_value "$out" "kvmem_domain_rss_bytes{$L}")
((resident > 64 * MiB && resident <= rss + 64 * MiB)) || fail "resident on node 0 is $resident bytes (rss $rss)"
nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
if ((nodes == 1)); then assert_eq "$(exact_value "$out" "kvmem_domain_numa_locality_ratio{$L}")" 1 "locality on a one-node host"; fi
avail0=$(exact_value "$out" "kvmem_domain_guest_available_bytes{$L}")
pass "initial: balloon, guest stats ok, virtio-mem, $((resident / MiB)) MiB resident on node 0, promtool clean"

# Free pages through libvirt against sysfs, for every hugepage size (exact) and 4 KiB (MemFree).
for dir in /sys/devices/system/node/node0/hugepages/hugepages-*kB; do
  [[ -d "$dir" ]] || continue
  kb=${dir##*hugepages-}; kb=${kb%kB}
  ok=0
  for _ in 1 2 3; do
    scrape "$EXP_PORT" >"$out"
    [[ "$(exact_value "$out" "kvmem_libvirt_node_free_pages{node=\"0\",size=\"$((kb * 1024))\"}")" == "$(cat "$dir/free_hugepages")" ]] && { ok=1; break; }
  done
  ((ok)) || fail "free ${kb} kB pages: exporter $(exact_value "$out" "kvmem_libvirt_node_free_pages{node=\"0\",size=\"$((kb * 1024))\"}"), sysfs $(cat "$dir/free_hugepages")"
done
small=$(exact_value "$out" 'kvmem_libvirt_node_free_pages{node="0",size="4096"}')
memfree_kb=$(awk '/MemFree/ {print $4}' /sys/devices/system/node/node0/meminfo)
# Read a moment apart while the guest runs: within 10 %, or 256 MiB when little is free.
awk -v a="$small" -v b="$((memfree_kb / 4))" 'BEGIN { d = a - b; if (d < 0) d = -d; t = 0.1 * b; if (t < 65536) t = 65536; exit !(d <= t) }' ||
  fail "free 4 KiB pages: exporter $small, sysfs MemFree/4 KiB $((memfree_kb / 4))"
pass "free pages per size match node0 sysfs"

virsh -q -c "$KVMEM_TEST_URI" setmem "$dom" 384MiB --live
wait_value "$EXP_PORT" "kvmem_domain_balloon_current_bytes{$L}" $(((384 + 128) * MiB)) 15
deadline=$((SECONDS + 10))
while :; do
  scrape "$EXP_PORT" >"$out"
  avail=$(exact_value "$out" "kvmem_domain_guest_available_bytes{$L}")
  ((avail <= avail0 - 96 * MiB)) && break
  ((SECONDS < deadline)) || fail "guest available stayed at $avail (was $avail0) after setmem 384MiB"
  sleep 0.5
done
pass "balloon: setmem 384MiB -> balloon current $(((384 + 128))) MiB, guest available $((avail0 / MiB)) -> $((avail / MiB)) MiB"

virsh -q -c "$KVMEM_TEST_URI" update-memory-device "$dom" --live --requested-size 256MiB
wait_value "$EXP_PORT" "kvmem_domain_virtio_mem_requested_bytes{$V}" $((256 * MiB)) 20
wait_value "$EXP_PORT" "kvmem_domain_virtio_mem_current_bytes{$V}" $((256 * MiB)) 20
wait_value "$EXP_PORT" "kvmem_domain_balloon_current_bytes{$L}" $(((384 + 256) * MiB)) 15
pass "virtio-mem: requested 128 -> 256 MiB seen as requested, current and balloon current"

# Freeze libvirt behind a proxy: the exporter must serve last-good values with their age.
real_sock=${KVMEM_TEST_URI_RO#*socket=}
python3 - "$E2E_TMP/proxy.sock" "$real_sock" "$E2E_TMP/freeze" <<'PY' &
import os, socket, sys, threading, time
listen_path, target, flag = sys.argv[1:4]
def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            while os.path.exists(flag):  # frozen: hold the bytes, forward nothing
                time.sleep(0.05)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(listen_path)
srv.listen(16)
while True:
    c = srv.accept()[0]
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.connect(target)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
E2E_PIDS+=($!)
for _ in $(seq 50); do [[ -S "$E2E_TMP/proxy.sock" ]] && break; sleep 0.05; done
start_daemon PX "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="qemu:///system?socket=$E2E_TMP/proxy.sock" --libvirt.timeout=2s
wait_value "$PX_PORT" kvmem_libvirt_up 1 15
scrape "$PX_PORT" >"$out"
current=$(exact_value "$out" "kvmem_domain_balloon_current_bytes{$L}")
[[ -n "$current" ]] || fail "no balloon value through the proxy"
touch "$E2E_TMP/freeze"
sleep 1
for i in 1 2; do
  t=$(curl -sS --max-time 10 -o "$out" -w '%{time_total}' "http://127.0.0.1:$PX_PORT/metrics")
  awk -v t="$t" 'BEGIN { exit !(t < 3.0) }' || fail "frozen libvirt: scrape $i took ${t}s with --libvirt.timeout=2s"
  assert_eq "$(exact_value "$out" kvmem_libvirt_up)" 0 "frozen: up"
  assert_eq "$(exact_value "$out" "kvmem_domain_balloon_current_bytes{$L}")" "$current" "frozen: last good balloon value"
  age=$(exact_value "$out" "kvmem_domain_stats_age_seconds{$L}")
  awk -v a="$age" -v m="$i" 'BEGIN { exit !(a >= 2 * m) }' || fail "frozen: scrape $i shows age $age s"
done
timeouts=$(exact_value "$out" kvmem_libvirt_timeouts_total)
((timeouts >= 1)) || fail "frozen: kvmem_libvirt_timeouts_total is $timeouts"
rm -f "$E2E_TMP/freeze"
wait_value "$PX_PORT" kvmem_libvirt_up 1 10
wait_value "$PX_PORT" "kvmem_domain_stats_age_seconds{$L}" 0 10
pass "frozen libvirt: scrapes within budget, last good values served aged ${age}s, $timeouts timeouts, recovered"
stop_daemon "$PX_PID"
stop_daemon "$EXP_PID"
