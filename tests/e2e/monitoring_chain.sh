#!/usr/bin/env bash
# The whole chain on 127.0.0.1: kvmem_exporter serves the two-node fixture host; the policy puts
# both nodes in reclaim territory (reclaim_below 50%, they have about 44% available); Prometheus
# evaluates the rules generated from that same policy every second; Alertmanager routes the
# firing KvmemNodeMemoryLow to the dry-run controller's webhook with a bearer token; the
# controller logs and counts the evaluation each alert triggered. Everything stops by PID.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitoring_lib.sh"
EXPORTER=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}
command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed; run scripts/setup.sh"
T0=$SECONDS

HOST="$SRC/tests/fixtures/hosts/two-node"
cat >"$E2E_TMP/policy.yaml" <<'YAML'
interval: 500ms
balloon: {reclaim_below: 50%, release_above: 60%}
YAML
"$CTL" --policy "$E2E_TMP/policy.yaml" --print-alert-rules >"$E2E_TMP/rules.yml" || fail "--print-alert-rules"
grep -q 'expr: kvmem:node_memory_available:ratio < 0.5$' "$E2E_TMP/rules.yml" || fail "policy threshold not in the rules"
head -c 24 /dev/urandom | base64 >"$E2E_TMP/token"
chmod 600 "$E2E_TMP/token"

start_daemon EXP "$EXPORTER" --web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" \
  $(no_libvirt_flags "$EXPORTER")
start_daemon CTL "$CTL" --policy "$E2E_TMP/policy.yaml" --web.listen-address=127.0.0.1:0 --libvirt.uri= \
  --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" --webhook.bearer-token-file="$E2E_TMP/token"
grep -q 'webhook="/webhook (bearer token)"' "$CTL_LOG" || fail "controller did not report its webhook: $(cat "$CTL_LOG")"

AM_PORT=$(free_port)
cat >"$E2E_TMP/alertmanager.yml" <<YAML
route:
  receiver: kvmem-controller
  group_by: [alertname, instance, node, domain]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: kvmem-controller
    webhook_configs:
      - url: http://127.0.0.1:$CTL_PORT/webhook
        send_resolved: false
        max_alerts: 100
        http_config:
          authorization:
            credentials_file: $E2E_TMP/token
YAML
start_alertmanager "$E2E_TMP/alertmanager.yml" "$AM_PORT"

prometheus_config "$E2E_TMP/prometheus.yml" 1s "$E2E_TMP/rules.yml" "$AM_PORT" \
  "kvmem=127.0.0.1:$EXP_PORT" "kvmem-controller=127.0.0.1:$CTL_PORT"
promtool check config "$E2E_TMP/prometheus.yml" >/dev/null || fail "promtool rejects the test's Prometheus config"
start_prometheus "$E2E_TMP/prometheus.yml"

firing() {
  curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | python3 -c '
import json, sys
alerts = json.load(sys.stdin)["data"]["alerts"]
nodes = sorted(a["labels"]["node"] for a in alerts if a["labels"]["alertname"] == "KvmemNodeMemoryLow" and a["state"] == "firing")
sys.exit(0 if nodes == ["0", "1"] else 1)'
}
wait_until 30 "KvmemNodeMemoryLow firing in Prometheus for nodes 0 and 1" firing
pass "KvmemNodeMemoryLow fires in Prometheus for both nodes after $((SECONDS - T0))s"

delivered() {
  scrape "$AM_PORT" | awk '/^alertmanager_notifications_total\{integration="webhook"\}/ { n = $2 } END { exit !(n >= 2) }'
}
wait_until 20 "Alertmanager to deliver both alerts to the webhook" delivered
failed=$(scrape "$AM_PORT" | awk '/^alertmanager_notifications_failed_total\{integration="webhook"\}/ { print $2 }')
assert_eq "${failed:-0}" 0 "failed webhook notifications"
pass "Alertmanager delivered the alerts to the controller's webhook"

evaluated() { grep -q "msg=\"webhook evaluation\" alertname=KvmemNodeMemoryLow subject=\"node $1\"" "$CTL_LOG"; }
wait_until 10 "the controller to log evaluations for nodes 0 and 1" bash -c "$(declare -f evaluated); CTL_LOG='$CTL_LOG'; evaluated 0 && evaluated 1"
grep 'msg="webhook evaluation"' "$CTL_LOG" | grep -q 'rules=balloon.reclaim .*outcome="band reclaim' ||
  fail "evaluation log lacks the rule or the node's band: $(grep 'webhook evaluation' "$CTL_LOG")"
scrape "$CTL_PORT" >"$E2E_TMP/ctl.prom"
evals=$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_evaluations_total{alertname="KvmemNodeMemoryLow"}')
[[ ${evals%.*} -ge 2 ]] || fail "expected >= 2 counted evaluations, got $evals"
accepted=$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_requests_total{result="accepted"}')
[[ ${accepted%.*} -ge 1 ]] || fail "no accepted webhook request counted"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" kvmem_controller_dry_run)" 1 "dry-run"
pass "the controller logged and counted $evals triggered evaluations (dry-run: nothing applied)"

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$CTL_PORT/webhook")
assert_eq "$code" 401 "webhook without the token"
scrape "$CTL_PORT" >"$E2E_TMP/ctl2.prom"
assert_eq "$(metric_value "$E2E_TMP/ctl2.prom" 'kvmem_controller_webhook_requests_total{result="unauthorized"}')" 1 "unauthorized count"
grep -q 'msg="webhook request refused" status=401' "$CTL_LOG" || fail "401 not logged"
pass "a request without the token gets 401, a log line and a count"

stop_daemon "$PROM_PID"
stop_daemon "$AM_PID"
stop_daemon "$CTL_PID"
stop_daemon "$EXP_PID"
echo "monitoring_chain: all passed in $((SECONDS - T0))s"
