# Helpers for the fleet end-to-end scripts (sourced after lib.sh and monitoring_lib.sh): three
# kvmem exporters standing for three hosts of a fleet, each on a fixture host with its own NUMA
# layout and hugepage pools, and a libvirt test-driver host with its own VMs.
#   h1: tests/fixtures/hosts/two-node          + tests/fixtures/libvirt/fleet/h1.xml
#   h2: tests/fixtures/hosts/four-node-sparse  + tests/fixtures/libvirt/fleet/h2.xml
#   h3: tests/fixtures/hosts/old-kernel        + tests/fixtures/libvirt/fleet/h3.xml
# tests/e2e/fleet_expect.py holds the answers the fleet rules must give for them.
FLEET_HOSTS=(h1 h2 h3)
declare -A FLEET_FIXTURE=([h1]=two-node [h2]=four-node-sparse [h3]=old-kernel)
declare -A FLEET_EXPORTER_PORT=()

# start_fleet_exporters : starts the three exporters; sets FLEET_EXPORTER_PORT[hN].
start_fleet_exporters() {
  local h src=${KVMEM_SOURCE_DIR:?} port_var
  for h in "${FLEET_HOSTS[@]}"; do
    local fixture="$src/tests/fixtures/hosts/${FLEET_FIXTURE[$h]}"
    start_daemon "EXP_$h" "${KVMEM_EXPORTER:?}" --web.listen-address=127.0.0.1:0 \
      --path.procfs="$fixture/proc" --path.sysfs="$fixture/sys" \
      --libvirt.uri="test://$src/tests/fixtures/libvirt/fleet/$h.xml"
    port_var="EXP_${h}_PORT"
    FLEET_EXPORTER_PORT[$h]=${!port_var}
  done
}

# fleet_scrape_job JOB HOST TARGET [EXTRA_LABELS] : one scrape_configs entry that scrapes TARGET
# and names the host HOST: instance is the stable host name, not host:port (docs/fleet.md).
fleet_scrape_job() {
  local job=$1 host=$2 target=$3 extra=${4:-}
  printf '  - job_name: %s\n    static_configs:\n      - targets: ["%s"]\n' "$job" "$target"
  [[ -n "$extra" ]] && printf '        labels: {%s}\n' "$extra"
  printf '    relabel_configs:\n      - target_label: instance\n        replacement: %s\n' "$host"
}
