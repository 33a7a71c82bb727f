#!/usr/bin/env bash
# The hugepage pool manager end to end, on this machine's real node0 pool: a private libvirtd
# (tests/e2e/vm/libvirtd.sh) holds a shut-off, autostart, hugepage-backed domain pinned to host
# node 0. kvmem_controller --apply --once reserves its pages ahead (virNodeAllocPages through
# libvirt, read back from sysfs). When the domain is undefined, a controller with
# hugepages.reclaim gives the pages back. The pool is restored to its exact size on exit.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} CTL=${KVMEM_CONTROLLER:?}
[[ $(id -u) -eq 0 ]] || { echo "skip: resizing hugepage pools needs root"; exit 77; }
POOL=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
[[ -w $POOL/nr_hugepages ]] || { echo "skip: no writable 2 MiB pool on node0"; exit 77; }
command -v libvirtd >/dev/null || [[ -x /usr/sbin/libvirtd ]] || { echo "skip: libvirtd not installed (scripts/setup.sh --with-vm)"; exit 77; }
unshare --mount true 2>/dev/null || { echo "skip: no mount namespaces here"; exit 77; }

# The benchmark and the actuator test resize the same pool: one at a time.
exec 9>/run/lock/kvmem-hugepage-pool.lock
flock -w 300 9 || fail "the hugepage pool lock is held by someone else for 5 minutes"
orig=$(cat $POOL/nr_hugepages)
state=$(mktemp -d /tmp/kvmem-lvd.XXXXXX)
# On exit: the controller first (an --apply daemon could resize the pool again), then the pool.
restore() {
  [[ -n "${CTL_PID:-}" ]] && { kill -KILL "$CTL_PID" 2>/dev/null || true; }  # stop_daemon may have reaped it: harmless
  echo "$orig" >$POOL/nr_hugepages
  [[ $(cat $POOL/nr_hugepages) -eq $orig ]] || echo "WARNING: node0 2 MiB pool is $(cat $POOL/nr_hugepages), was $orig" >&2
  "$SRC/tests/e2e/vm/libvirtd.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
  cleanup
}
trap restore EXIT
"$SRC/tests/e2e/vm/libvirtd.sh" start "$state" >"$E2E_TMP/libvirtd.out" 2>&1 || { cat "$E2E_TMP/libvirtd.out" >&2; fail "private libvirtd"; }
uri=$(cat "$state/uri")

free=$(cat $POOL/free_hugepages)
resv=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages)
want=$((free - resv + 4))  # the domain needs 4 pages more than are usable now
cat >"$E2E_TMP/dom.xml" <<EOF
<domain type='qemu'>
  <name>kvmem-hugepages</name>
  <memory unit='MiB'>$((want * 2))</memory>
  <vcpu>1</vcpu>
  <memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>
  <numatune><memory mode='strict' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>
EOF
virsh -c "$uri" define "$E2E_TMP/dom.xml" >/dev/null || fail "define"
virsh -c "$uri" autostart kvmem-hugepages >/dev/null || fail "autostart"

# Compaction first would depend on this host's fragmentation: keep the run exact.
printf 'interval: 500ms\ncompaction:\n  enabled: false\n' >"$E2E_TMP/policy.yaml"
"$CTL" --policy "$E2E_TMP/policy.yaml" --apply --once --libvirt.uri="$uri" --web.listen-address=127.0.0.1:0 \
  >"$E2E_TMP/once.log" 2>&1 || { cat "$E2E_TMP/once.log" >&2; fail "controller --once exited $?"; }
grep -q "action=\"hugepages node 0 2 MiB: $orig -> $((orig + 4)) pages\".*outcome=applied" "$E2E_TMP/once.log" ||
  { cat "$E2E_TMP/once.log" >&2; fail "no applied resize $orig -> $((orig + 4)) in the log"; }
grep -q "needed (demand $want for kvmem-hugepages + headroom 0)" "$E2E_TMP/once.log" || fail "the reason does not name the VM and its demand"
assert_eq "$(cat $POOL/nr_hugepages)" $((orig + 4)) "node0 pool after the reservation"
pass "autostart VM's pages reserved ahead on node 0: $orig -> $((orig + 4)) pages, read back from sysfs"

# The VM goes; with reclaim on, its pages come back after reclaim_after.
virsh -c "$uri" undefine kvmem-hugepages >/dev/null || fail "undefine"
printf 'interval: 500ms\ncompaction:\n  enabled: false\nhugepages:\n  reclaim: true\n  reclaim_after: 1s\n' >"$E2E_TMP/reclaim.yaml"
start_daemon CTL "$CTL" --policy "$E2E_TMP/reclaim.yaml" --apply --libvirt.uri="$uri" --web.listen-address=127.0.0.1:0
used=$(( $(cat $POOL/nr_hugepages) - $(cat $POOL/free_hugepages) ))
for _ in $(seq 1 60); do
  [[ $(cat $POOL/nr_hugepages) -eq $used ]] && break
  sleep 0.25
done
assert_eq "$(cat $POOL/nr_hugepages)" "$used" "node0 pool after the VM left: only pages in use stay"
curl -sS "http://127.0.0.1:$CTL_PORT/metrics" >"$E2E_TMP/m.prom"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_hugepage_pool_target_pages{node="0",size="2097152"}')" "$used" "pool target"
assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_hugepage_pool_shortfall_pages{node="0",size="2097152"}')" 0 "shortfall"
stop_daemon "$CTL_PID"
pass "VM gone: free pages released ($used pages in use kept)"
