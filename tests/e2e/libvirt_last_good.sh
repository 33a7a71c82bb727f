#!/usr/bin/env bash
# Last good values are served with their age, on any machine: the real kvmem_exporter on
# libvirt's test driver and a copy of the two-node fixture host with a fake QEMU process for
# the domain "test". Once a refresh stops answering (the QEMU process's numa_maps turns into a
# FIFO nobody writes: the worker blocks inside its refresh, as in a hung libvirt call, which
# the test driver itself cannot produce), every scrape returns within --libvirt.timeout with
# kvmem_libvirt_up 0, the domain's values exactly as last read, and
# kvmem_domain_stats_age_seconds growing with the time since; when the refresh completes,
# fresh values come back with age 0.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
H=$E2E_TMP/host
cp -r "${KVMEM_SOURCE_DIR:?}/tests/fixtures/hosts/two-node" "$H"
mkdir -p "$H/proc/31337"
printf '/usr/bin/qemu-system-x86_64\0-uuid\0%s\0-m\0%s' 6695eb01-f6a4-8304-79aa-97f2502e193f 64 >"$H/proc/31337/cmdline"
maps='7f00 default anon=1024 N0=256 N1=768 kernelpagesize_kB=4'
echo "$maps" >"$H/proc/31337/numa_maps"
L='{domain="test",uuid="6695eb01-f6a4-8304-79aa-97f2502e193f"}'
LN='{domain="test",uuid="6695eb01-f6a4-8304-79aa-97f2502e193f",node="1"}'

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --libvirt.uri=test:///default \
  --path.procfs="$H/proc" --path.sysfs="$H/sys" --libvirt.timeout=1s
P=$E2E_TMP/m.prom
# The first refresh runs in the background from start-up: wait for its values.
deadline=$((SECONDS + 60))
until scrape "$EXP_PORT" >"$P" && grep -q "^kvmem_domain_numa_memory_bytes$LN " "$P"; do
  ((SECONDS < deadline)) || fail "no residency for domain test within 60 s"
  sleep 0.2
done
assert_eq "$(metric_value "$P" kvmem_libvirt_up)" 1 "libvirt up at first"
assert_eq "$(metric_value "$P" "kvmem_domain_stats_age_seconds$L")" 0 "age of fresh values"
assert_eq "$(metric_value "$P" "kvmem_domain_balloon_current_bytes$L")" 2147483648 "balloon (test driver)"
assert_eq "$(metric_value "$P" "kvmem_domain_numa_memory_bytes$LN")" 3145728 "node 1 residency (768 pages)"

# The placement of a domain is re-read every 10 s: the refresh after that blocks on the FIFO.
rm "$H/proc/31337/numa_maps"
mkfifo "$H/proc/31337/numa_maps"
hung_at=$SECONDS
deadline=$((SECONDS + 90))
until scrape "$EXP_PORT" >"$P" && [[ "$(metric_value "$P" kvmem_libvirt_up)" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the refresh never blocked on the FIFO within 90 s"
  sleep 0.5
done
age1=$(metric_value "$P" "kvmem_domain_stats_age_seconds$L")
awk -v a="$age1" 'BEGIN { exit !(a > 0) }' || fail "age while hung: $age1, want > 0"
sleep 3  # the gap the age must account for
t=$(curl -sS --max-time 10 -o "$P" -w '%{time_total}' "http://127.0.0.1:$EXP_PORT/metrics")
awk -v t="$t" 'BEGIN { exit !(t < 5.0) }' || fail "a scrape while hung took ${t}s with --libvirt.timeout=1s"
assert_eq "$(metric_value "$P" kvmem_libvirt_up)" 0 "libvirt up while the refresh hangs"
age2=$(metric_value "$P" "kvmem_domain_stats_age_seconds$L")
awk -v a="$age1" -v b="$age2" 'BEGIN { exit !(b >= a + 3) }' || fail "age went $age1 -> $age2 over >= 3 s"
assert_eq "$(metric_value "$P" "kvmem_domain_balloon_current_bytes$L")" 2147483648 "last good balloon"
assert_eq "$(metric_value "$P" "kvmem_domain_numa_memory_bytes$LN")" 3145728 "last good residency"
assert_eq "$(metric_value "$P" 'kvmem_scrape_collector_success{collector="libvirt"}')" 1 "collector success while hung"
pass "hung refresh after $((SECONDS - hung_at)) s: last good values served, age $age1 -> $age2 s"

# Let the blocked read finish: fresh values, age 0 again.
timeout 30 bash -c 'echo "$1" >"$2"' _ "$maps" "$H/proc/31337/numa_maps" || fail "the worker never read the FIFO"
rm "$H/proc/31337/numa_maps"  # a plain file again, so the next placement read does not block
echo "$maps" >"$H/proc/31337/numa_maps"
deadline=$((SECONDS + 60))
until scrape "$EXP_PORT" >"$P" && [[ "$(metric_value "$P" kvmem_libvirt_up)" == 1 ]]; do
  ((SECONDS < deadline)) || fail "libvirt not up again within 60 s of the refresh completing"
  sleep 0.2
done
assert_eq "$(metric_value "$P" "kvmem_domain_stats_age_seconds$L")" 0 "age after recovery"
stop_daemon "$EXP_PID"
pass "refresh completed: fresh values with age 0, clean exit"
