#!/usr/bin/env bash
# tls_server_config's min_version, cipher_suites and curve_preferences are enforced in real
# handshakes with `openssl s_client` against kvmem_exporter on 127.0.0.1: a client below
# min_version, one offering only a cipher outside cipher_suites, and one offering only a
# curve outside curve_preferences are each refused, while the allowed ones connect with exactly
# the version, cipher and curve configured. Every refused client first connects to an exporter
# with the default TLS settings, so a refusal is the setting's doing, not the client's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls_lib.sh"
EXP=${KVMEM_EXPORTER:?} SRC=${KVMEM_SOURCE_DIR:?}
HOST="$SRC/tests/fixtures/hosts/two-node"
PKI="$E2E_TMP/pki"
make_test_pki "$PKI"  # the server key is P-256 ECDSA: ECDHE-ECDSA suites
exp_args=(--web.listen-address=127.0.0.1:0 --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys" $(no_libvirt_flags "$EXP"))

tls_config() {  # tls_config FILE LINES... : cert and key plus the given tls_server_config lines
  local f=$1; shift
  { printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n'; printf '  %s\n' "$@"; } >"$f"
}
tls_config "$PKI/default.yml"
tls_config "$PKI/tls12.yml" "min_version: TLS12" "max_version: TLS12" \
  "cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]" "curve_preferences: [CurveP384]"
tls_config "$PKI/tls13.yml" "min_version: TLS13" "curve_preferences: [X25519]"

# hello PORT S_CLIENT_ARGS... : the handshake's summary in $E2E_TMP/hello; status 0 when it
# completed with our CA verifying the server.
hello() {
  local port=$1; shift
  timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$PKI/ca.crt" \
    -verify_return_error "$@" </dev/null >"$E2E_TMP/hello" 2>&1 &&
    grep -q 'Verify return code: 0 (ok)' "$E2E_TMP/hello" && ! grep -q '^Cipher is (NONE)' "$E2E_TMP/hello"
}
accepted() {  # accepted PORT WHAT WANT_LINE ARGS... : connects and the summary has WANT_LINE
  local port=$1 what=$2 want=$3; shift 3
  hello "$port" "$@" || { cat "$E2E_TMP/hello" >&2; fail "$what: handshake failed"; }
  grep -q -- "$want" "$E2E_TMP/hello" || { cat "$E2E_TMP/hello" >&2; fail "$what: no '$want'"; }
}
refused() {  # refused PORT WHAT ARGS... : the same client connects by default, not here
  local port=$1 what=$2; shift 2
  hello "$DEF_PORT" "$@" || { cat "$E2E_TMP/hello" >&2; fail "$what: the client cannot connect even with the default settings"; }
  ! hello "$port" "$@" || { cat "$E2E_TMP/hello" >&2; fail "$what: the handshake succeeded"; }
  grep -qE 'alert (protocol version|handshake failure)|no shared cipher|unsupported protocol' "$E2E_TMP/hello" ||
    { cat "$E2E_TMP/hello" >&2; fail "$what: refused, but not by a TLS alert"; }
}

start_daemon DEF "$EXP" "${exp_args[@]}" --web.config.file="$PKI/default.yml"
start_daemon T12 "$EXP" "${exp_args[@]}" --web.config.file="$PKI/tls12.yml"
start_daemon T13 "$EXP" "${exp_args[@]}" --web.config.file="$PKI/tls13.yml"

accepted "$T12_PORT" "TLS 1.2, the allowed cipher and curve" 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256' \
  -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups P-384:P-256
grep -q "Server Temp Key: ECDH, secp384r1\|Server Temp Key: ECDH, P-384" "$E2E_TMP/hello" || { cat "$E2E_TMP/hello" >&2; fail "allowed handshake did not use P-384"; }
refused "$T12_PORT" "TLS 1.2 with only a cipher outside cipher_suites" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -groups P-384:P-256
refused "$T12_PORT" "TLS 1.2 with only a curve outside curve_preferences" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups P-256
refused "$T12_PORT" "TLS 1.3 above max_version TLS12" -tls1_3
pass "cipher_suites, curve_preferences and max_version: allowed ones connect, others refused"

accepted "$T13_PORT" "TLS 1.3 with X25519" 'New, TLSv1.3' -tls1_3 -groups X25519
grep -q 'Server Temp Key: X25519' "$E2E_TMP/hello" || fail "allowed TLS 1.3 handshake did not use X25519"
refused "$T13_PORT" "TLS 1.2 below min_version TLS13" -tls1_2 -groups X25519:P-256
refused "$T13_PORT" "TLS 1.3 with only P-256, outside curve_preferences" -tls1_3 -groups P-256
pass "min_version TLS13: TLS 1.2 refused, TLS 1.3 with X25519 connects, P-256 refused"
for p in "$DEF_PID" "$T12_PID" "$T13_PID"; do stop_daemon "$p"; done
