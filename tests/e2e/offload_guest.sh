#!/usr/bin/env bash
# Compressed offload on a real cgroup v2 system. This host's memory controller is cgroup v1, so
# a plain QEMU TCG guest (no libvirt) boots the cached Debian cloud kernel
# (tests/e2e/vm/build-guest.sh) with an initramfs of its own built here: busybox, the stripped
# kvmem_unit_tests and its shared libraries, kvmem-offload-workload (guest/offload_workload.c,
# static) and the zram modules of the same kernel package (zsmalloc, lzo-rle, zram; the cloud
# kernel has no zswap). Inside the guest /init mounts cgroup2 on /sys/fs/cgroup, enables
# +memory, swaps on a 256 MiB lzo-rle zram device, starts the workload (96 MiB of compressible
# pages, touched once, then idle) in /sys/fs/cgroup/vm and runs OffloadGuest.*: the product's
# observe -> decide -> act cycle (CgroupObserver, policy::Decide with the default offload policy
# but step_interval 1 s and backoff 20 s, OffloadActuator writing memory.reclaim). It asserts
# that the workload's anon memory drops by at least 40 % into zram and that, once the workload
# touches its memory again, the refault guard trips and nothing is planned during the back-off.
# Results come back on the guest's second serial port. Exit 77 only without QEMU or a kernel.
source "$(dirname "$0")/lib.sh"
SRC=${KVMEM_SOURCE_DIR:?} BUILD=${KVMEM_BUILD_DIR:?}
UNIT=${KVMEM_UNIT_TESTS:-$BUILD/tests/kvmem_unit_tests}
QEMU_TIMEOUT=${KVMEM_OFFLOAD_GUEST_TIMEOUT:-300}
skip() { echo "skip: $*"; exit 77; }
now() { local t=$EPOCHREALTIME; echo "${t/,/.}"; }

[[ $(uname -m) == x86_64 ]] || skip "needs an x86_64 host"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/setup.sh --with-vm)"
for c in busybox ldd strip gcc dpkg-deb apt-get sha256sum; do command -v "$c" >/dev/null || fail "$c not found (scripts/setup.sh)"; done
[[ -x $UNIT ]] || fail "not built: $UNIT"
cache=${KVMEM_VM_CACHE:-/var/tmp/kvmem-vm-cache}
rc=0
"$SRC/tests/e2e/vm/build-guest.sh" "$cache" || rc=$?
((rc != 77)) || skip "no guest kernel obtainable"
((rc == 0)) || fail "build-guest.sh exited $rc"
mods=$("$SRC/tests/e2e/vm/zram-modules.sh" "$cache") || fail "zram-modules.sh failed"

# --- initramfs -----------------------------------------------------------------------------
t0=$(now)
root=$E2E_TMP/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,kvmem,lib/modules}
cp "$(command -v busybox)" "$root/bin/busybox"
! ldd "$root/bin/busybox" >/dev/null 2>&1 || fail "busybox is dynamically linked; the initramfs needs busybox-static"
cp "$mods"/{zsmalloc,lzo-rle,zram}.ko "$root/lib/modules/"
strip -o "$root/kvmem/kvmem_unit_tests" "$UNIT"
ldd "$UNIT" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[[ -f $root/lib64/ld-linux-x86-64.so.2 ]] || fail "the dynamic loader is not in the initramfs"
gcc -static -O2 -s -Wall -Wextra -o "$root/bin/kvmem-offload-workload" "$SRC/tests/e2e/vm/guest/offload_workload.c" ||
  fail "building guest/offload_workload.c"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
# /init of tests/e2e/offload_guest.sh: cgroup2 + zram swap + the workload, then the gtest; each
# step's output between "=== BEGIN NAME" and "=== END NAME rc=N" on ttyS1, then power off.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
step() {
  name=$1; shift
  echo "=== BEGIN $name" >&3
  "$@" >&3 2>&1
  rc=$?
  echo "=== END $name rc=$rc" >&3
  echo "kvmem-offload: $name rc=$rc"
}
setup() {
  mount -t cgroup2 none /sys/fs/cgroup || return 1
  echo +memory >/sys/fs/cgroup/cgroup.subtree_control || return 1
  for m in zsmalloc lzo-rle zram; do insmod "/lib/modules/$m.ko" || return 1; done
  echo lzo-rle >/sys/block/zram0/comp_algorithm || return 1
  echo 256M >/sys/block/zram0/disksize || return 1
  mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || return 1
  mkdir /sys/fs/cgroup/vm || return 1
  echo "cgroup.controllers $(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "comp_algorithm $(cat /sys/block/zram0/comp_algorithm)"
  cat /proc/swaps
  grep -E '^(MemTotal|SwapTotal):' /proc/meminfo
  sh -c 'echo $$ >/sys/fs/cgroup/vm/cgroup.procs && exec /bin/kvmem-offload-workload 96' >/tmp/workload.log 2>&1 &
  WORKLOAD=$!
  i=0
  until grep -q ready /tmp/workload.log; do
    i=$((i + 1))
    if [ "$i" -ge 600 ] || ! kill -0 "$WORKLOAD" 2>/dev/null; then cat /tmp/workload.log; return 1; fi
    sleep 0.1
  done
  cat /tmp/workload.log
  echo "workload pid $WORKLOAD cgroup $(cat /proc/$WORKLOAD/cgroup)"
  grep -E '^(anon|file|workingset_refault_anon) ' /sys/fs/cgroup/vm/memory.stat
}
gtest() { KVMEM_OFFLOAD_GUEST_PID=$WORKLOAD /kvmem/kvmem_unit_tests --gtest_color=no --gtest_filter='OffloadGuest.*'; }
after() {
  # The last gtest case has just pushed out what it could: give the re-touching workload up to
  # 30 s to fault its memory back before the snapshot.
  i=0
  while [ "$(sed -n 's/^anon //p' /sys/fs/cgroup/vm/memory.stat)" -lt $((90 * 1048576)) ] && [ "$i" -lt 30 ]; do
    sleep 1
    i=$((i + 1))
  done
  echo "waited ${i} s for the workload's memory"
  grep -E '^(anon|file|workingset_refault_anon) ' /sys/fs/cgroup/vm/memory.stat
  echo "memory.swap.current $(cat /sys/fs/cgroup/vm/memory.swap.current)"
  echo "mm_stat $(cat /sys/block/zram0/mm_stat)"
  tail -n 2 /tmp/workload.log
  kill "$WORKLOAD"
}
step setup setup
step gtest gtest
step after after
echo "=== DONE" >&3
exec 3>&-
sync
poweroff -f
INIT
chmod 0755 "$root/init"
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) >"$E2E_TMP/initrd.cpio"
echo "initramfs: $(du -m "$E2E_TMP/initrd.cpio" | cut -f1) MiB, built in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"

# --- boot ------------------------------------------------------------------------------------
console=$E2E_TMP/console.log results=$E2E_TMP/results.raw
t_boot=$(now)
qrc=0
timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -display none -accel tcg \
  -machine q35 -cpu max -smp 2 -m 1G -kernel "$cache/vmlinuz" -initrd "$E2E_TMP/initrd.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$console" -serial "file:$results" -no-reboot </dev/null >"$E2E_TMP/qemu.out" 2>&1 || qrc=$?
boot_s=$(awk -v a="$t_boot" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')
tr -d '\r' <"$results" >"$E2E_TMP/results.txt"
R=$E2E_TMP/results.txt
diag() { echo "---- QEMU ----"; cat "$E2E_TMP/qemu.out"; echo "---- console (tail) ----"; tail -n 40 "$console"; echo "---- results (tail) ----"; tail -n 80 "$R"; } >&2
((qrc == 0)) || { diag; fail "QEMU exited $qrc after $boot_s s (124: killed by the ${QEMU_TIMEOUT}s timeout)"; }
grep -qx '=== DONE' "$R" || { diag; fail "the guest did not finish its steps"; }
section() { awk -v n="$1" '$0 == "=== BEGIN " n {on = 1; next} on && index($0, "=== END " n " ") == 1 {exit} on' "$R"; }
end_of() { sed -n "s/^=== END $1 //p" "$R"; }
for s in setup gtest after; do
  echo "step $s: $(end_of "$s")"
  [[ $(end_of "$s") == rc=0 ]] || { section "$s" | tail -n 60 >&2; fail "guest step $s: $(end_of "$s")"; }
done
section setup
G=$E2E_TMP/gtest.txt
section gtest >"$G"
grep '^offload-guest: ' "$G"
grep -q '^\[  PASSED  \] 2 tests\.' "$G" || { cat "$G" >&2; fail "expected 2 passed tests in the guest"; }
! grep -q '^\[  SKIPPED \]' "$G" || { cat "$G" >&2; fail "OffloadGuest skipped in the guest"; }
grep -q '^cgroup.controllers .*memory' "$R" || fail "no memory controller in the guest's cgroup2"
grep -q '^/dev/zram0 ' "$R" || fail "zram0 is not the guest's swap"
section after
# After the test the workload has all of its memory back, through refaults the guard counted.
anon_after=$(section after | sed -n 's/^anon //p')
refaults=$(section after | sed -n 's/^workingset_refault_anon //p')
((anon_after >= 90 * 1048576)) || fail "the workload's anon memory is $anon_after B after re-touching 96 MiB"
((refaults > 0)) || fail "workingset_refault_anon is $refaults after the workload re-touched its memory"
pass "offload_guest: anon memory offloaded into zram, then the refault guard stopped the offload; $refaults pages refaulted (guest $boot_s s)"
