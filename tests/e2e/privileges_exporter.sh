#!/usr/bin/env bash
# Least privilege: kvmem_exporter as `nobody` (setpriv: uid nobody, gid nogroup, no
# supplementary groups, no capabilities) on this host's real /proc and /sys serves exactly the
# series it serves as root, every collector succeeds, and it writes nothing: strace, attached
# to all its threads for three scrapes and shutdown, sees no open for writing, no create,
# rename, unlink, mkdir, chmod or truncate. Per-VM metrics as nobody: privileges_exporter_guest.sh.
source "$(dirname "$0")/lib.sh"
EXPORTER=${KVMEM_EXPORTER:?}
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root to switch to nobody"; exit 77; }
command -v setpriv >/dev/null || fail "setpriv not installed (util-linux)"
command -v strace >/dev/null || fail "strace not installed; run scripts/setup.sh"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null || { echo "skip: no nobody/nogroup"; exit 77; }
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs)
chmod 0755 "$E2E_TMP"  # nobody's cwd need not be ours; keep logs root-owned and readable

series() { grep -v '^#' "$1" | sed 's/ [^ ]*$//' | grep -v '^kvmem_scrape_collector_duration_seconds' | sort; }
flags=(--web.listen-address=127.0.0.1:0 --no-collector.libvirt --collector.memory_blocks)

start_daemon ROOT "$EXPORTER" "${flags[@]}"
# Three scrapes in both runs: a rate (the NUMA hint-fault check) appears from the second one.
for i in 1 2 3; do scrape "$ROOT_PORT" >"$E2E_TMP/root.prom"; done
stop_daemon "$ROOT_PID"

# LeakSanitizer cannot work in a traced process (strace below): the root run above checks leaks.
if is_sanitized; then export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; fi
start_daemon NOBODY "${as_nobody[@]}" "$EXPORTER" "${flags[@]}"
assert_eq "$(awk '/^Uid:/ {print $2 "/" $3}' "/proc/$NOBODY_PID/status")" "65534/65534" "real/effective uid"
assert_eq "$(awk '/^CapEff:/ {print $2}' "/proc/$NOBODY_PID/status")" 0000000000000000 "effective capabilities"
strace -f -qq -p "$NOBODY_PID" -o "$E2E_TMP/strace.txt" \
  -e trace=open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,chmod,fchmod,fchmodat,chown,fchown,fchownat,truncate,ftruncate,link,linkat,symlink,symlinkat &
tracer=$!
E2E_PIDS+=("$tracer")
sleep 0.5  # attached to every thread
for i in 1 2 3; do scrape "$NOBODY_PORT" >"$E2E_TMP/nobody.prom"; done
stop_daemon "$NOBODY_PID"
wait "$tracer" 2>/dev/null || true

diff <(series "$E2E_TMP/root.prom") <(series "$E2E_TMP/nobody.prom") >"$E2E_TMP/diff.txt" ||
  fail "series differ between root and nobody: $(head -n 20 "$E2E_TMP/diff.txt")"
n=$(series "$E2E_TMP/nobody.prom" | wc -l)
assert_eq "$(grep -c '^kvmem_scrape_collector_success{.*} 1$' "$E2E_TMP/nobody.prom")" \
  "$(grep -c '^kvmem_scrape_collector_success{' "$E2E_TMP/nobody.prom")" "collectors succeeding as nobody"
grep -q 'level=error\|level=warn' "$NOBODY_LOG" && fail "warnings as nobody: $(grep 'level=' "$NOBODY_LOG")"
opens=$(grep -cE '^[0-9]+ +open' "$E2E_TMP/strace.txt" || true)
((opens > 0)) || fail "strace saw no opens at all; the check did not run: $(head -n 5 "$E2E_TMP/strace.txt")"
if grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|^[0-9]+ +(creat|rename|unlink|mkdir|rmdir|chmod|fchmod|chown|fchown|truncate|ftruncate|link|symlink)' \
  "$E2E_TMP/strace.txt" >"$E2E_TMP/writes.txt"; then
  fail "the exporter tried to write: $(head -n 5 "$E2E_TMP/writes.txt")"
fi
pass "as nobody without capabilities: the same $n series as root, every collector ok, $opens opens, all read-only"
echo "privileges_exporter: all passed"
