// The --web.config.file format of the Prometheus exporter-toolkit: TLS, basic auth users and
// extra response headers, as plain values. Parsing and validation only: nothing here opens
// a certificate (see tls_context.h) or serves a request. Every key the file may hold is
// checked; unknown keys, and known keys kvmem does not implement, are errors naming the key
// and line (docs/security.md lists them).
// Thread-safety: pure functions over values. Throws only std::bad_alloc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kvmem::http {

enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct TlsServerConfig {
  // Paths as given, or relative to the config file's directory (as exporter-toolkit does).
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: none
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // cipher_suites, split by protocol and translated to OpenSSL's names: TLS 1.2 and older
  // suites (SSL_CTX_set_cipher_list) and TLS 1.3 suites (SSL_CTX_set_ciphersuites). Empty:
  // OpenSSL's defaults.
  std::vector<std::string> openssl_ciphers;
  std::vector<std::string> openssl_tls13_ciphersuites;
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> openssl_groups;  // curve_preferences in OpenSSL's names ("P-256")
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;                        // absent: plain HTTP
  std::map<std::string, std::string> basic_users;            // user -> bcrypt hash; empty: no auth
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  bool http2 = true;                                         // accepted for compatibility; kvmem serves HTTP/1.1 only
};

// Parses the file's text. `file` names it in errors and anchors relative paths. Errors are
// ErrorKind::kConfig with file and line set, e.g.
//   web.yml:3: unknown key "tls_server_config.certfile"; allowed: cert_file, key_file, ...
Result<WebConfig> ParseWebConfig(std::string_view text, const std::string& file);

// Reads and parses `path`. kConfig error when it cannot be read.
Result<WebConfig> LoadWebConfigFile(const std::string& path);

// The headers a web config may set, as exporter-toolkit allows them; the value is checked
// against `values` when that is not empty.
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;
};
const std::vector<AllowedHeader>& AllowedHeaders();

}  // namespace kvmem::http
