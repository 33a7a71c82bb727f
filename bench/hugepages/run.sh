#!/usr/bin/env bash
# Hugepage A/B driver: reserve 2 MiB hugetlb pages on node0, run kvmem_hugepage_ab, write
# RESULTS.md with the machine it ran on, and always give the pool back its original size.
#
# usage: sudo bench/hugepages/run.sh [--out FILE] [--size SIZE] [kvmem_hugepage_ab flags...]
#   --out FILE   where the results go (default: bench/hugepages/RESULTS.md)
#   --size SIZE  the buffer, e.g. 1G (default), 64M; it decides how many pages are reserved
#   other flags go to the benchmark; the defaults here: --modes 4k,2m,thp --rounds 9
#   --accesses 4194304 (9 rounds because the machine is usually shared; medians absorb that)
# Environment: KVMEM_HUGEPAGE_AB (the binary; default build/bench/hugepages/kvmem_hugepage_ab,
# built if missing), NICE (e.g. -10 to run at a higher priority than a concurrent build),
# KVMEM_POOL_LOCKED=1 when the caller already holds the pool lock (see LOCK below).
# Exit codes: the benchmark's (0, 1, 2); 2 also when run.sh's own usage is wrong or the pool
# could not be grown to what the buffer needs; 1 when the pool could not be restored.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/bench/hugepages/RESULTS.md"
SIZE=1G
ARGS=()
while (($#)); do
  case $1 in
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --size) SIZE=${2:?--size needs a value}; shift 2 ;;
    --size=*) SIZE=${1#--size=}; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ " ${ARGS[*]:-} " == *" --modes"* ]] || ARGS+=(--modes "4k,2m,thp")
[[ " ${ARGS[*]:-} " == *" --rounds"* ]] || ARGS+=(--rounds 9)
[[ " ${ARGS[*]:-} " == *" --accesses"* ]] || ARGS+=(--accesses 4194304)

die() { echo "run.sh: $*" >&2; exit "${2:-2}"; }
log() { echo "run.sh: $*" >&2; POOL_LOG+=("$*"); }
POOL_LOG=()

# SIZE in bytes: digits with an optional binary suffix K, M, G or T (and optional i, B).
size_bytes() {
  local re='^([0-9]+)([KkMmGgTt]?)(i?B?)$'
  [[ $1 =~ $re ]] || die "--size $1: expected a size such as 1G, 512M or 64MiB"
  local n=${BASH_REMATCH[1]} shift=0
  case ${BASH_REMATCH[2]} in K|k) shift=10 ;; M|m) shift=20 ;; G|g) shift=30 ;; T|t) shift=40 ;; esac
  echo $((n << shift))
}
BYTES=$(size_bytes "$SIZE")
HUGE=$((2 << 20))
((BYTES > 0 && BYTES % HUGE == 0)) || die "--size $SIZE: must be a non-zero multiple of 2 MiB"
PAGES=$((BYTES / HUGE))
[[ $EUID -eq 0 ]] || die "run as root: reserving hugepages writes to sysfs"

pool_dir() { echo "/sys/devices/system/node/node$1/hugepages/hugepages-2048kB"; }
[[ -d $(pool_dir 0) ]] || die "$(pool_dir 0) is absent: this kernel offers no 2 MiB hugetlb pages"
NODES=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)

# Only one pool user at a time: the e2e smoke test and other benchmarks take the same lock.
LOCK=/run/lock/kvmem-hugepage-pool.lock
[[ -d /run/lock ]] || LOCK=/tmp/kvmem-hugepage-pool.lock
if [[ -z ${KVMEM_POOL_LOCKED:-} ]]; then  # set by a caller that holds it already (the e2e test)
  exec 9>"$LOCK"
  flock -w 600 9 || die "another run holds $LOCK for more than 10 minutes"
fi

declare -A ORIGINAL=()   # node -> nr_hugepages before we touched it
restore_pool() {
  local node want got rc=0
  for node in "${!ORIGINAL[@]}"; do
    want=${ORIGINAL[$node]}
    echo "$want" >"$(pool_dir "$node")/nr_hugepages" || true
    got=$(cat "$(pool_dir "$node")/nr_hugepages")
    if [[ $got == "$want" ]]; then
      log "node$node: pool restored to $want pages"
    else
      log "node$node: pool NOT restored: nr_hugepages is $got, was $want before the run"
      rc=1
    fi
    unset "ORIGINAL[$node]"
  done
  return $rc
}
BENCH_PID=
stop_bench() {  # the benchmark holds pool pages until it exits: end it before restoring
  if [[ -n $BENCH_PID ]]; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
    BENCH_PID=
  fi
}
trap 'stop_bench; restore_pool || exit 1' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# reserve_pool NODE PAGES: make PAGES free 2 MiB pages available on NODE, or stop the run.
# The reservation goes through kvmem_controller's own hugepage pool manager: one cycle with
# --apply and a policy whose hugepages.headroom is PAGES pages (it compacts a fragmented node
# first). What the kernel actually gave is read back from sysfs: it may be fewer pages.
reserve_pool() {
  local node=$1 pages=$2 dir nr free got got_free policy
  dir=$(pool_dir "$node")
  nr=$(cat "$dir/nr_hugepages")
  free=$(cat "$dir/free_hugepages")
  [[ -v "ORIGINAL[$node]" ]] || ORIGINAL[$node]=$nr
  log "node$node: pool before the run: $nr pages, $free free; the buffer needs $pages free"
  ((free >= pages)) && return 0
  policy=$(mktemp)
  # Only the pool manager: the host's KSM and the VMs' cgroups are not this benchmark's to touch.
  printf 'hugepages:\n  headroom: %dMiB\nksm:\n  enabled: false\noffload:\n  enabled: false\n' $((pages * 2)) >"$policy"
  "$CTL" --once --apply --policy "$policy" --libvirt.uri= --web.listen-address=127.0.0.1:0 >"$policy.log" 2>&1 ||
    { cat "$policy.log" >&2; rm -f "$policy" "$policy.log"; die "kvmem_controller could not run its pool manager"; }
  grep -o 'action="[^"]*"' "$policy.log" | sed 's/^/  kvmem_controller: /' >&2 || true
  rm -f "$policy" "$policy.log"
  got=$(cat "$dir/nr_hugepages")
  got_free=$(cat "$dir/free_hugepages")
  if ((got_free < pages)); then
    log "node$node: the pool manager grew the pool $nr -> $got pages (partial); $got_free free < $pages needed"
    die "node$node: not enough 2 MiB pages; free memory or compact (echo 1 > /sys/devices/system/node/node$node/compact) and retry"
  fi
  log "node$node: the pool manager grew the pool $nr -> $got pages; $got_free free"
}

CTL=${KVMEM_CONTROLLER:-$ROOT/build/controller/kvmem_controller}
if [[ ! -x $CTL ]]; then
  [[ -z ${KVMEM_CONTROLLER:-} ]] || die "KVMEM_CONTROLLER=$CTL is not an executable"
  [[ -f $ROOT/build/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$ROOT/build" >/dev/null
  cmake --build "$ROOT/build" -j"$(nproc)" --target kvmem_controller >/dev/null
fi

BIN=${KVMEM_HUGEPAGE_AB:-$ROOT/build/bench/hugepages/kvmem_hugepage_ab}
if [[ ! -x $BIN ]]; then
  [[ -z ${KVMEM_HUGEPAGE_AB:-} ]] || die "KVMEM_HUGEPAGE_AB=$BIN is not an executable"
  [[ -f $ROOT/build/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$ROOT/build" >/dev/null
  cmake --build "$ROOT/build" -j"$(nproc)" --target kvmem_hugepage_ab >/dev/null
fi

reserve_pool 0 "$PAGES"
if ((NODES >= 2)) && [[ " ${ARGS[*]} " != *" --no-compare-remote "* ]]; then
  reserve_pool 1 "$PAGES"   # the remote placement: memory on node1, CPUs on node0
  [[ " ${ARGS[*]} " == *" --remote-node"* ]] || ARGS+=(--remote-node 1)
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
COMPILERS_BEFORE=$(pgrep -c -x 'cc1plus|cc1|ld|ninja|make' || true)
START=$(date +%s)
REPORT=$(mktemp)
rc=0
# In the background and waited for, so a signal to run.sh reaches its traps at once.
nice -n "${NICE:-0}" "$BIN" --size "$BYTES" "${ARGS[@]}" >"$REPORT" &
BENCH_PID=$!
wait "$BENCH_PID" || rc=$?
BENCH_PID=
ELAPSED=$(($(date +%s) - START))
COMPILERS_AFTER=$(pgrep -c -x 'cc1plus|cc1|ld|ninja|make' || true)
restore_rc=0
restore_pool || restore_rc=$?
if ((rc != 0)); then
  cat "$REPORT" >&2
  rm -f "$REPORT"
  die "the benchmark exited $rc; $OUT left as it was" "$rc"
fi

{
  echo "# Hugepage A/B benchmark: results"
  echo
  echo "Written by \`bench/hugepages/run.sh\`; how to read it: [README.md](README.md)."
  echo
  echo "## Machine"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs"
  echo "- virtualisation: hypervisor $(lscpu | sed -n 's/^Hypervisor vendor: *//p' | grep . || echo none)," \
       "$(lscpu | sed -n 's/^Virtualization type: *//p' | grep . || echo bare metal);" \
       "container: $(systemd-detect-virt --container 2>/dev/null || echo none);" \
       "PVM on the kernel command line: $(grep -o '[^ ]*pvm[^ ]*' /proc/cmdline | paste -sd' ' | grep . || echo no)"
  echo "- kernel: $(uname -r)"
  echo "- memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "- THP: enabled=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)," \
       "defrag=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/defrag)"
  echo "- NUMA nodes: $NODES"
  echo "- command: \`$(basename "$BIN") --size $BYTES ${ARGS[*]}\` at nice ${NICE:-0}, $ELAPSED s in all, exit $rc"
  echo "- load: average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after (1/5/15 min);" \
       "compiler processes $COMPILERS_BEFORE before, $COMPILERS_AFTER after"
  echo
  echo "## Pool"
  echo
  for line in "${POOL_LOG[@]}"; do echo "- $line"; done
  echo
  cat "$REPORT"
} >"$OUT"
rm -f "$REPORT"
echo "run.sh: wrote $OUT" >&2
((restore_rc == 0)) || exit 1
exit "$rc"
