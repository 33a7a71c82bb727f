#!/usr/bin/env bash
# A real Prometheus scrapes both daemons over https with basic_auth and our CA, as an
# operator would configure it (docs/security.md), and reaches up == 1; with a wrong password
# the target is down with a 401.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitoring_lib.sh"
source "$(dirname "$0")/tls_lib.sh"
EXP=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}
HOST="$SRC/tests/fixtures/hosts/two-node"
PKI="$E2E_TMP/pki"
make_test_pki "$PKI"
HASH=$(bcrypt_hash prometheus 'scrape-pass')
printf "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: '%s'\n" "$HASH" >"$PKI/web.yml"

start_daemon EXP "$EXP" --web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" \
  $(no_libvirt_flags "$EXP") --web.config.file="$PKI/web.yml"
start_daemon CTL "$CTL" --web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" \
  --libvirt.uri= --web.config.file="$PKI/web.yml"

job() {  # job NAME PORT PASSWORD
  printf '  - job_name: %s\n    scheme: https\n    tls_config:\n      ca_file: %s\n' "$1" "$PKI/ca.crt"
  printf '    basic_auth:\n      username: prometheus\n      password: %s\n' "$3"
  printf '    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$2"
}
{
  printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n'
  job kvmem_exporter "$EXP_PORT" scrape-pass
  job kvmem_controller "$CTL_PORT" scrape-pass
  job wrong_password "$EXP_PORT" not-the-password
} >"$E2E_TMP/prometheus.yml"
promtool check config "$E2E_TMP/prometheus.yml" >/dev/null || fail "promtool rejects the scrape config"
start_prometheus "$E2E_TMP/prometheus.yml"

up_is() {  # up_is JOB VALUE
  prom_query "$PROM_PORT" "up{job=\"$1\"}" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and r[0]["value"][1] == sys.argv[1] else 1)' "$2"
}
wait_until 30 "exporter up over https" up_is kvmem_exporter 1
wait_until 30 "controller up over https" up_is kvmem_controller 1
wait_until 30 "the wrong password's target down" up_is wrong_password 0
prom_has_data "$PROM_PORT" 'kvmem_node_memory_total_bytes{job="kvmem_exporter",node="0"}' || fail "no exporter data in Prometheus"
prom_has_data "$PROM_PORT" 'kvmem_controller_cycles_total{job="kvmem_controller"}' || fail "no controller data in Prometheus"
curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/targets" |
  python3 -c '
import json, sys
t = [x for x in json.load(sys.stdin)["data"]["activeTargets"] if x["labels"]["job"] == "wrong_password"][0]
sys.exit(0 if "401" in t["lastError"] else "wrong_password lastError: " + t["lastError"])' || fail "the wrong password's error does not name 401"
pass "Prometheus scrapes both daemons over https with basic_auth (up == 1); a wrong password gives up == 0 and 401"
echo "web_prometheus: all passed"
