// OpenSSL settings for one tls_server_config. Each step that can fail says which key failed.
#include "common/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>
#include <vector>

namespace kvmem::http {
namespace {

// OpenSSL's error queue, oldest first, then emptied. `key_mismatch` tells whether one of
// them is X509's "key values mismatch" (a key that is not the certificate's).
std::string OpenSslErrors(bool* key_mismatch = nullptr) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    if (key_mismatch != nullptr && ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
      *key_mismatch = true;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

tl::unexpected<Error> TlsFail(const std::string& what) {
  return Fail(ErrorKind::kConfig, "tls_server_config: " + what + ": " + OpenSslErrors());
}

int OpenSslVersion(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10: return TLS1_VERSION;
    case TlsVersion::kTls11: return TLS1_1_VERSION;
    case TlsVersion::kTls12: return TLS1_2_VERSION;
    case TlsVersion::kTls13: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ":") + s;
  return out;
}

// RequestClientCert and RequireAnyClientCert take any certificate without checking it.
int AcceptAny(int, X509_STORE_CTX*) { return 1; }

Result<void> SetClientAuth(SSL_CTX* ctx, const TlsServerConfig& c) {
  if (!c.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, c.client_ca_file.c_str(), nullptr) != 1)
      return TlsFail("cannot load client_ca_file " + c.client_ca_file);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.client_ca_file.c_str());
    if (names == nullptr) return TlsFail("no CA certificate in client_ca_file " + c.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  }
  switch (c.client_auth) {
    case ClientAuth::kNoClientCert: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); break;
    case ClientAuth::kRequestClientCert: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAny); break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAny);
      break;
    case ClientAuth::kVerifyClientCertIfGiven: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr); break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return {};
}

Result<void> SetCiphers(SSL_CTX* ctx, const TlsServerConfig& c) {
  if (!c.openssl_ciphers.empty()) {
    if (SSL_CTX_set_cipher_list(ctx, Join(c.openssl_ciphers).c_str()) != 1)
      return TlsFail("none of cipher_suites is available");
    // OpenSSL silently drops suites its security level refuses: name the first one dropped.
    const STACK_OF(SSL_CIPHER)* active = SSL_CTX_get_ciphers(ctx);
    for (const auto& name : c.openssl_ciphers) {
      bool found = false;
      for (int i = 0; i < sk_SSL_CIPHER_num(active) && !found; ++i)
        found = name == SSL_CIPHER_get_name(sk_SSL_CIPHER_value(active, i));
      if (!found)
        return Fail(ErrorKind::kConfig, "tls_server_config: cipher_suites: " + name +
                                            " (OpenSSL's name) is not available in this OpenSSL's configuration");
    }
  }
  if (!c.openssl_tls13_ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, Join(c.openssl_tls13_ciphersuites).c_str()) != 1)
    return TlsFail("cipher_suites: cannot use the TLS 1.3 suites " + Join(c.openssl_tls13_ciphersuites));
  if (!c.openssl_groups.empty() && SSL_CTX_set1_groups_list(ctx, Join(c.openssl_groups).c_str()) != 1)
    return TlsFail("curve_preferences: cannot use " + Join(c.openssl_groups));
  return {};
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsServerConfig& c) {
  ERR_clear_error();
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (c.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(ctx, OpenSslVersion(c.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, OpenSslVersion(c.max_version)) != 1)
    return TlsFail("cannot set min_version/max_version");
  // Session resumption with client certificates needs a context id.
  static const unsigned char kSessionContext[] = "kvmem";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);

  if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1)
    return TlsFail("cannot load cert_file " + c.cert_file);
  // OpenSSL checks the key against the certificate as it loads it.
  if (SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    bool mismatch = false;
    const std::string why = OpenSslErrors(&mismatch);
    return Fail(
        ErrorKind::kConfig,
        "tls_server_config: " + (mismatch ? "key_file " + c.key_file + " does not match cert_file " + c.cert_file
                                          : "cannot load key_file " + c.key_file + ": " + why));
  }
  if (auto r = SetClientAuth(ctx, c); !r) return tl::unexpected(r.error());
  if (auto r = SetCiphers(ctx, c); !r) return tl::unexpected(r.error());
  return context;
}

}  // namespace kvmem::http
