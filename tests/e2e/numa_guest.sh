#!/usr/bin/env bash
# The multi-node code paths on a real kernel with two NUMA nodes: a plain QEMU TCG guest (no
# libvirt) with nodes 0 and 1 of 1 GiB each, one CPU each, distance 21, boots the cached Debian
# cloud kernel (tests/e2e/vm/build-guest.sh) with an initramfs of its own built here: busybox,
# an /init written below, the stripped kvmem binaries and every shared library they load. Inside
# the guest, as root against its real /proc and /sys:
#   1. 2 MiB pools of 10 pages on node0 and 12 on node1, then kvmem_exporter (libvirt off,
#      memory_blocks on) scraped once with busybox wget on 127.0.0.1;
#   2. the kvmem_unit_tests cases with two-node branches or real pools: page migration of a real
#      child from node 1 to node 0, libnuma's node CPUs against sysfs, the refusals, node0's pool
#      and compaction;
#   3. kvmem_hugepage_ab with a 16 MiB buffer, local (mem N0) against remote (mem N1);
#   4. kvmem_controller --once --apply without libvirt and with 32 MiB of hugepage headroom: the
#      pool manager grows both nodes' pools to 16 pages;
#   5. node 1 fragmented: kvmem-fragment (guest/fragment.c, built static here) fills it with
#      4 KiB pages down to its watermarks plus 16 MiB and gives back every other page, and the
#      2 MiB blocks still free go into node 1's pool, so its buddyinfo shows no free block of
#      order >= 9 (kcompactd's proactive compaction off meanwhile). Then kvmem_controller
#      --once --apply with 256 MiB of headroom and compact_above 0.25 must compact node 1
#      before growing its pool to 128 pages, and node 0's (with free 2 MiB blocks) without.
# Results come back on the guest's second serial port, in "=== BEGIN name" / "=== END name"
# sections, and are checked here: exact node facts from the QEMU command line, promtool on the
# scrape, the tests passed and not skipped, bytes migrated, the benchmark's remote rows, and for
# step 5 the controller's index against one computed here from the guest's buddyinfo (and the
# kernel's debugfs extfrag_index), compaction logged before the resize, the pools read back,
# and no direct compaction by the kernel while the pool grew.
# TCG numbers say nothing about speed. Exit 77 only when no QEMU or no guest kernel can be had.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} BUILD=${KVMEM_BUILD_DIR:?}
EXPORTER=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?}
UNIT=${KVMEM_UNIT_TESTS:-$BUILD/tests/kvmem_unit_tests}
BENCH=${KVMEM_HUGEPAGE_AB:-$BUILD/bench/hugepages/kvmem_hugepage_ab}
QEMU_TIMEOUT=${KVMEM_NUMA_GUEST_TIMEOUT:-360}
skip() { echo "skip: $*"; exit 77; }
now() { local t=$EPOCHREALTIME; echo "${t/,/.}"; }

[[ $(uname -m) == x86_64 ]] || skip "needs an x86_64 host"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/setup.sh --with-vm)"
for c in busybox promtool ldd strip gcc; do command -v "$c" >/dev/null || fail "$c not found (scripts/setup.sh)"; done
for b in "$EXPORTER" "$CTL" "$UNIT" "$BENCH"; do [[ -x $b ]] || fail "not built: $b"; done
cache=${KVMEM_VM_CACHE:-/var/tmp/kvmem-vm-cache}
rc=0
"$SRC/tests/e2e/vm/build-guest.sh" "$cache" || rc=$?
((rc != 77)) || skip "no guest kernel obtainable"
((rc == 0)) || fail "build-guest.sh exited $rc"

# --- initramfs -----------------------------------------------------------------------------
t0=$(now)
root=$E2E_TMP/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,kvmem}
cp "$(command -v busybox)" "$root/bin/busybox"
! ldd "$root/bin/busybox" >/dev/null 2>&1 || fail "busybox is dynamically linked; the initramfs needs busybox-static"
declare -A libs=()
for b in "$EXPORTER" "$CTL" "$UNIT" "$BENCH"; do
  strip -o "$root/kvmem/$(basename "$b")" "$b"  # the debug info would cost ~300 MiB of guest RAM
  while read -r lib; do libs[$lib]=1; done < <(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
done
for lib in "${!libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[[ -f $root/lib64/ld-linux-x86-64.so.2 ]] || fail "the dynamic loader is not in the initramfs"
gcc -static -O2 -s -Wall -o "$root/bin/kvmem-fragment" "$SRC/tests/e2e/vm/guest/fragment.c" || fail "building guest/fragment.c"
cat >"$root/kvmem/env" <<EOF
GTEST_FILTER='Placement.MigratesARealProcessToNodeZero:Placement.LibnumaNodeCpusMatchSysfs:Placement.MigrateRefusesAStrangerAMissingNodeAndADeadProcess:HugepagePoolActuator.RealNodeZeroGrowsByFourAndReturnsWhenRoot:SysfsCompaction.RealNodeZeroWhenRoot:HugepageRunner.FourKilobyteRunGetsFourKilobytePages'
BENCH_FLAGS='--size=16M --modes=4k,2m --warmup=1 --rounds=2 --accesses=200000 --stream-passes=1'
POOL0=10
POOL1=12
FRAG_KEEP=2
COMPACT_HEADROOM=256MiB
# KSM and offload have their own tests (ksm_guest.sh, offload_guest.sh); here they would only add
# skips (pages merged across the two nodes, no swap) to plans that must hold exactly the pools'.
NO_DENSITY='ksm:
  enabled: false
offload:
  enabled: false
'
EOF
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
# /init of the two-node guest of tests/e2e/numa_guest.sh: runs each step, writes its output
# between "=== BEGIN NAME" and "=== END NAME rc=N s=SECONDS" to ttyS1, then powers off.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# shellcheck disable=SC1091 # written by numa_guest.sh
. /kvmem/env
echo "kvmem-numa: init at uptime $(cut -d' ' -f1 /proc/uptime)"
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
step() { # NAME CMD...: the command's stdout and stderr into the section
  name=$1; shift
  t0=$(cut -d' ' -f1 /proc/uptime)
  echo "=== BEGIN $name" >&3
  "$@" >&3 2>&1
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  echo "=== END $name rc=$rc s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')" >&3
  echo "kvmem-numa: $name rc=$rc"
}
pool() { echo "/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/$2"; }
nodes() {
  echo "uptime_at_init $(cut -d' ' -f1 /proc/uptime)"
  for n in /sys/devices/system/node/node[0-9]*; do
    echo "$(basename "$n") cpulist=$(cat "$n/cpulist") distance=$(tr ' ' , <"$n/distance")" \
      "MemTotal_kB=$(awk '$3 == "MemTotal:" {print $4}' "$n/meminfo")"
  done
  echo "meminfo_MemTotal_kB $(awk '$1 == "MemTotal:" {print $2}' /proc/meminfo)"
  echo "memory_block_size 0x$(cat /sys/devices/system/memory/block_size_bytes)"
}
pools() {
  echo "$POOL0" >"$(pool 0 nr_hugepages)" || return 1
  echo "$POOL1" >"$(pool 1 nr_hugepages)" || return 1
  pools_show
}
pools_show() { for n in 0 1; do echo "node$n nr=$(cat "$(pool $n nr_hugepages)") free=$(cat "$(pool $n free_hugepages)")"; done; }
exporter() {
  ip link set lo up || return 1
  /kvmem/kvmem_exporter --web.listen-address=127.0.0.1:9848 --no-collector.libvirt --collector.memory_blocks \
    2>/tmp/exporter.log &
  pid=$!
  i=0
  until wget -q -O /tmp/scrape.prom http://127.0.0.1:9848/metrics 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge 120 ] || ! kill -0 "$pid" 2>/dev/null; then cat /tmp/exporter.log; return 1; fi
    sleep 0.5
  done
  kill -TERM "$pid"
  wait "$pid"
  erc=$?
  cat /tmp/scrape.prom
  [ "$erc" -eq 0 ] || { cat /tmp/exporter.log; return "$erc"; }
}
# shellcheck disable=SC2086 # word splitting wanted
bench() { /kvmem/kvmem_hugepage_ab $BENCH_FLAGS; }
controller() {
  printf 'interval: 500ms\ncompaction:\n  enabled: false\nhugepages:\n  headroom: 32MiB\n%s' "$NO_DENSITY" >/tmp/policy.yaml
  /kvmem/kvmem_controller --policy /tmp/policy.yaml --apply --once --libvirt.uri= --web.listen-address=127.0.0.1:0
  crc=$?
  pools_show
  return "$crc"
}
# Node 1 left with no free 2 MiB block (kvmem-fragment, then its last big blocks soaked into
# the pool), then one cycle that must compact it before it can grow its pool. kcompactd's
# proactive compaction would undo the fragmentation within a second: off for these two steps.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
buddy() { grep -E '^Node [0-9]+, zone' /proc/buddyinfo | sed "s/^/$1 /"; }
extfrag() { [ ! -r /sys/kernel/debug/extfrag/extfrag_index ] || sed "s/^/$1 extfrag /" /sys/kernel/debug/extfrag/extfrag_index; }
vmstat_compact() { echo "$1 vmstat $(grep -E '^compact_(stall|success|migrate_scanned|free_scanned|isolated) ' /proc/vmstat | tr '\n' ' ')"; }
fragment() {
  taskset -p 1 $$ >/dev/null || return 1  # this shell and its children on CPU 0, CPU 1 quiet
  mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
  PROACTIVENESS=$(cat /proc/sys/vm/compaction_proactiveness)
  echo 0 >/proc/sys/vm/compaction_proactiveness || return 1
  echo "compaction_proactiveness $PROACTIVENESS -> 0"
  # The floor: node 1's high watermarks (its zones' "high", in pages) + 16 MiB, so that
  # kswapd stays asleep and the OOM killer away.
  high=$(awk '$1 == "Node" {on = $2 == "1,"} on && $1 == "high" && NF == 2 {s += $2} END {print s + 0}' /proc/zoneinfo)
  floor=$((high * 4 / 1024 + 16))
  echo "node1 high watermark $high pages; floor $floor MiB"
  taskset -c 1 /bin/kvmem-fragment 1 "$FRAG_KEEP" "$floor" >/tmp/fragment.log 2>&1 &
  FRAG_PID=$!
  i=0
  until grep -q '^kvmem-fragment: ready' /tmp/fragment.log; do
    i=$((i + 1))
    if [ "$i" -ge 1200 ] || ! kill -0 "$FRAG_PID" 2>/dev/null; then cat /tmp/fragment.log; return 1; fi
    sleep 0.1
  done
  cat /tmp/fragment.log
  buddy filled
  extfrag filled
  pools_show
}
compaction() {
  printf 'interval: 500ms\ncompaction:\n  compact_above: 0.25\n  quiet_below: 0.9\nhugepages:\n  headroom: %s\n%s' \
    "$COMPACT_HEADROOM" "$NO_DENSITY" >/tmp/policy-compact.yaml
  echo "psi $(head -n 1 /proc/pressure/memory)"
  # The big blocks left above the floor go into node 1's pool, so none stays free, right
  # before the controller looks. Written from CPU 1: the allocator keeps a spare order-9
  # block on the writing CPU's per-CPU list, which comes back to the buddy lists when that
  # list is drained: soon when the CPU is remote to the node, not while CPU 1 stays quiet.
  i=0
  while big=$(awk '$2 == "1," {s += $14 + 2 * $15} END {print s + 0}' /proc/buddyinfo) && [ "$big" -gt 0 ] && [ "$i" -lt 5 ]; do
    nr=$(cat "$(pool 1 nr_hugepages)")
    echo "soak: $big free 2 MiB blocks into node1's pool, $nr -> $((nr + big))"
    taskset -c 1 sh -c "echo $((nr + big)) >$(pool 1 nr_hugepages)" || return 1
    i=$((i + 1))
  done
  pools_show | sed 's/^/before /'
  vmstat_compact before
  buddy before
  extfrag before
  t0=$(uptime_s)
  /kvmem/kvmem_controller --policy /tmp/policy-compact.yaml --apply --once --libvirt.uri= \
    --web.listen-address=127.0.0.1:0
  crc=$?
  echo "controller_s $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN {printf "%.2f", b - a}')"
  buddy after
  extfrag after
  vmstat_compact after
  kill "$FRAG_PID"
  wait "$FRAG_PID" 2>/dev/null
  echo "$PROACTIVENESS" >/proc/sys/vm/compaction_proactiveness
  taskset -p 3 $$ >/dev/null
  pools_show
  return "$crc"
}
step nodes nodes
step pools pools
step exporter exporter
step gtest /kvmem/kvmem_unit_tests --gtest_color=no "--gtest_filter=$GTEST_FILTER"
step pools_after_gtest pools_show
step bench bench
step pools_after_bench pools_show
step controller controller
step fragment fragment
step compaction compaction
echo "=== DONE" >&3
exec 3>&-  # closing the port waits for its output to drain
sync
poweroff -f
INIT
chmod 0755 "$root/init"
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) >"$E2E_TMP/initrd.cpio"
echo "initramfs: $(du -m "$E2E_TMP/initrd.cpio" | cut -f1) MiB uncompressed, ${#libs[@]} libraries, built in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"

# --- boot --------------------------------------------------------------------------------------
console=$E2E_TMP/console.log results=$E2E_TMP/results.raw
t_boot=$(now)
qrc=0
timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -display none -accel tcg \
  -machine q35 -cpu max -smp 2 -m 2G \
  -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
  -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
  -numa dist,src=0,dst=1,val=21 \
  -kernel "$cache/vmlinuz" -initrd "$E2E_TMP/initrd.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$console" -serial "file:$results" -no-reboot </dev/null >"$E2E_TMP/qemu.out" 2>&1 || qrc=$?
boot_s=$(awk -v a="$t_boot" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')
tr -d '\r' <"$results" >"$E2E_TMP/results.txt"
R=$E2E_TMP/results.txt
diag() { echo "---- QEMU ----"; cat "$E2E_TMP/qemu.out"; echo "---- console (tail) ----"; tail -n 40 "$console"; echo "---- results (tail) ----"; tail -n 60 "$R"; } >&2
((qrc == 0)) || { diag; fail "QEMU exited $qrc after $boot_s s (124: killed by the ${QEMU_TIMEOUT}s timeout)"; }
grep -qx '=== DONE' "$R" || { diag; fail "the guest did not finish its steps"; }
echo "guest ran for $boot_s s (QEMU start to power-off)"

# section NAME: the output of a step; end_of NAME: its "rc=N s=S"
section() { awk -v n="$1" '$0 == "=== BEGIN " n {on = 1; next} on && index($0, "=== END " n " ") == 1 {exit} on' "$R"; }
end_of() { sed -n "s/^=== END $1 //p" "$R"; }
for s in nodes pools exporter gtest pools_after_gtest bench pools_after_bench controller fragment compaction; do
  echo "step $s: $(end_of "$s")"
  [[ $(end_of "$s") == rc=0\ * ]] || { section "$s" | tail -n 40 >&2; fail "guest step $s: $(end_of "$s")"; }
done
section nodes >"$E2E_TMP/nodes.txt"
section exporter >"$E2E_TMP/scrape.prom"
section gtest >"$E2E_TMP/gtest.txt"
section bench >"$E2E_TMP/bench.md"
section controller >"$E2E_TMP/controller.txt"
section fragment >"$E2E_TMP/fragment.txt"
section compaction >"$E2E_TMP/compaction.txt"
cat "$E2E_TMP/nodes.txt"

# --- 1. topology and the exporter ----------------------------------------------------------------
grep -q "^node0 cpulist=0 distance=10,21 MemTotal_kB=" "$E2E_TMP/nodes.txt" || fail "node0 in the guest's sysfs"
grep -q "^node1 cpulist=1 distance=21,10 MemTotal_kB=" "$E2E_TMP/nodes.txt" || fail "node1 in the guest's sysfs"
assert_eq "$(grep -c '^node[0-9]' "$E2E_TMP/nodes.txt")" 2 "nodes in the guest's sysfs"
P=$E2E_TMP/scrape.prom
promtool check metrics <"$P" >"$E2E_TMP/promtool.txt" 2>&1 || { cat "$E2E_TMP/promtool.txt" >&2; fail "promtool check metrics on the guest's scrape"; }
assert_eq "$(grep -oE '^kvmem_node_memory_total_bytes\{node="[0-9]+"\}' "$P" | tr '\n' ' ')" \
  'kvmem_node_memory_total_bytes{node="0"} kvmem_node_memory_total_bytes{node="1"} ' "nodes in the per-node memory metrics"
total=0
for n in 0 1; do
  kb=$(sed -n "s/^node$n .*MemTotal_kB=//p" "$E2E_TMP/nodes.txt")
  bytes=$(metric_value "$P" "kvmem_node_memory_total_bytes{node=\"$n\"}")
  assert_eq "$bytes" $((kb * 1024)) "node $n total: the exporter against nodeN/meminfo"
  # 1 GiB of RAM per node; the kernel keeps its image, page structs and the initramfs out of it.
  ((bytes > 800 * 1024 * 1024 && bytes <= 1024 * 1024 * 1024)) || fail "node $n total $bytes B, want 800 MiB..1 GiB"
  total=$((total + bytes))
  assert_eq "$(metric_value "$P" "kvmem_node_cpus{node=\"$n\"}")" 1 "node $n CPUs"
  assert_eq "$(metric_value "$P" "kvmem_node_info{node=\"$n\",cpulist=\"$n\"}")" 1 "node $n cpulist"
  assert_eq "$(metric_value "$P" "kvmem_node_distance{node=\"$n\",to_node=\"$n\"}")" 10 "node $n local distance"
  assert_eq "$(metric_value "$P" "kvmem_node_distance{node=\"$n\",to_node=\"$((1 - n))\"}")" 21 "node $n remote distance"
  # 1 GiB per node in 128 MiB blocks
  assert_eq "$(metric_value "$P" "kvmem_node_memory_blocks{node=\"$n\",state=\"online\"}")" 8 "node $n online memory blocks"
  assert_eq "$(metric_value "$P" "kvmem_node_hugepages_pool_pages{node=\"$n\",size=\"2097152\"}")" $((n == 0 ? 10 : 12)) "node $n 2 MiB pool"
  assert_eq "$(metric_value "$P" "kvmem_node_hugepages_free_pages{node=\"$n\",size=\"2097152\"}")" $((n == 0 ? 10 : 12)) "node $n 2 MiB free"
done
assert_eq "$total" $(($(awk '$1 == "meminfo_MemTotal_kB" {print $2}' "$E2E_TMP/nodes.txt") * 1024)) "node totals add up to MemTotal"
assert_eq "$(metric_value "$P" kvmem_memory_block_size_bytes)" 134217728 "memory block size"
assert_eq "$(grep -c '^kvmem_scrape_collector_success{.*} 1$' "$P")" 12 "collectors succeeding (12 of 12)"
pass "exporter: nodes 0 and 1, $((total / 1048576)) MiB in all, 1 CPU, 8 blocks, distance 21 and the pools each; promtool clean"

# --- 2. unit tests with two-node branches --------------------------------------------------------
G=$E2E_TMP/gtest.txt
grep -q '^\[  PASSED  \] 6 tests\.' "$G" || { cat "$G" >&2; fail "expected 6 passed tests in the guest"; }
! grep -q '^\[  SKIPPED \]' "$G" || { cat "$G" >&2; fail "a test skipped in the guest"; }
! grep -q '^\[  FAILED  \]' "$G" || { cat "$G" >&2; fail "a test failed in the guest"; }
migrated=$(sed -n 's/^resident before: \([0-9]*\) MiB; migrated \([0-9]*\) B in \([0-9]*\) ms$/\2/p' "$G")
[[ -n $migrated ]] || fail "no 'migrated N B' line from Placement.MigratesARealProcessToNodeZero"
((migrated >= 64 * 1048576)) || fail "migrated $migrated B, want >= 64 MiB"
grep -E '^(resident before|node 0 2 MiB pool)|^\[ +OK \]' "$G"
assert_eq "$(section pools_after_gtest | tr '\n' ' ')" "node0 nr=10 free=10 node1 nr=12 free=12 " "pools after the unit tests"
pass "6 unit tests passed in the guest, none skipped; $migrated B migrated from node 1 to node 0"

# --- 3. the benchmark, local against remote -------------------------------------------------------
B=$E2E_TMP/bench.md
grep -qxF -- '- NUMA: 2 node(s) with memory; placement cpu N0, mem N0 (local, distance 10)' "$B" || fail "bench: local placement line"
grep -qxF -- '- remote comparison: cpu N0, mem N1 (distance 21)' "$B" || fail "bench: remote comparison line"
grep -qxF -- '- 2 MiB pool (node1): 12 free of 12, 8 needed' "$B" || fail "bench: node1 pool check"
for m in 0 1; do
  grep -qxF -- "- 4k (cpu N0, mem N$m): KernelPageSize=4 kB MMUPageSize=4 kB AnonHugePages=0 kB Hugetlb=0 kB numa_maps bind:$m N$m=4096; fault-in took 4096 minor faults" "$B" ||
    fail "bench: 4k pages on N$m: $(grep -- "^- 4k (cpu N0, mem N$m)" "$B")"
  grep -qxF -- "- 2m (cpu N0, mem N$m): KernelPageSize=2048 kB MMUPageSize=2048 kB AnonHugePages=0 kB Hugetlb=16384 kB numa_maps bind:$m N$m=8; fault-in took 8 minor faults" "$B" ||
    fail "bench: 2m pages on N$m: $(grep -- "^- 2m (cpu N0, mem N$m)" "$B")"
  grep -qE "^\| cpu N0, mem N$m \| 4k \| [0-9]+\.[0-9] \|.*\| 2 \| 4 kB \(THP 0 MiB\) \|$" "$B" || fail "bench: 4k median row for N$m"
  grep -qE "^\| cpu N0, mem N$m \| 2m \| [0-9]+\.[0-9] \|.*\| 2 \| 2048 kB \(hugetlb 16 MiB\) \|$" "$B" || fail "bench: 2m median row for N$m"
  grep -qE "^\| cpu N0, mem N$m \| 2m/4k \| [0-9]+\.[0-9]{2}x \|" "$B" || fail "bench: ratio row for N$m"
done
assert_eq "$(grep -cE '^\| [0-9]+( \(warm-up\))? \| cpu N0, mem N[01] \| (4k|2m) \|' "$B")" 12 "bench raw runs (2 placements x 3 rounds x 2 modes)"
assert_eq "$(section pools_after_bench | tr '\n' ' ')" "node0 nr=10 free=10 node1 nr=12 free=12 " "pools after the benchmark"
echo "benchmark medians (TCG: emulated, the numbers say nothing about real speed):"
grep -E '^\| (placement|cpu N0)' "$B"
pass "benchmark: 4k and 2m, local on N0 and remote on N1, each on the pages asked for"

# --- 4. the hugepage pool manager on both nodes -----------------------------------------------------
C=$E2E_TMP/controller.txt
for n in 0 1; do
  from=$((n == 0 ? 10 : 12))
  grep -q "action=\"hugepages node $n 2 MiB: $from -> 16 pages\".*outcome=applied" "$C" ||
    { cat "$C" >&2; fail "controller: no applied resize of node $n $from -> 16"; }
done
assert_eq "$(tail -n 2 "$C" | tr '\n' ' ')" "node0 nr=16 free=16 node1 nr=16 free=16 " "pools after the controller"
pass "controller --once --apply: node 0 10 -> 16 and node 1 12 -> 16 pages, read back from sysfs"
# --- 5. compaction before reservation on a fragmented node 1 ----------------------------------------
F=$E2E_TMP/fragment.txt K=$E2E_TMP/compaction.txt
# node_index TAG NODE FILE: the fragmentation index for order 9 from the "TAG Node N, zone Z
# c0 .. c10" lines, by the kernel's integer arithmetic (mm/vmstat.c __fragmentation_index).
node_index() {
  awk -v tag="$1" -v node="$2," '$1 == tag && $2 == "Node" && $3 == node {
      for (k = 0; k + 6 <= NF; k++) { c = $(k + 6); blocks += c; pages += c * 2 ^ k; if (k >= 9) suitable += c * 2 ^ (k - 9) }
      zones++ }
    END { if (!zones) exit 1
      if (blocks == 0) v = 0; else if (suitable > 0) v = -1000; else v = 1000 - int((1000 + int(pages * 1000 / 512)) / blocks)
      printf "%.3f\n", v / 1000 }' "$3"
}
big_blocks() { awk -v tag="$1" -v node="$2," '$1 == tag && $3 == node {s += $15 + 2 * $16} END {print s + 0}' "$3"; }
grep -E '^(compaction_proactiveness|node1 high|kvmem-fragment)' "$F"; grep -E '^(psi|soak|before node|plan:|controller_s)' "$K"
sed -n 's/^ts=[^ ]* level=\([a-z]*\) msg=action \(action="[^"]*"\) rule=\([^ ]*\) .*\( inputs="[^"]*"\).* \(outcome=.*\)$/\1 \2 \3\4 \5/p' "$K"
ready=$(grep '^kvmem-fragment: ready: ' "$F") || { cat "$F" >&2; fail "kvmem-fragment did not report ready"; }
[[ $ready =~ touched\ ([0-9]+)\ pages.*released\ ([0-9]+)\ keeping\ 1\ in\ 2\  ]] || fail "kvmem-fragment ready line: $ready"
touched=${BASH_REMATCH[1]}
assert_eq "${BASH_REMATCH[2]}" $((touched / 2)) "4 KiB pages released of the $touched node 1 held"
((touched * 4096 >= 512 * 1048576)) || fail "kvmem-fragment filled only $((touched / 256)) MiB of node 1, want >= 512 MiB"
assert_eq "$(big_blocks before 1 "$K")" 0 "free 2 MiB blocks on node 1 as the controller starts"
pool1=$(sed -n 's/^before node1 nr=\([0-9]*\) free=\1$/\1/p' "$K")
[[ -n $pool1 ]] || fail "node 1's pool after the soak: $(grep '^before node1 ' "$K")"
((pool1 >= 16 && pool1 < 128)) || fail "node 1's pool is $pool1 pages after the soak; the step needs 16..127 for a grow to 128"
grep -q '^before node0 nr=16 free=16$' "$K" || fail "node 0's pool after the soak: $(grep '^before node0 ' "$K")"
idx_filled=$(node_index filled 1 "$F") || fail "no node 1 in the buddyinfo after kvmem-fragment"
idx_before=$(node_index before 1 "$K") || fail "no node 1 in the buddyinfo before the controller"
idx_after=$(node_index after 1 "$K") || fail "no node 1 in the buddyinfo after the controller"
awk -v i="$idx_before" 'BEGIN {exit !(i > 0.9)}' || fail "node 1's index before the controller is $idx_before, want > 0.9"
# The kernel's own index (debugfs), where node 1 has a single zone, from the same moment.
if grep -q '^before extfrag Node 1,' "$K" && (($(grep -c '^before Node 1,' "$K") == 1)); then
  assert_eq "$(awk '$1 == "before" && $2 == "extfrag" && $4 == "1," {print $16}' "$K")" "$idx_before" \
    "node 1 order-9 extfrag_index (debugfs) against buddyinfo before the controller"
fi
compact_line=$(grep -n 'action="compact node 1" rule=hugepages.grow ' "$K") || { cat "$K" >&2; fail "controller: no compaction of node 1"; }
grow_line=$(grep -n "action=\"hugepages node 1 2 MiB: $pool1 -> 128 pages\" rule=hugepages.grow " "$K") ||
  { cat "$K" >&2; fail "controller: no resize of node 1 $pool1 -> 128"; }
idx_ctl=$(printf '%s' "$compact_line" | sed -n 's/.* inputs="[^"]*fragmentation_index=\([-0-9.]*\)".*/\1/p')
assert_eq "$(printf '%.3f' "$idx_ctl")" "$idx_before" "node 1's index: the controller's reading against buddyinfo just before"
grep -qF "why=\"node 1 2 MiB pool: usable $pool1 pages < 128 needed (demand 0 + headroom 128); growing $pool1 -> 128 pages; compacting the node first: fragmentation index $idx_ctl > compact_above 0.25\" outcome=applied error=\"\"" <<<"$compact_line" ||
  fail "controller: the compaction of node 1: $compact_line"
((${compact_line%%:*} < ${grow_line%%:*})) || fail "controller: node 1 compacted after its resize"
grep -q 'action="hugepages node 0 2 MiB: 16 -> 128 pages" .*fragmentation_index=-1" .*outcome=applied' "$K" ||
  { cat "$K" >&2; fail "controller: no applied resize of node 0 16 -> 128"; }
! grep -q 'action="compact node 0"' "$K" || fail "controller: compacted node 0, which had free 2 MiB blocks"
grep -qx 'plan: 3 actions, 0 skips' "$K" || fail "controller: want 3 actions and no skip: $(grep '^plan:' "$K")"
grep -q '^node0 nr=128 free=128$' "$K" || fail "node 0's pool after the controller: $(grep '^node0 ' "$K")"
stall() { sed -n "s/^$1 vmstat .*compact_stall \([0-9]*\) .*/\1/p" "$K"; }
grep -E '^(before|after) vmstat' "$K"
obtained=$(sed -n 's/^node1 nr=\([0-9]*\) free=\1$/\1/p' "$K")
if [[ $grow_line == *outcome=applied* ]]; then
  assert_eq "$obtained" 128 "node 1's pool read back from sysfs after an applied resize"
  got="$pool1 -> 128 pages"
  # All of them came from the controller's compaction: the kernel never compacted directly.
  assert_eq "$idx_after" "-1.000" "node 1's index after the controller (a free 2 MiB block)"
  assert_eq "$(($(stall after) - $(stall before)))" 0 "direct compactions while the controller reserved (compact_stall)"
else  # the kernel could not find them all: the controller must say what sysfs says
  grep -qF "outcome=failed error=\"obtained $obtained of 128 pages of 2 MiB on node 1 (short by $((128 - obtained)))\"" <<<"$grow_line" ||
    fail "controller: node 1's resize, with $obtained pages in sysfs: $grow_line"
  ((obtained > pool1)) || fail "node 1's pool did not grow after the compaction ($pool1 -> $obtained)"
  got="$pool1 -> $obtained of 128 pages (partial, as the controller reported)"
fi
dur() { printf '%s' "$1" | sed -n 's/.* duration_ms=\([0-9]*\)$/\1/p'; }
orders() { cat "$F" "$K" | awk -v t="$1" '$1 == t && $3 == "1," {s = $5 ":"; for (i = 6; i <= NF; i++) s = s " " $i; print s}'; }
echo "node 1 free blocks by order 0..10: after kvmem-fragment $(orders filled); before the controller $(orders before); after $(orders after)"
echo "node 1: index $idx_filled after kvmem-fragment, $idx_before before the controller, $idx_after after; compaction $(dur "$compact_line") ms, resize $(dur "$grow_line") ms; $(grep '^psi ' "$K")"
pass "controller --once --apply: node 1 (index $idx_before) compacted first, then $got; node 0 16 -> 128 without compaction"
echo "numa_guest: all passed (guest $boot_s s; steps: $(for s in exporter gtest bench controller fragment compaction; do printf '%s %s ' "$s" "$(end_of "$s" | sed 's/.*s=//')s"; done))"
