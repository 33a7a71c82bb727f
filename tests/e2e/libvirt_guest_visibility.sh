#!/usr/bin/env bash
# Per-VM visibility against a real libvirtd and a real QEMU guest (tests/e2e/vm) whose balloon
# has freePageReporting on: kvmem_domain_info and kvmem_domain_free_page_reporting_missing say
# so, kvmem_domain_thp_anon_bytes matches AnonHugePages of QEMU's own smaps_rollup, the memory
# per tier adds up to the memory per node, and --check-host sees the VM. Exit 77 (skip) only
# when this machine cannot run the guest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "${KVMEM_TEST_URI:-}" ]]; then KVMEM_VM_FREE_PAGE_REPORTING=on exec "$here/vm/with-guest.sh" "$0" "$@"; fi
source "$here/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
MiB=1048576
dom=$KVMEM_TEST_DOMAIN
uuid=$(virsh -q -r -c "$KVMEM_TEST_URI_RO" domuuid "$dom")
L="domain=\"$dom\",uuid=\"$uuid\""
exact_value() { S="$2" awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF; exit }' "$1"; }

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri="$KVMEM_TEST_URI_RO" --libvirt.timeout=5s
out="$E2E_TMP/scrape.prom"
for _ in $(seq 20); do
  scrape "$EXP_PORT" >"$out"
  [[ -n "$(exact_value "$out" "kvmem_domain_thp_anon_bytes{$L}")" ]] && break
  sleep 0.5
done
grep -qF "free_page_reporting=\"true\"} 1" <(grep "^kvmem_domain_info{$L" "$out") || fail "kvmem_domain_info: $(grep kvmem_domain_info "$out")"
assert_eq "$(exact_value "$out" "kvmem_domain_free_page_reporting_missing{$L}")" 0 "free page reporting missing"
pass "freePageReporting='on' is seen: info true, missing 0"

# THP coverage: the exporter's value against QEMU's smaps_rollup read right after it; the guest
# keeps faulting memory in, so they agree within 16 MiB.
thp=$(exact_value "$out" "kvmem_domain_thp_anon_bytes{$L}")
[[ -n "$thp" ]] || fail "no kvmem_domain_thp_anon_bytes"
smaps=$(awk '/^AnonHugePages:/ {print $2 * 1024}' "/proc/$KVMEM_TEST_QEMU_PID/smaps_rollup")
awk -v a="$thp" -v b="$smaps" -v t=$((16 * MiB)) 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
  fail "THP: exporter $thp bytes, smaps_rollup $smaps bytes"
echo "THP-backed QEMU memory: exporter $((thp / MiB)) MiB, smaps_rollup $((smaps / MiB)) MiB (THP $(cat /sys/kernel/mm/transparent_hugepage/enabled))"
pass "kvmem_domain_thp_anon_bytes matches QEMU's smaps_rollup"

# Memory per tier = memory per node summed over the tier's nodes.
if [[ -d /sys/devices/virtual/memory_tiering ]]; then
  per_node=$(grep "^kvmem_domain_numa_memory_bytes{$L" "$out" | awk '{s += $NF} END {print s + 0}')
  per_tier=$(grep "^kvmem_domain_tier_memory_bytes{$L" "$out" | awk '{s += $NF} END {print s + 0}')
  assert_eq "$per_tier" "$per_node" "memory per tier sums to memory per node"
  pass "memory per tier: $((per_tier / MiB)) MiB over $(grep -c "^kvmem_domain_tier_memory_bytes{$L" "$out") tier(s)"
fi
stop_daemon "$EXP_PID"

rc=0
"$EXPORTER" --check-host --libvirt.uri="$KVMEM_TEST_URI_RO" --libvirt.timeout=5s >"$E2E_TMP/report" 2>/dev/null || rc=$?
cat "$E2E_TMP/report"
grep -q '^ok    free_page_reporting_off$' "$E2E_TMP/report" || fail "--check-host: free page reporting"
grep -q '^ok    thp_never_with_thp_capable_vms$\|^FAIL  thp_never_with_thp_capable_vms' "$E2E_TMP/report" || fail "--check-host: THP check not evaluated"
pass "--check-host evaluates the VM checks against the real guest (exit $rc)"
