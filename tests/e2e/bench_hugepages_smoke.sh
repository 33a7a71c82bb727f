#!/usr/bin/env bash
# bench/hugepages smoke test: kvmem_hugepage_ab's usage errors; 2m without free pages exits 2
# (no fallback); run.sh with a 64 MiB buffer in 4k and 2m gives a complete report in which 2m
# really got 2048 kB pages; the node0 pool is back at its exact original size afterwards, also
# when run.sh is stopped by SIGTERM mid-run. Needs root (writes nr_hugepages); skips otherwise.
source "$(dirname "$0")/lib.sh"
BIN=${KVMEM_HUGEPAGE_AB:-$KVMEM_BUILD_DIR/bench/hugepages/kvmem_hugepage_ab}
RUN=${KVMEM_SOURCE_DIR:?}/bench/hugepages/run.sh
[[ -x $BIN ]] || fail "no benchmark binary at $BIN"
[[ $EUID -eq 0 ]] || { echo "skip: reserving 2 MiB hugepages needs root"; exit 77; }
POOL=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
[[ -d $POOL ]] || fail "$POOL is absent: the kernel offers no 2 MiB hugetlb pages"

expect_exit() {  # expect_exit CODE PATTERN ARGS...
  local want=$1 pattern=$2 rc=0 err; shift 2
  err=$("$BIN" "$@" 2>&1 >/dev/null) || rc=$?
  assert_eq "$rc" "$want" "exit code for $*"
  grep -qF -- "$pattern" <<<"$err" || fail "message for $* was '$err', want it to contain '$pattern'"
}
"$BIN" --help | grep -qF -- '--size=BYTES' || fail "--help lacks --size"
"$BIN" --help | grep -qF -- '--[no-]compare-remote' || fail "--help lacks --[no-]compare-remote"
expect_exit 2 'unknown flag --bogus' --bogus
expect_exit 2 '--size must be a multiple of 2 MiB' --size=3M
expect_exit 2 'unknown mode "9k"' --modes=4k,9k
expect_exit 2 '--rounds: expected a whole number >= 1' --rounds=0
pass "usage errors exit 2 and name the flag"

# The pool lock of run.sh, held for the whole test so nothing else moves the pool under it.
LOCK=/run/lock/kvmem-hugepage-pool.lock
[[ -d /run/lock ]] || LOCK=/tmp/kvmem-hugepage-pool.lock
exec 9>"$LOCK"
flock -w 600 9 || fail "the pool lock $LOCK is held by someone else for 10 minutes"
export KVMEM_POOL_LOCKED=1
ORIG=$(cat "$POOL/nr_hugepages")
echo "node0 pool before: $ORIG pages, $(cat "$POOL/free_hugepages") free"

# 2m with too few free pages: exit 2 and say so, never fall back to other pages.
if (($(cat "$POOL/free_hugepages") < 32)); then
  expect_exit 2 'need 32 free 2 MiB hugepages' --size=64M --modes=4k,2m --rounds=1
  assert_eq "$(cat "$POOL/nr_hugepages")" "$ORIG" "pool after the refused run"
  pass "2m without free pages exits 2"
else
  echo "note: node0 already has 32 free pages; the no-pages check does not apply here"
fi

OUT=$E2E_TMP/results.md
rc=0
KVMEM_HUGEPAGE_AB=$BIN bash "$RUN" --out "$OUT" --size 64M --modes 4k,2m --warmup 1 --rounds 2 \
  --accesses 200000 2>"$E2E_TMP/run.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$E2E_TMP/run.err" >&2; fail "run.sh exited $rc"; }
assert_eq "$(cat "$POOL/nr_hugepages")" "$ORIG" "node0 nr_hugepages after run.sh"
pass "pool restored to exactly $ORIG pages"

for heading in '# Hugepage A/B benchmark: results' '## Machine' '## Pool' '## Setup (kvmem_hugepage_ab)' \
  '## Pages the kernel gave' '## Medians' '## Spread' '## Runs'; do
  grep -q "^$heading" "$OUT" || fail "results lack the heading '$heading'"
done
grep -qF "node0: pool restored to $ORIG pages" "$OUT" || fail "results do not record the restored pool"
grep -qxF '| placement | mode | ns/access (chase) | ns/access wall | GB/s read | GB/s write | CPU s | sys s | wall s | minor faults | fault-in ms | runs | page size seen |' "$OUT" ||
  fail "median table header"
# The exact pages of each mode, from smaps and numa_maps; fault-in counted page by page.
grep -qxF -- '- 4k (cpu N0, mem N0): KernelPageSize=4 kB MMUPageSize=4 kB AnonHugePages=0 kB Hugetlb=0 kB numa_maps bind:0 N0=16384; fault-in took 16384 minor faults' "$OUT" ||
  fail "4k pages: $(grep -- '^- 4k' "$OUT")"
grep -qxF -- '- 2m (cpu N0, mem N0): KernelPageSize=2048 kB MMUPageSize=2048 kB AnonHugePages=0 kB Hugetlb=65536 kB numa_maps bind:0 N0=32; fault-in took 32 minor faults' "$OUT" ||
  fail "2m pages: $(grep -- '^- 2m' "$OUT")"
grep -qE '^\| cpu N0, mem N0 \| 4k \| [0-9]+\.[0-9] \|.*\| 2 \| 4 kB \(THP 0 MiB\) \|$' "$OUT" || fail "4k median row"
grep -qE '^\| cpu N0, mem N0 \| 2m \| [0-9]+\.[0-9] \|.*\| 2 \| 2048 kB \(hugetlb 64 MiB\) \|$' "$OUT" || fail "2m median row"
grep -qE '^\| cpu N0, mem N0 \| 2m/4k \| [0-9]+\.[0-9]{2}x \|' "$OUT" || fail "ratio row"
assert_eq "$(grep -cE '^\| [0-9]+( \(warm-up\))? \| cpu N0, mem N0 \| (4k|2m) \|' "$OUT")" 6 "raw runs (3 rounds x 2 modes)"
assert_eq "$(grep -cE '^\| 0 \(warm-up\) \|' "$OUT")" 2 "warm-up runs"
# Whole-run faults: 4k at least its 16384 pages; 2m its 32 pages plus the process's own (a few,
# a few hundred under AddressSanitizer, whose allocator maps fresh memory), far below 4k's.
median_faults() { awk -F'|' -v m=" $1 " '$3 == m && $2 ~ /cpu N0/ { gsub(/ /, "", $11); print $11; exit }' "$OUT"; }
faults_4k=$(median_faults 4k)
faults_2m=$(median_faults 2m)
((faults_4k >= 16384)) || fail "4k median minor faults $faults_4k, want >= 16384"
((faults_2m >= 32 && faults_2m * 16 <= faults_4k)) || fail "2m median minor faults $faults_2m, want 32..$((faults_4k / 16))"
if (($(ls -d /sys/devices/system/node/node[0-9]* | wc -l) == 1)); then
  grep -qF 'remote comparison: not run: it needs at least two NUMA nodes with memory, this host has 1.' "$OUT" ||
    fail "one-node host: no note on the remote comparison"
fi
pass "report complete; 2m got 2048 kB hugetlb pages"

# SIGTERM mid-run: run.sh stops the benchmark and still restores the pool.
KVMEM_HUGEPAGE_AB=$BIN bash "$RUN" --out "$E2E_TMP/never.md" --size 64M --modes 4k,2m --rounds 500 \
  2>"$E2E_TMP/term.err" &
run_pid=$!
E2E_PIDS+=("$run_pid")
for _ in $(seq 1 200); do
  (($(cat "$POOL/nr_hugepages") > ORIG || $(cat "$POOL/free_hugepages") < 32)) && break
  sleep 0.05
done
sleep 0.5  # into the runs
kill -TERM "$run_pid"
rc=0
wait "$run_pid" || rc=$?
assert_eq "$rc" 143 "run.sh exit code after SIGTERM"
assert_eq "$(cat "$POOL/nr_hugepages")" "$ORIG" "node0 nr_hugepages after SIGTERM"
[[ ! -e $E2E_TMP/never.md ]] || fail "run.sh wrote results although it was stopped"
pass "SIGTERM: pool restored to exactly $ORIG pages"
