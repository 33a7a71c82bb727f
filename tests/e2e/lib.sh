# Shared helpers for the end-to-end scripts: start daemons on 127.0.0.1 with an OS-chosen
# port (read back from their start-up log), scrape, assert, and always stop them by PID.
set -euo pipefail
# Loopback only, whatever the environment says about proxies; "." as the decimal point.
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost LC_ALL=C
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

E2E_TMP=$(mktemp -d /tmp/kvmem-e2e.XXXXXX)
E2E_PIDS=()
cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${E2E_PIDS[@]:-}"; do
    [[ -n "$pid" ]] && { timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  done
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# start_daemon NAME BINARY ARGS... : starts it listening on 127.0.0.1:0 unless ARGS choose an
# address; sets ${NAME}_PID, ${NAME}_PORT and ${NAME}_LOG.
start_daemon() {
  local name=$1 bin=$2; shift 2
  E2E_STARTS=$((${E2E_STARTS:-0} + 1))
  # A fresh log per start: reusing one would let us read the previous daemon's port.
  local log="$E2E_TMP/$name.$E2E_STARTS.log"
  "$bin" "$@" >"$log.out" 2>"$log" &
  local pid=$!
  E2E_PIDS+=("$pid")
  local port="" i
  for i in $(seq 1 100); do
    port=$(grep -oE '"?port"?[=:]"?[0-9]+' "$log" 2>/dev/null | head -n1 | grep -oE '[0-9]+$' || true)
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "$name exited during start-up"; }
    sleep 0.05
  done
  [[ -n "$port" ]] || { cat "$log" >&2; fail "$name did not report its port within 5 s"; }
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$port"
  printf -v "${name}_LOG" '%s' "$log"
}

# stop_daemon PID : SIGTERM, then assert a clean exit (code 0) within 5 s.
stop_daemon() {
  local pid=$1 rc=0
  kill -TERM "$pid"
  if ! timeout 5 tail --pid="$pid" -f /dev/null; then fail "pid $pid did not exit within 5 s of SIGTERM"; fi
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "pid $pid exited with $rc after SIGTERM, want 0"
}

scrape() { curl -sS --max-time 10 "http://127.0.0.1:$1${2:-/metrics}"; }

# metric_value FILE SERIES : the value of the line "SERIES value", or fail.
metric_value() {
  local v
  # ENVIRON, not -v: awk -v would eat the backslashes of escaped label values.
  v=$(SERIES="$2" awk 'index($0, ENVIRON["SERIES"] " ") == 1 { print $NF; exit }' "$1")
  [[ -n "$v" ]] || fail "series $2 not found in $1"
  echo "$v"
}

# wait_until SECONDS DESCRIPTION COMMAND... : polls COMMAND every 0.2 s until it succeeds, and
# fails naming DESCRIPTION after SECONDS. Wait for conditions, not for time: deadlines are wide
# so they hold under ASan on a loaded 2-core machine, and a fast machine does not wait them out.
wait_until() {
  local secs=$1 what=$2 deadline=$((SECONDS + $1)); shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.2
  done
}

# metric_at_least PORT SERIES N : true when a scrape of PORT (kept in $E2E_TMP/wait.prom) has
# SERIES at N or more; false, quietly, when the scrape fails or the series is not there yet.
metric_at_least() {
  scrape "$1" >"$E2E_TMP/wait.prom" 2>/dev/null || return 1
  SERIES="$2" N="$3" awk 'index($0, ENVIRON["SERIES"] " ") == 1 { found = 1; ok = ($NF + 0 >= ENVIRON["N"] + 0) }
    END { exit !(found && ok) }' "$E2E_TMP/wait.prom"
}

assert_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"; }

# Flags that switch off libvirt, when the binary has that collector.
no_libvirt_flags() {
  if "$1" --help 2>/dev/null | grep -q 'collector.libvirt'; then echo --no-collector.libvirt; fi
}

# True when the binaries under test are built with ASan and UBSan (build-asan,
# scripts/test-sanitize.sh): their RSS is then the sanitizer's allocator, quarantine and shadow
# rather than the daemon's heap, and LeakSanitizer cannot run in a process under ptrace (strace).
is_sanitized() { [[ "${KVMEM_SANITIZED:-0}" == 1 ]]; }

# compaction_drill HOST_DIR POLICY_FILE: for the controller fault drills. Copies the two-node
# fixture host to HOST_DIR with node 1 fragmented (no free order >= 9 block, so its
# fragmentation index for the THP order is ~1) and writes a policy that does nothing but
# compact, every 100 ms, on a host that always counts as quiet.
compaction_drill() {
  cp -r "${KVMEM_SOURCE_DIR:?}/tests/fixtures/hosts/two-node" "$1"
  sed -i 's/^\(Node 1, zone   Normal .*\)      1      0 $/\1      0      0 /' "$1/proc/buddyinfo"
  grep -q '^Node 1, zone   Normal .*      0      0 $' "$1/proc/buddyinfo" || fail "fixture edit did not apply"
  cat >"$2" <<'YAML'
interval: 100ms
balloon:
  enabled: false
virtio_mem:
  enabled: false
compaction:
  compact_above: 0.5
  for: 100ms
  quiet_below: 0.5
  cooldown: 100ms
  max_backoff: 100ms
ksm:
  enabled: false  # this test is not about KSM: the host's knobs stay untouched
YAML
}
