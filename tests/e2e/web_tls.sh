#!/usr/bin/env bash
# --web.config.file on both daemons, with a CA and certificates made now: bad files exit 2
# naming file, key and line; https with our CA; plain HTTP to the TLS port refused; basic
# auth good, wrong and missing; every client_auth_type; certificate rotation and a bad file
# at runtime without a restart; the controller's metrics and webhook over TLS with basic
# auth or the webhook's own bearer token; promtool clean.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls_lib.sh"
EXP=${KVMEM_EXPORTER:?} CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}
HOST="$SRC/tests/fixtures/hosts/two-node"
exp_args=(--web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" $(no_libvirt_flags "$EXP"))
ctl_args=(--web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" --libvirt.uri=)
PKI="$E2E_TMP/pki"
make_test_pki "$PKI"
PASS='s3cret:with colon'
HASH=$(bcrypt_hash prometheus "$PASS")
WEB="$PKI/web.yml"
auth=(-u "prometheus:$PASS")

# web_config [CLIENT_AUTH_TYPE] : TLS with server.crt (paths relative to the file), plus basic
# auth when no client auth type is given.
web_config() {
  {
    printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n'
    if [[ -n "${1:-}" ]]; then
      printf '  client_ca_file: ca.crt\n  client_auth_type: %s\n' "$1"
    else
      printf "basic_auth_users:\n  prometheus: '%s'\n" "$HASH"
      printf 'http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n'
    fi
  } | write_atomically "$WEB"
}

# --- Bad files at start-up: exit 2, file, line and key named -------------------------------
expect_config_error() {  # expect_config_error BINARY WANT_MESSAGE ARGS...
  local bin=$1 want=$2 rc=0 err; shift 2
  err=$("$bin" "$@" 2>&1 >/dev/null) || rc=$?
  assert_eq "$rc" 2 "exit code of $(basename "$bin") $*"
  [[ "$err" == *"$want"* ]] || fail "$(basename "$bin") said '$err', want it to contain '$want'"
}
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth: RequireAndVerifyClientCert\n' >"$PKI/bad.yml"
expect_config_error "$EXP" "kvmem_exporter: --web.config.file: $PKI/bad.yml:4: unknown key \"tls_server_config.client_auth\"; allowed: cert_file," \
  "${exp_args[@]}" --web.config.file="$PKI/bad.yml"
expect_config_error "$CTL" "kvmem_controller: --web.config.file: $PKI/bad.yml:4: unknown key \"tls_server_config.client_auth\"" \
  "${ctl_args[@]}" --web.config.file="$PKI/bad.yml"
printf 'tls_server_config:\n  cert_file: nothere.crt\n  key_file: server.key\n' >"$PKI/nocert.yml"
expect_config_error "$EXP" "--web.config.file: $PKI/nocert.yml: tls_server_config: cannot load cert_file $PKI/nothere.crt: " \
  "${exp_args[@]}" --web.config.file="$PKI/nocert.yml"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n' >"$PKI/mismatch.yml"
expect_config_error "$EXP" "key_file $PKI/client.key does not match cert_file $PKI/server.crt" \
  "${exp_args[@]}" --web.config.file="$PKI/mismatch.yml"
printf 'basic_auth_users:\n  prometheus: plaintext\n' >"$PKI/plain.yml"
expect_config_error "$EXP" "$PKI/plain.yml:2: \"basic_auth_users.prometheus\": expected a bcrypt hash" \
  "${exp_args[@]}" --web.config.file="$PKI/plain.yml"
expect_config_error "$EXP" "--web.config.file: $PKI/none.yml: cannot read the web config file" \
  "${exp_args[@]}" --web.config.file="$PKI/none.yml"
pass "bad web configs exit 2 naming file, line and key (both daemons)"

# --- deploy/web-config.yml as shipped, with certificates where it expects them ---------------
mkdir -p "$E2E_TMP/etc/tls"
cp "$SRC/deploy/web-config.yml" "$E2E_TMP/etc/" && cp "$PKI/server.crt" "$PKI/server.key" "$E2E_TMP/etc/tls/"
start_daemon DEPLOY "$EXP" "${exp_args[@]}" --web.config.file="$E2E_TMP/etc/web-config.yml"
assert_eq "$(https_code "$DEPLOY_PORT" /metrics -D "$E2E_TMP/deploy_headers")" 401 "deploy/web-config.yml asks for a password"
grep -qi '^Strict-Transport-Security: max-age=31536000' "$E2E_TMP/deploy_headers" || fail "deploy example's header missing"
stop_daemon "$DEPLOY_PID"
pass "deploy/web-config.yml loads: TLS, basic auth and its headers"

# --- TLS and basic auth ---------------------------------------------------------------------
web_config
start_daemon EXP "$EXP" "${exp_args[@]}" --web.config.file="$WEB"
grep -q 'tls=on' "$EXP_LOG" || fail "start-up log does not say tls=on"
assert_eq "$(https_code "$EXP_PORT" /metrics "${auth[@]}" -D "$E2E_TMP/headers")" 200 "https with the CA and the password"
grep -q '^kvmem_node_memory_total_bytes{node="0"}' "$E2E_TMP/https_body" || fail "https body lacks node metrics"
grep -qi '^X-Content-Type-Options: nosniff' "$E2E_TMP/headers" || fail "configured header missing: $(cat "$E2E_TMP/headers")"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${auth[@]}" "https://127.0.0.1:$EXP_PORT/metrics" || true)" 000 \
  "https without our CA must fail verification"
plain=$(curl -s --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$EXP_PORT/metrics" || true)
assert_eq "$plain" "Client sent an HTTP request to an HTTPS server.
 400" "plain HTTP to the TLS port"
pass "https works with our CA only; plain HTTP gets 400 and no metrics"

assert_eq "$(https_code "$EXP_PORT" /metrics -u "prometheus:wrong" -D "$E2E_TMP/h401")" 401 "wrong password"
grep -q '^WWW-Authenticate: Basic realm="kvmem"' "$E2E_TMP/h401" || fail "401 lacks WWW-Authenticate: $(cat "$E2E_TMP/h401")"
assert_eq "$(https_code "$EXP_PORT" /metrics)" 401 "no credentials"
assert_eq "$(https_code "$EXP_PORT" / -u "grafana:$PASS")" 401 "unknown user"
assert_eq "$(https_code "$EXP_PORT" / "${auth[@]}")" 200 "landing page with the password"
https_code "$EXP_PORT" /metrics "${auth[@]}" >/dev/null
cp "$E2E_TMP/https_body" "$E2E_TMP/exp.prom"
assert_eq "$(metric_value "$E2E_TMP/exp.prom" kvmem_exporter_http_unauthorized_requests_total)" 3 "401s counted"
findings=$(promtool check metrics <"$E2E_TMP/exp.prom" 2>&1) || fail "promtool: $findings"
[[ -z "$findings" ]] || fail "promtool findings on the exporter: $findings"
pass "basic auth: good 200, wrong/missing/unknown 401 with WWW-Authenticate, counted; promtool clean"

# --- Client certificates, each mode loaded by a reload --------------------------------------
with_client() {  # with_client none|client|rogue : the status with that client certificate
  case $1 in
    none) https_code "$EXP_PORT" /metrics ;;
    *) https_code "$EXP_PORT" /metrics --cert "$PKI/$1.crt" --key "$PKI/$1.key" ;;
  esac
}
reloads=0
for spec in "RequireAndVerifyClientCert 000 200 000" "VerifyClientCertIfGiven 200 200 000" \
            "RequireAnyClientCert 000 200 200" "RequestClientCert 200 200 200" "NoClientCert 200 200 200"; do
  read -r mode none client rogue <<<"$spec"
  if [[ $mode == NoClientCert ]]; then
    printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: NoClientCert\n' | write_atomically "$WEB"
  else
    web_config "$mode"
  fi
  reloads=$((reloads + 1))
  sleep 1.1  # the file is looked at once a second at most
  assert_eq "$(with_client none)" "$none" "$mode without a client certificate"
  assert_eq "$(with_client client)" "$client" "$mode with a certificate our CA signed"
  assert_eq "$(with_client rogue)" "$rogue" "$mode with a self-signed certificate"
done
assert_eq "$(grep -c 'msg="web config reloaded"' "$EXP_LOG")" "$reloads" "reloads logged"
pass "client_auth_type: all five modes accept and refuse as exporter-toolkit's do, each loaded without a restart"

# --- Rotation: new certificate and key, no restart -------------------------------------------
before=$(served_serial "$EXP_PORT")
make_cert "$PKI" server2 "kvmem-server-rotated" "subjectAltName=IP:127.0.0.1,DNS:localhost"
want=$(openssl x509 -noout -serial -in "$PKI/server2.crt")
[[ "$before" != "$want" ]] || fail "test setup: the new certificate has the old serial"
cp "$PKI/server2.key" "$PKI/server.key.new" && cp "$PKI/server2.crt" "$PKI/server.crt.new"
mv -f "$PKI/server.key.new" "$PKI/server.key" && mv -f "$PKI/server.crt.new" "$PKI/server.crt"
sleep 1.1
assert_eq "$(served_serial "$EXP_PORT")" "$want" "certificate served after rotation"
assert_eq "$(with_client none)" 200 "https after rotation"
pass "rotated certificate served to the next connection without a restart ($before -> $want)"

# --- A bad file at runtime keeps the previous config ----------------------------------------
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: [server.key\n' | write_atomically "$WEB"
sleep 1.1
assert_eq "$(with_client none)" 200 "still serving after a bad reload"
cp "$E2E_TMP/https_body" "$E2E_TMP/exp.prom"
assert_eq "$(metric_value "$E2E_TMP/exp.prom" 'kvmem_exporter_web_config_reloads_total{result="failure"}')" 1 "failed reloads"
assert_eq "$(metric_value "$E2E_TMP/exp.prom" 'kvmem_exporter_web_config_reloads_total{result="success"}')" $((reloads + 1)) "good reloads"
assert_eq "$(metric_value "$E2E_TMP/exp.prom" kvmem_exporter_web_config_last_reload_successful)" 0 "last reload failed"
grep -q "msg=\"web config reload failed; keeping the previous one\" err=\"$WEB:4: YAML syntax error" "$EXP_LOG" ||
  fail "bad reload not logged with file and line: $(grep 'web config' "$EXP_LOG" | tail -n 2)"
web_config
sleep 1.1
assert_eq "$(https_code "$EXP_PORT" /metrics "${auth[@]}")" 200 "fixed file"
assert_eq "$(metric_value "$E2E_TMP/https_body" kvmem_exporter_web_config_last_reload_successful)" 1 "fixed file reloaded"
stop_daemon "$EXP_PID"
pass "a bad file at runtime is logged and counted and the previous config keeps serving"

# --- The controller: metrics and webhook over TLS -------------------------------------------
payload='{"version":"4","status":"firing","receiver":"kvmem","alerts":[{"status":"firing","labels":{"alertname":"KvmemSwapThrashing"}}]}'
json=(-X POST -H 'Content-Type: application/json' -d "$payload")
start_daemon CTL "$CTL" "${ctl_args[@]}" --web.config.file="$WEB"
assert_eq "$(https_code "$CTL_PORT" /metrics "${auth[@]}")" 200 "controller metrics with the password"
assert_eq "$(https_code "$CTL_PORT" /metrics)" 401 "controller metrics without credentials"
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}")" 401 "webhook without credentials"
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}" "${auth[@]}")" 200 "webhook with basic auth"
plain=$(curl -s --max-time 5 "http://127.0.0.1:$CTL_PORT/metrics" || true)
assert_eq "$plain" "Client sent an HTTP request to an HTTPS server." "plain HTTP to the controller"
https_code "$CTL_PORT" /metrics "${auth[@]}" >/dev/null
cp "$E2E_TMP/https_body" "$E2E_TMP/ctl.prom"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_requests_total{result="unauthorized"}')" 1 "webhook 401 counted"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_requests_total{result="accepted"}')" 1 "webhook accepted"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" kvmem_controller_http_unauthorized_requests_total)" 2 "controller 401s"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" kvmem_controller_web_config_last_reload_successful)" 1 "controller reload gauge"
findings=$(promtool check metrics <"$E2E_TMP/ctl.prom" 2>&1) || fail "promtool: $findings"
[[ -z "$findings" ]] || fail "promtool findings on the controller: $findings"
stop_daemon "$CTL_PID"

printf 'webhook-token\n' >"$E2E_TMP/token"
start_daemon CTL "$CTL" "${ctl_args[@]}" --web.config.file="$WEB" --webhook.bearer-token-file="$E2E_TMP/token"
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}" -H 'Authorization: Bearer webhook-token')" 200 "webhook with its bearer token"
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}" "${auth[@]}")" 401 "webhook with basic auth when it has a token"
assert_eq "$(https_code "$CTL_PORT" /metrics -H 'Authorization: Bearer webhook-token')" 401 "metrics with the webhook token"
stop_daemon "$CTL_PID"
pass "controller: TLS and basic auth on /metrics and /webhook; a bearer token replaces basic auth on /webhook only"

# Beyond loopback without a token, basic auth is the webhook's guard: a reload that drops
# basic_auth_users makes the webhook refuse (403) instead of running unauthenticated.
# Not loopback to the exposure check, yet only loopback traffic reaches it: an IPv4-mapped
# 127.0.0.1 on an IPv6 socket.
start_daemon CTL "$CTL" --web.listen-address='[::ffff:127.0.0.1]:0' --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" --libvirt.uri= \
  --web.config.file="$WEB"
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}" "${auth[@]}")" 200 "all-interfaces webhook with basic auth"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n' | write_atomically "$WEB"
sleep 1.1
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}")" 403 "webhook after basic auth left the web config"
grep -q 'no longer has basic_auth_users' "$E2E_TMP/https_body" || fail "403 body: $(cat "$E2E_TMP/https_body")"
assert_eq "$(https_code "$CTL_PORT" /metrics)" 200 "metrics follow the web config (no auth now)"
cp "$E2E_TMP/https_body" "$E2E_TMP/ctl.prom"
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_requests_total{result="unprotected"}')" 1 "403s counted"
web_config
sleep 1.1
assert_eq "$(https_code "$CTL_PORT" /webhook "${json[@]}" "${auth[@]}")" 200 "webhook once basic auth is back"
stop_daemon "$CTL_PID"
pass "a webhook beyond loopback refuses requests while the web config has no basic_auth_users"
echo "web_tls: all passed"
