# Helpers for the monitoring end-to-end scripts (sourced after lib.sh): free ports, daemons
# that do not print their port (Prometheus, Alertmanager), readiness waits, PromQL queries,
# and a fixture host whose every exporter family has data, VMs included.
command -v python3 >/dev/null || fail "python3 not installed; run scripts/setup.sh"

# free_port : a TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_bg NAME CMD... : starts CMD with its output in $E2E_TMP/NAME.log; sets ${NAME}_PID and
# ${NAME}_LOG. lib.sh's trap stops it by PID.
start_bg() {
  local name=$1; shift
  local log="$E2E_TMP/$name.log"
  "$@" >"$log" 2>&1 &
  local pid=$!
  E2E_PIDS+=("$pid")
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_LOG" '%s' "$log"
}

# wait_ready NAME PID URL [SECONDS] : until URL answers 200, or fail with NAME's log.
wait_ready() {
  local name=$1 pid=$2 url=$3 secs=${4:-20} i
  for i in $(seq 1 $((secs * 10))); do
    curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$E2E_TMP/$name.log" >&2; fail "$name exited during start-up"; }
    sleep 0.1
  done
  tail -n 30 "$E2E_TMP/$name.log" >&2
  fail "$name not ready at $url within ${secs}s"
}

# prom_query PORT EXPR : the JSON result of an instant query.
prom_query() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2"
}

# prom_has_data PORT EXPR : true when the instant query returns at least one sample.
prom_has_data() {
  prom_query "$1" "$2" | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}

# make_fixture_root DEST : tests/fixtures/hosts/two-node plus fake QEMU processes for two of
# the libvirt test driver's domains (tests/fixtures/libvirt/host.xml), each in a cgroup v2 of its
# own, so that per-VM placement, locality, KSM and cgroup families have data too.
make_fixture_root() {
  local dest=$1 src=${KVMEM_SOURCE_DIR:?}/tests/fixtures/hosts/two-node
  mkdir -p "$dest"
  cp -a "$src/proc" "$src/sys" "$dest/"
  local pid uuid n0 n1 cg_root=${KVMEM_SOURCE_DIR:?}/tests/fixtures/vm-cgroups/v2/sys/fs/cgroup
  local cg="$cg_root/machine.slice/machine-qemu\\x2d1\\x2dtest.scope"
  for spec in "4101 a0000000-0000-4000-8000-000000000002 786432 262144" \
              "4102 a0000000-0000-4000-8000-000000000004 131072 1179648"; do
    read -r pid uuid n0 n1 <<<"$spec"
    mkdir -p "$dest/proc/$pid"
    printf 'qemu-system-x86_64\0-name\0guest\0-uuid\0%s\0' "$uuid" >"$dest/proc/$pid/cmdline"
    printf '7f0000000000 default anon=%d dirty=%d N0=%d N1=%d kernelpagesize_kB=4\n' \
      $((n0 + n1)) $((n0 + n1)) "$n0" "$n1" >"$dest/proc/$pid/numa_maps"
    printf 'ksm_rmap_items 4096\nksm_zero_pages 12\nksm_merging_pages 2048\nksm_process_profit 8126464\n' \
      >"$dest/proc/$pid/ksm_stat"
    # A cgroup v2 of its own, as libvirt's systemd layout makes it (tests/fixtures/vm-cgroups/v2).
    local scope="machine.slice/machine-qemu\\x2d$pid\\x2dguest.scope/libvirt"
    mkdir -p "$dest/sys/fs/cgroup/$scope"
    cp -a "$cg/libvirt/." "$dest/sys/fs/cgroup/$scope/"
    echo "0::/$scope/emulator" >"$dest/proc/$pid/cgroup"
  done
  cp "$cg_root/cgroup.controllers" "$dest/sys/fs/cgroup/"
  # Both nodes in the DRAM tier, so the tier panels have data (two-node predates tiering).
  mkdir -p "$dest/sys/devices/virtual/memory_tiering/memory_tier4"
  echo 0-1 >"$dest/sys/devices/virtual/memory_tiering/memory_tier4/nodelist"
}

# prometheus_config FILE SCRAPE_INTERVAL RULES_FILE ALERTMANAGER_PORT TARGET... : a config for
# Prometheus on loopback. Each TARGET is JOB=HOST:PORT. An empty ALERTMANAGER_PORT sends no alerts.
prometheus_config() {
  local file=$1 interval=$2 rules=$3 am=$4; shift 4
  {
    echo "global:"
    echo "  scrape_interval: $interval"
    echo "  evaluation_interval: $interval"
    [[ -n "$rules" ]] && printf 'rule_files:\n  - %s\n' "$rules"
    if [[ -n "$am" ]]; then
      printf 'alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ["127.0.0.1:%s"]\n' "$am"
    fi
    echo "scrape_configs:"
    local t
    for t in "$@"; do
      printf '  - job_name: %s\n    static_configs:\n      - targets: ["%s"]\n' "${t%%=*}" "${t#*=}"
    done
  } >"$file"
}

# start_alertmanager CONFIG PORT : checks CONFIG with amtool, starts Alertmanager on
# 127.0.0.1:PORT (no clustering), sets AM_PID and waits until it is ready.
start_alertmanager() {
  command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed; run scripts/setup.sh"
  amtool check-config "$1" >/dev/null || fail "amtool rejects the test's Alertmanager config $1"
  start_bg AM prometheus-alertmanager --config.file="$1" --storage.path="$E2E_TMP/am-data" \
    --web.listen-address="127.0.0.1:$2" --cluster.listen-address= --log.level=warn
  wait_ready AM "$AM_PID" "http://127.0.0.1:$2/-/ready" 30
}

# start_prometheus CONFIG [NAME] : sets ${NAME}_PORT and ${NAME}_PID (NAME: PROM unless given, for
# a second Prometheus) and waits until it is ready.
start_prometheus() {
  command -v prometheus >/dev/null || fail "prometheus not installed; run scripts/setup.sh"
  local name=${2:-PROM} port pid
  port=$(free_port)
  start_bg "$name" prometheus --config.file="$1" --storage.tsdb.path="$E2E_TMP/${name,,}-data" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn
  printf -v "${name}_PORT" '%s' "$port"
  pid="${name}_PID"
  wait_ready "$name" "${!pid}" "http://127.0.0.1:$port/-/ready" 30
}
