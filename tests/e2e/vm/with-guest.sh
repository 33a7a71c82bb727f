#!/usr/bin/env bash
# One-shot e2e harness: builds the guest, starts a private libvirtd (libvirtd.sh) in a
# fresh state dir, defines and starts the kvmem-e2e domain, waits until the guest is
# ready, runs CMD, and always tears everything down again.
#
#   with-guest.sh CMD [ARGS...]
#
# Ready means: the balloon reports guest stats (dommemstat has usable and available),
# virtio-mem has plugged what is requested (live XML <current> == <requested>), the
# guest's /init printed its first memory report, and the balloon stats were refreshed
# after that (so they include the virtio-mem memory). CMD then runs with:
#   KVMEM_TEST_URI             rw URI  (qemu:///system?socket=.../libvirt-sock)
#   KVMEM_TEST_URI_RO          ro URI  (qemu:///system?socket=.../libvirt-sock-ro)
#   KVMEM_TEST_DOMAIN          domain name
#   KVMEM_TEST_SERIAL_LOG      guest console log (kernel + /init reports, grows each second)
#   KVMEM_TEST_CONTROL_SOCKET  guest control channel (see guest-ctl.sh)
#   KVMEM_TEST_STATE_DIR       scratch dir of this run (deleted afterwards)
#   KVMEM_TEST_QEMU_PID        QEMU's PID
#   KVMEM_TEST_VM_DIR          this directory (for guest-ctl.sh etc.)
# Knobs: KVMEM_VM_CACHE (/var/tmp/kvmem-vm-cache), KVMEM_VM_DOMAIN (kvmem-e2e),
#   KVMEM_VM_TYPE (qemu|kvm; auto), KVMEM_VM_MEMORY_MIB (512), KVMEM_VM_VMEM_SIZE_MIB (512,
#   0 = none), KVMEM_VM_VMEM_REQUESTED_MIB (128), KVMEM_VM_CMDLINE_EXTRA (e.g.
#   "kvmem.hog_mb=300"), KVMEM_VM_FREE_PAGE_REPORTING (off|on), KVMEM_VM_READY_TIMEOUT (60 s), KVMEM_VM_KEEP_STATE=1 (keep the
#   state dir for debugging).
# Exit: CMD's exit code; 77 when this machine cannot run the guest (not root, no QEMU or
#   libvirtd, no mount namespaces, no guest kernel); 1 when set-up fails; 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "with-guest: $*" >&2; }
skip() { log "SKIP: $*"; exit 77; }
now() { local t=$EPOCHREALTIME; echo "${t/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }

(($# >= 1)) || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

# --- can this machine run it? ---------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || skip "needs root (private libvirtd in a mount namespace)"
[[ $(uname -m) == x86_64 ]] || skip "needs an x86_64 host"
for c in qemu-system-x86_64 virsh unshare setsid flock busybox cpio gcc apt-get dpkg-deb; do
  command -v "$c" >/dev/null || skip "$c not found (scripts/setup.sh --with-vm)"
done
[[ -x /usr/sbin/libvirtd ]] || command -v libvirtd >/dev/null || skip "libvirtd not found (scripts/setup.sh --with-vm)"
compgen -G "/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so" >/dev/null ||
  skip "libvirt QEMU driver not installed (libvirt-daemon-driver-qemu)"
unshare --mount --propagation private true 2>/dev/null || skip "cannot create a mount namespace here"

cache=${KVMEM_VM_CACHE:-/var/tmp/kvmem-vm-cache}
export KVMEM_VM_CACHE=$cache
dom=${KVMEM_VM_DOMAIN:-kvmem-e2e}
vmem_size=${KVMEM_VM_VMEM_SIZE_MIB:-512}
vmem_req=${KVMEM_VM_VMEM_REQUESTED_MIB:-128}
timeout=${KVMEM_VM_READY_TIMEOUT:-60}

# --- janitor: runs whose harness was SIGKILLed (e.g. by a test timeout) -----------------------
tmpbase=${TMPDIR:-/tmp}
for old in "$tmpbase"/kvmem-e2e.*/owner.pid; do
  [[ -f "$old" ]] || continue
  owner=$(cat "$old" 2>/dev/null || true)
  [[ "$owner" =~ ^[0-9]+$ ]] || continue
  # Abandoned: the owner is gone, a zombie, or its PID now belongs to something else.
  owner_state=$(awk '{print $3}' "/proc/$owner/stat" 2>/dev/null || true)
  owner_cmd=$(tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null || true)
  if [[ -z "$owner_state" || "$owner_state" == Z || "$owner_cmd" != *with-guest* ]]; then
    log "cleaning up abandoned run $(dirname "$old")"
    "$here/libvirtd.sh" stop "$(dirname "$old")" 2>/dev/null || true
    rm -rf "$(dirname "$old")"
  fi
done

t_start=$(now)
rc=0
build_rc=0
"$here/build-guest.sh" "$cache" || build_rc=$?
((build_rc == 0)) || exit "$build_rc" # 77 (no kernel) is a skip, anything else a failure
t_built=$(now)

state=$(mktemp -d "$tmpbase/kvmem-e2e.XXXXXX")
echo $$ >"$state/owner.pid"
mkdir -p "$state/guest"
serial="$state/guest/serial.log"
control="$state/guest/control.sock"
qemu_pid=
cmd_pid=
uri=

# shellcheck disable=SC2317 # invoked from traps
diagnostics() {
  log "---- last lines of $serial ----"
  tail -n 25 "$serial" 2>/dev/null | sed 's/^/  | /' >&2 || true
  log "---- last lines of libvirtd/QEMU logs ----"
  tail -n 10 "$state/libvirtd.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
  tail -n 10 "$state/var/log/libvirt/qemu/$dom.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
}

# shellcheck disable=SC2317 # invoked from traps
cleanup() {
  rc=$?
  set +e
  trap - EXIT INT TERM
  local t0
  t0=$(now)
  if ((rc != 0 && rc != 77)); then diagnostics; fi
  # libvirtd.sh stop kills libvirtd, then QEMU (by PID, SIGTERM): ~0.1 s, where
  # `virsh destroy` alone takes ~1.5 s.
  "$here/libvirtd.sh" stop "$state" 2>/dev/null
  if [[ -n "$qemu_pid" && "$(cat "/proc/$qemu_pid/comm" 2>/dev/null)" == qemu-* &&
    "$(awk '{print $3}' "/proc/$qemu_pid/stat" 2>/dev/null)" != Z ]]; then
    log "killing stray QEMU pid $qemu_pid"
    kill -KILL "$qemu_pid" 2>/dev/null
  fi
  if [[ "${KVMEM_VM_KEEP_STATE:-0}" == 1 ]]; then
    log "state kept in $state"
    rm -f "$state/owner.pid"
  else
    rm -rf "$state"
  fi
  log "teardown took $(since "$t0") s; exit $rc"
  exit "$rc"
}
trap cleanup EXIT
# shellcheck disable=SC2317 # invoked from traps
on_signal() { # forward to CMD, let it finish, then clean up
  log "got SIG$1"
  if [[ -n "$cmd_pid" ]]; then
    kill "-$1" "$cmd_pid" 2>/dev/null
    wait "$cmd_pid" 2>/dev/null
  fi
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

fail() { log "ERROR: $*"; exit 1; }

# --- libvirtd + domain ------------------------------------------------------------------------
"$here/libvirtd.sh" start "$state" >/dev/null
uri=$(cat "$state/uri")
uri_ro=$(cat "$state/uri-ro")
t_libvirtd=$(now)

# Private copies: a concurrent rebuild of the cache cannot change a running guest.
cp "$cache/vmlinuz" "$cache/initrd.img" "$state/guest/"
"$here/gen-guest-xml.sh" --name "$dom" ${KVMEM_VM_TYPE:+--type "$KVMEM_VM_TYPE"} \
  --memory-mib "${KVMEM_VM_MEMORY_MIB:-512}" \
  --vmem-size-mib "$vmem_size" --vmem-requested-mib "$vmem_req" \
  --kernel "$state/guest/vmlinuz" --initrd "$state/guest/initrd.img" \
  --serial-log "$serial" --control-socket "$control" \
  --cmdline-extra "${KVMEM_VM_CMDLINE_EXTRA:-}" \
  --free-page-reporting "${KVMEM_VM_FREE_PAGE_REPORTING:-off}" >"$state/guest/domain.xml"
virsh -q -c "$uri" define "$state/guest/domain.xml" >/dev/null
virsh -q -c "$uri" start "$dom" >/dev/null
qemu_pid=$(cat "$state/run/libvirt/qemu/$dom.pid" 2>/dev/null || true)
t_started=$(now)
log "domain $dom started ($(sed -n "s/.*<domain type='\([a-z]*\)'.*/\1/p" "$state/guest/domain.xml"), qemu pid ${qemu_pid:-?})"

# --- wait until ready -------------------------------------------------------------------------
deadline=$((SECONDS + timeout))
vmem_current() {
  virsh -q -c "$uri" dumpxml "$dom" 2>/dev/null | sed -n "s|.*<current unit='KiB'>\([0-9]*\)</current>.*|\1|p"
}
waiting_for=balloon
while [[ -n "$waiting_for" ]]; do
  state_now=$(virsh -q -c "$uri" domstate "$dom" 2>/dev/null || true)
  [[ "$state_now" == running ]] || fail "domain is '$state_now' while waiting for $waiting_for"
  case "$waiting_for" in
    balloon)
      stats=$(virsh -q -c "$uri" dommemstat "$dom" 2>/dev/null || true)
      if grep -q '^usable ' <<<"$stats" && grep -q '^available ' <<<"$stats"; then
        t_balloon=$(now)
        waiting_for=virtio-mem
        continue
      fi
      ;;
    virtio-mem)
      if ((vmem_size == 0)) || [[ "$(vmem_current)" == "$((vmem_req * 1024))" ]]; then
        waiting_for=init
        continue
      fi
      ;;
    init)
      if grep -q '^kvmem-guest: mem ' "$serial" 2>/dev/null; then
        # The first balloon stats predate virtio-mem's plug: wait for a newer sample.
        stats_seen=$(virsh -q -c "$uri" dommemstat "$dom" 2>/dev/null | awk '$1 == "last_update" {print $2}')
        waiting_for=fresh-stats
        continue
      fi
      ;;
    fresh-stats)
      last=$(virsh -q -c "$uri" dommemstat "$dom" 2>/dev/null | awk '$1 == "last_update" {print $2}')
      if [[ -n "$last" && "$last" != "$stats_seen" ]]; then
        waiting_for=''
        continue
      fi
      ;;
  esac
  ((SECONDS < deadline)) || fail "guest not ready within ${timeout}s (still waiting for $waiting_for)"
  sleep 0.1
done
log "guest ready: $(since "$t_start") s total (build $(awk -v a="$t_start" -v b="$t_built" 'BEGIN {printf "%.2f", b - a}'), libvirtd $(awk -v a="$t_built" -v b="$t_libvirtd" 'BEGIN {printf "%.2f", b - a}'), define+start $(awk -v a="$t_libvirtd" -v b="$t_started" 'BEGIN {printf "%.2f", b - a}'), balloon stats after $(awk -v a="$t_started" -v b="$t_balloon" 'BEGIN {printf "%.2f", b - a}'), ready after $(since "$t_started") s from start)"

# --- run CMD ----------------------------------------------------------------------------------
export KVMEM_TEST_URI=$uri KVMEM_TEST_URI_RO=$uri_ro KVMEM_TEST_DOMAIN=$dom
export KVMEM_TEST_SERIAL_LOG=$serial KVMEM_TEST_CONTROL_SOCKET=$control
export KVMEM_TEST_STATE_DIR=$state KVMEM_TEST_QEMU_PID=$qemu_pid KVMEM_TEST_VM_DIR=$here
# In the background (stdin kept) so that a signal to this script is handled at once.
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid" || rc=$?
cmd_pid=
exit "$rc"
