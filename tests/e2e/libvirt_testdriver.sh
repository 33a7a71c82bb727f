#!/usr/bin/env bash
# The real kvmem_exporter against libvirt's test driver with kvmem's fixture host
# (tests/fixtures/libvirt/host.xml): promtool finds nothing, names that need escaping come
# out escaped, the values are exact, and repeated scrapes keep one connection; with
# --collector.libvirt.vm-detail=fleet, exactly the fleet's per-VM families are served.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
SRC=${KVMEM_SOURCE_DIR:?}
command -v promtool >/dev/null || fail "promtool not installed; run scripts/setup.sh"

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="test://$SRC/tests/fixtures/libvirt/host.xml"
out="$E2E_TMP/scrape.prom"
for _ in 1 2 3; do scrape "$EXP_PORT" >"$out"; done
findings=$(promtool check metrics <"$out" 2>&1) || fail "promtool check metrics failed: $findings"
[[ -z "$findings" ]] || fail "promtool findings: $findings"

# lib.sh's metric_value passes the series through awk -v, which unescapes backslashes.
exact_value() { S="$2" awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF; exit }' "$1"; }
q='domain="vm \"quoted\" \\ back é 日本",uuid="a0000000-0000-4000-8000-000000000005"'
assert_eq "$(metric_value "$out" kvmem_libvirt_up)" 1 "kvmem_libvirt_up"
assert_eq "$(metric_value "$out" kvmem_libvirt_domains)" 5 "kvmem_libvirt_domains"
assert_eq "$(metric_value "$out" kvmem_libvirt_connection_errors_total)" 0 "connection errors"
assert_eq "$(exact_value "$out" "kvmem_domain_balloon_current_bytes{$q}")" 268435456 "escaped domain balloon"
assert_eq "$(metric_value "$out" 'kvmem_domain_balloon_current_bytes{domain="plain",uuid="a0000000-0000-4000-8000-000000000001"}')" 805306368 "plain balloon"
assert_eq "$(metric_value "$out" 'kvmem_domain_virtio_mem_size_bytes{domain="vmem",uuid="a0000000-0000-4000-8000-000000000004",device="virtio-mem0",node="0"}')" 4294967296 "virtio-mem size"
assert_eq "$(metric_value "$out" 'kvmem_scrape_collector_success{collector="libvirt"}')" 1 "collector success"
per_vm=$(grep -c 'uuid="a0000000-0000-4000-8000-000000000001"' "$out")
log_lines=$(grep -c 'msg="libvirt' "$EXP_LOG")
[[ $log_lines -eq 1 ]] || fail "expected one libvirt log line (connected), got: $(grep libvirt "$EXP_LOG")"
stop_daemon "$EXP_PID"
pass "test driver: promtool clean, escaping exact, $per_vm series for a plain VM"

# Fleet detail on a fixture host: the test driver runs no QEMU process, so the families read
# from /proc/PID and the cgroup (numa memory, locality, cgroup, pressure) are absent in both modes.
H="$SRC/tests/fixtures/hosts/two-node"
start_daemon FLEET "$EXPORTER" --web.listen-address=127.0.0.1:0 --collector.libvirt.vm-detail=fleet \
  --libvirt.uri="test://$SRC/tests/fixtures/libvirt/host.xml" --path.procfs="$H/proc" --path.sysfs="$H/sys"
scrape "$FLEET_PORT" >"$E2E_TMP/fleet.prom"
stop_daemon "$FLEET_PID"
families=$(grep -o '^kvmem_domain_[a-z_]*' "$E2E_TMP/fleet.prom" | sort -u | tr '\n' ' ')
assert_eq "$families" "kvmem_domain_balloon_current_bytes kvmem_domain_balloon_maximum_bytes \
kvmem_domain_guest_available_bytes kvmem_domain_guest_major_faults_total \
kvmem_domain_guest_stats_last_update_timestamp_seconds kvmem_domain_guest_stats_state \
kvmem_domain_guest_swap_in_bytes_total kvmem_domain_guest_usable_bytes kvmem_domain_info \
kvmem_domain_stats_age_seconds " "kvmem_domain_* families with vm-detail=fleet"
grep -q '^# HELP kvmem_domain_rss_bytes' "$E2E_TMP/fleet.prom" && fail "fleet still describes kvmem_domain_rss_bytes"
host=$(grep -o '^kvmem_libvirt_[a-z_]*' "$out" | sort -u | tr '\n' ' ')
assert_eq "$(grep -o '^kvmem_libvirt_[a-z_]*' "$E2E_TMP/fleet.prom" | sort -u | tr '\n' ' ')" "$host" "kvmem_libvirt_* with vm-detail=fleet"
grep -q '^kvmem_node_memory_total_bytes{node="1"}' "$E2E_TMP/fleet.prom" || fail "fleet: host metrics of two-node missing"
pass "vm-detail=fleet: the fleet's kvmem_domain_* families, every kvmem_libvirt_* family"
