#!/usr/bin/env bash
# The fleet without a Prometheus per host (docs/fleet.md): vmagent scrapes the same three
# exporters as tests/e2e/fleet_federation.sh (fqdn as a target label) and remote-writes into a
# VictoriaMetrics single node; one central vmalert evaluates alerts/kvmem.rules.yml and
# alerts/kvmem-fleet.rules.yml over it, alerts included, so it needs a real Alertmanager. The
# answers must be the ones Prometheus gives, checked by the same tests/e2e/fleet_expect.py.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitoring_lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
SRC=${KVMEM_SOURCE_DIR:?}
RULES=("$SRC/alerts/kvmem.rules.yml" "$SRC/alerts/kvmem-fleet.rules.yml")
for bin in victoria-metrics vmagent vmalert; do
  command -v "$bin" >/dev/null || fail "$bin not installed (Debian package victoria-metrics); run scripts/setup.sh --test"
done

rule_flags=()
for r in "${RULES[@]}"; do rule_flags+=("-rule=$r"); done
vmalert -dryRun "${rule_flags[@]}" -loggerLevel=ERROR >"$E2E_TMP/dryrun.log" 2>&1 ||
  { cat "$E2E_TMP/dryrun.log" >&2; fail "vmalert -dryRun rejects the rule files"; }
pass "vmalert -dryRun accepts kvmem.rules.yml and kvmem-fleet.rules.yml"

start_fleet_exporters

VM_PORT=$(free_port)
# latencyOffset: fresh samples are otherwise hidden for 30 s; no response cache, so that a
# rollup cached before the recording rules settled cannot be served afterwards.
start_bg VM victoria-metrics -storageDataPath="$E2E_TMP/vm-data" -httpListenAddr="127.0.0.1:$VM_PORT" \
  -search.latencyOffset=1s -search.disableCache -loggerLevel=WARN
wait_ready VM "$VM_PID" "http://127.0.0.1:$VM_PORT/health" 30
VM_URL="http://127.0.0.1:$VM_PORT"

cfg="$E2E_TMP/vmagent.yml"
{
  printf 'global:\n  scrape_interval: 1s\n'
  echo "scrape_configs:"
  for h in "${FLEET_HOSTS[@]}"; do
    fleet_scrape_job "kvmem-$h" "$h" "127.0.0.1:${FLEET_EXPORTER_PORT[$h]}" "fqdn: $h"
  done
} >"$cfg"
vmagent -promscrape.config="$cfg" -promscrape.config.dryRun -loggerLevel=ERROR >"$E2E_TMP/vmagent-dryrun.log" 2>&1 ||
  { cat "$E2E_TMP/vmagent-dryrun.log" >&2; fail "vmagent rejects its scrape config"; }
AGENT_PORT=$(free_port)
start_bg AGENT vmagent -promscrape.config="$cfg" -remoteWrite.url="$VM_URL/api/v1/write" \
  -remoteWrite.tmpDataPath="$E2E_TMP/vmagent-data" -remoteWrite.flushInterval=1s \
  -httpListenAddr="127.0.0.1:$AGENT_PORT" -loggerLevel=WARN
wait_ready AGENT "$AGENT_PID" "http://127.0.0.1:$AGENT_PORT/health" 30

# vmalert refuses a rule file with alerts unless it has somewhere to send them.
AM_PORT=$(free_port)
printf 'route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n' >"$E2E_TMP/alertmanager.yml"
start_alertmanager "$E2E_TMP/alertmanager.yml" "$AM_PORT"

ALERT_PORT=$(free_port)
start_bg ALERT vmalert "${rule_flags[@]}" -datasource.url="$VM_URL" -remoteWrite.url="$VM_URL" \
  -notifier.url="http://127.0.0.1:$AM_PORT" -evaluationInterval=1s -remoteWrite.flushInterval=1s \
  -httpListenAddr="127.0.0.1:$ALERT_PORT" -loggerLevel=WARN
wait_ready ALERT "$ALERT_PID" "http://127.0.0.1:$ALERT_PORT/health" 30
pass "3 exporters, vmagent, VictoriaMetrics, vmalert (both rule files) and Alertmanager on 127.0.0.1"

# VictoriaMetrics keeps fresh rows in memory for a few seconds before a search can see them;
# flushing every second keeps the chain of recording rules from waiting on that as well.
start_bg FLUSH bash -c "while :; do curl -fsS -o /dev/null --max-time 2 '$VM_URL/internal/force_flush' || true; sleep 1; done"

# logged_errors : the distinct errors VictoriaMetrics, vmagent and vmalert logged (a rule vmalert
# could not evaluate or write, a scrape or a remote write that failed): the end of each line, where
# the cause is, without its timestamps.
logged_errors() {
  local name log_var
  for name in VM AGENT ALERT; do
    log_var="${name}_LOG"
    { grep -E '\b(error|fatal|panic)\b' "${!log_var}" || true; } | sed -E 's/^[^ \t]+[ \t]+//; s/[0-9]{10,13}/T/g' |
      awk -v n="$name" '{ print "  " n ": " (length($0) > 400 ? "..." substr($0, length($0) - 399) : $0) }' | sort -u
  done
}

python3 "$SRC/tests/e2e/fleet_expect.py" "$VM_URL" 150 ||
  { logged_errors >&2; fail "fleet answers on VictoriaMetrics (logged errors above, if any)"; }
pass "VictoriaMetrics: exact node scores, host ranking, room elsewhere, VM fits, move facts, Watcher's series"

# Watcher finds hosts through the fqdn labels of the active targets (fleet_federation.sh). Here
# only vmagent has targets; VictoriaMetrics' /api/v1/targets lists just what it scrapes itself
# (-promscrape.config of its own, none here), so a Watcher pointed at it gets the series above but
# no hosts.
active_fqdns() {
  curl -fsS --max-time 5 "$1/api/v1/targets?state=active" |
    python3 -c 'import json,sys; print(" ".join(sorted(t["labels"].get("fqdn","") for t in json.load(sys.stdin)["data"]["activeTargets"])))'
}
fqdns=$(active_fqdns "http://127.0.0.1:$AGENT_PORT")
[[ "$fqdns" == "h1 h2 h3" ]] || fail "vmagent's active targets' fqdn labels: got '$fqdns', want 'h1 h2 h3'"
vm_fqdns=$(active_fqdns "$VM_URL")
pass "vmagent's active targets carry fqdn h1 h2 h3; VictoriaMetrics' targets: ${vm_fqdns:-none} (no hosts for Watcher)"

errors=$(logged_errors)
[[ -z "$errors" ]] || { echo "$errors" >&2; fail "errors in the logs of VictoriaMetrics, vmagent or vmalert (above)"; }
pass "no errors in the logs of VictoriaMetrics, vmagent and vmalert"
