#!/usr/bin/env bash
# Least privilege, per VM: kvmem_exporter as `nobody` against a real QEMU guest (tests/e2e/vm:
# QEMU runs as root, in a cgroup shared with others, so residency comes from
# /proc/<qemu>/numa_maps) over libvirt's read-only socket. As root every per-VM series is there;
# as nobody exactly the ones fed by QEMU's ptrace-protected files are missing
# (kvmem_domain_numa_memory_bytes, _numa_locality_ratio and _tier_memory_bytes from numa_maps,
# kvmem_domain_ksm_* from ksm_stat, kvmem_domain_thp_anon_bytes from smaps_rollup), the collector still succeeds, each refusal is logged once and counted in
# kvmem_libvirt_proc_read_denied_total{file}. Everything else (balloon, guest stats, virtio-mem,
# vCPUs, info) works without privilege.
set -euo pipefail
SRC=${KVMEM_SOURCE_DIR:?}
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then exec "$SRC/tests/e2e/vm/with-guest.sh" "$0" "$@"; fi
source "$SRC/tests/e2e/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
command -v setpriv >/dev/null || fail "setpriv not installed (util-linux)"
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs)
chmod 0755 "$E2E_TMP"
# The testbed's state dir is private (mktemp -d, 0700); let nobody reach the read-only socket
# in it, as on a real host (/run/libvirt is 0755, libvirt-sock-ro 0777).
chmod o+x "$KVMEM_TEST_STATE_DIR" "$KVMEM_TEST_STATE_DIR/run" "$KVMEM_TEST_STATE_DIR/run/libvirt"
D=$KVMEM_TEST_DOMAIN
flags=(--web.listen-address=127.0.0.1:0 --libvirt.uri="$KVMEM_TEST_URI_RO" --libvirt.timeout=5s)
names() { grep -v '^#' "$1" | grep "domain=\"$D\"" | sed 's/[{ ].*//' | sort -u; }

# run NAME PREFIX...: start, scrape until the VM is listed, then once more after the next placement read.
run() {
  local name=$1 port
  shift
  start_daemon "$name" "$@" "$EXPORTER" "${flags[@]}"
  port=${name}_PORT
  for _ in $(seq 1 20); do
    scrape "${!port}" >"$E2E_TMP/$name.prom"
    grep -q "^kvmem_domain_balloon_current_bytes{domain=\"$D\"" "$E2E_TMP/$name.prom" && break
    sleep 0.5
  done
  sleep 11  # placement is re-read every 10 s: the second read must be refused without a new log line
  scrape "${!port}" >"$E2E_TMP/$name.prom"
}
run ROOT env
stop_daemon "$ROOT_PID"
run NOBODY "${as_nobody[@]}"
stop_daemon "$NOBODY_PID"

for f in ROOT NOBODY; do
  assert_eq "$(metric_value "$E2E_TMP/$f.prom" kvmem_libvirt_up)" 1 "$f: libvirt up over the read-only socket"
  assert_eq "$(metric_value "$E2E_TMP/$f.prom" 'kvmem_scrape_collector_success{collector="libvirt"}')" 1 "$f: libvirt collector"
done
missing=$(comm -23 <(names "$E2E_TMP/ROOT.prom") <(names "$E2E_TMP/NOBODY.prom") | tr '\n' ' ')
assert_eq "$missing" "kvmem_domain_ksm_merging_pages kvmem_domain_ksm_profit_bytes kvmem_domain_numa_locality_ratio kvmem_domain_numa_memory_bytes kvmem_domain_thp_anon_bytes kvmem_domain_tier_memory_bytes " \
  "per-VM metrics missing as nobody"
assert_eq "$(comm -13 <(names "$E2E_TMP/ROOT.prom") <(names "$E2E_TMP/NOBODY.prom") | wc -l)" 0 "per-VM metrics only nobody has"
assert_eq "$(metric_value "$E2E_TMP/NOBODY.prom" 'kvmem_libvirt_proc_read_denied_total{file="numa_maps"}')" 2 "numa_maps refusals (2 placement reads)"
assert_eq "$(metric_value "$E2E_TMP/NOBODY.prom" 'kvmem_libvirt_proc_read_denied_total{file="ksm_stat"}')" 2 "ksm_stat refusals"
assert_eq "$(metric_value "$E2E_TMP/NOBODY.prom" 'kvmem_libvirt_proc_read_denied_total{file="smaps_rollup"}')" 2 "smaps_rollup refusals"
grep -q '^kvmem_libvirt_proc_read_denied_total' "$E2E_TMP/ROOT.prom" && fail "root was refused a read"
assert_eq "$(grep -c 'permission denied; the per-VM metrics it feeds are left out' "$NOBODY_LOG")" 3 "warnings (one per file)"
grep -q 'file=/proc/[0-9]*/numa_maps' "$NOBODY_LOG" || fail "the warning does not name the file"
kept=$(names "$E2E_TMP/NOBODY.prom" | wc -l)
pass "as nobody: $kept per-VM metrics kept, exactly numa_maps' and ksm_stat's 4 left out, each refusal logged once and counted"
echo "privileges_exporter_guest: all passed"
