#!/usr/bin/env bash
# The hugepage pool manager end to end, on this machine's real node0 pool: a private libvirtd
# (tests/e2e/vm/libvirtd.sh) holds a shut-off, autostart, hugepage-backed domain pinned to host
# node 0. kvmem_controller --apply --once reserves its pages ahead (virNodeAllocPages through
# libvirt, read back from sysfs). When the domain is undefined, a controller with
# hugepages.reclaim gives back exactly those pages: its headroom keeps the pages that were usable
# before the test, so the pool returns to its size and free count of before, never lower (the
# pool's other pages, in use or free, belong to someone else). On exit the size is written back
# and asserted.
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
orig_free=$(cat $POOL/free_hugepages)
orig_resv=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages)
echo "node0 2 MiB pool before: $orig pages, $orig_free free, $orig_resv reserved (global)"
state=$(mktemp -d /tmp/kvmem-lvd.XXXXXX)
# On exit: the controller first (an --apply daemon could resize the pool again), then the pool.
restore() {
  local rc=$? now
  [[ -n "${CTL_PID:-}" ]] && { kill -KILL "$CTL_PID" 2>/dev/null || true; }  # stop_daemon may have reaped it: harmless
  echo "$orig" >$POOL/nr_hugepages
  now=$(cat $POOL/nr_hugepages)
  "$SRC/tests/e2e/vm/libvirtd.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
  cleanup
  if ((now != orig)); then echo "FAIL: node0 2 MiB pool left at $now pages, was $orig" >&2; exit 1; fi
  exit "$rc"
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
printf 'interval: 500ms\ncompaction:\n  enabled: false\nksm:\n  enabled: false\n' >"$E2E_TMP/policy.yaml"
"$CTL" --policy "$E2E_TMP/policy.yaml" --apply --once --libvirt.uri="$uri" --web.listen-address=127.0.0.1:0 \
  >"$E2E_TMP/once.log" 2>&1 || { cat "$E2E_TMP/once.log" >&2; fail "controller --once exited $?"; }
grep -q "action=\"hugepages node 0 2 MiB: $orig -> $((orig + 4)) pages\".*outcome=applied" "$E2E_TMP/once.log" ||
  { cat "$E2E_TMP/once.log" >&2; fail "no applied resize $orig -> $((orig + 4)) in the log"; }
grep -q "needed (demand $want for kvmem-hugepages + headroom 0)" "$E2E_TMP/once.log" || fail "the reason does not name the VM and its demand"
assert_eq "$(cat $POOL/nr_hugepages)" $((orig + 4)) "node0 pool after the reservation"
pass "autostart VM's pages reserved ahead on node 0: $orig -> $((orig + 4)) pages, read back from sysfs"

# The VM goes; with reclaim on, its pages come back after reclaim_after. The headroom is what
# was usable before the test, so only our 4 pages are excess: the others are not ours to take.
virsh -c "$uri" undefine kvmem-hugepages >/dev/null || fail "undefine"
keep=$((orig_free - orig_resv))
printf 'interval: 500ms\ncompaction:\n  enabled: false\nksm:\n  enabled: false\nhugepages:\n  reclaim: true\n  reclaim_after: 1s\n  headroom: %dMiB\n' \
  $((keep * 2)) >"$E2E_TMP/reclaim.yaml"
start_daemon CTL "$CTL" --policy "$E2E_TMP/reclaim.yaml" --apply --libvirt.uri="$uri" --web.listen-address=127.0.0.1:0
deadline=$((SECONDS + 60))
until (($(cat $POOL/nr_hugepages) == orig)); do
  ((SECONDS < deadline)) || fail "node0 pool at $(cat $POOL/nr_hugepages) pages 60 s after the VM left, want $orig"
  sleep 0.25
done
sleep 2  # four more cycles: the controller must stop there, not release the pages it was told to keep
assert_eq "$(cat $POOL/nr_hugepages)" "$orig" "node0 pool after the VM left"
assert_eq "$(cat $POOL/free_hugepages)" "$orig_free" "node0 free pages after the VM left"
curl -sS "http://127.0.0.1:$CTL_PORT/metrics" >"$E2E_TMP/m.prom"
if ((orig > 0)); then
  assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_hugepage_pool_target_pages{node="0",size="2097152"}')" "$orig" "pool target"
  assert_eq "$(metric_value "$E2E_TMP/m.prom" 'kvmem_controller_hugepage_pool_shortfall_pages{node="0",size="2097152"}')" 0 "shortfall"
else  # an empty pool that nothing needs is not managed: no series
  ! grep -q '^kvmem_controller_hugepage_pool_target_pages{node="0",size="2097152"}' "$E2E_TMP/m.prom" ||
    fail "a target for an empty, unneeded pool: $(grep '^kvmem_controller_hugepage_pool_target_pages' "$E2E_TMP/m.prom")"
fi
stop_daemon "$CTL_PID"
pass "VM gone: its 4 pages released, the pool back at $orig pages, $orig_free free, as before the test"
