# Helpers for the web config end-to-end scripts (sourced after lib.sh): a private CA with
# server and client certificates made at test time with openssl, bcrypt hashes made with
# htpasswd, and curl over TLS.
command -v openssl >/dev/null || fail "openssl not installed; run scripts/setup.sh"
command -v htpasswd >/dev/null || fail "htpasswd not installed (apache2-utils); run scripts/setup.sh"

# make_ca DIR : DIR/ca.{crt,key}, a CA valid for two days (P-256 keys: fast to make).
make_ca() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=kvmem-test-ca \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || fail "openssl: cannot make the CA"
}

# make_cert DIR NAME CN EXT : DIR/NAME.{crt,key} signed by DIR/ca, with the extensions EXT
# (e.g. "subjectAltName=IP:127.0.0.1" or "extendedKeyUsage=clientAuth").
make_cert() {
  local d=$1 name=$2 cn=$3 ext=$4
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null || fail "openssl: cannot make the $name key"
  printf '%s\n' "$ext" >"$d/$name.ext"
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null || fail "openssl: cannot sign the $name certificate"
}

# make_self_signed DIR NAME CN : a client certificate no CA of ours signed.
make_self_signed() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$3" \
    -keyout "$1/$2.key" -out "$1/$2.crt" 2>/dev/null || fail "openssl: cannot make $2"
}

# make_test_pki DIR : ca, server (127.0.0.1 and localhost), client (signed), rogue (self-signed).
make_test_pki() {
  make_ca "$1"
  make_cert "$1" server "kvmem-server" "subjectAltName=IP:127.0.0.1,DNS:localhost"
  make_cert "$1" client "kvmem-client" "extendedKeyUsage=clientAuth"
  make_self_signed "$1" rogue "rogue-client"
}

# bcrypt_hash USER PASSWORD : a cost-10 hash (what docs/security.md tells operators to use).
bcrypt_hash() { htpasswd -nbBC 10 "$1" "$2" | cut -d: -f2; }

# https_code PORT PATH CURL_ARGS... : the HTTP status over TLS with our CA, or 000 when the
# connection or handshake failed.
https_code() {
  local port=$1 path=$2; shift 2
  curl -s -o "$E2E_TMP/https_body" -w '%{http_code}' --max-time 10 --cacert "$PKI/ca.crt" "$@" \
    "https://127.0.0.1:$port$path" || true
}

# served_serial PORT : the serial number of the certificate the server presents now.
served_serial() {
  openssl s_client -connect "127.0.0.1:$1" -CAfile "$PKI/ca.crt" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}

# write_atomically FILE : stdin to FILE through a rename, as config managers do.
write_atomically() { cat >"$1.tmp" && mv -f "$1.tmp" "$1"; }
