// The --web.config.file parser: a full file, defaults, relative paths, and the exact error
// for each kind of bad key or value; basic auth decoding, bcrypt and its cache.
#include <gtest/gtest.h>

#include <string>

#include "common/http/basic_auth.h"
#include "common/http/web_config.h"

namespace kvmem::http {
namespace {

// htpasswd -nbBC 4 alice wonderland; the $2b$/$2a$ forms from libxcrypt with a fixed salt.
constexpr const char* kHash2y = "$2y$04$l1PD9i365Tw83aRHGnhsL.r.MMCtKJ08b.kuCgL/39ipLABXg.NaK";
constexpr const char* kHash2b = "$2b$04$abcdefghijklmnopqrstuujZkTwHUiJ9XdZPwKfcfDo7dMp5DjlTu";
constexpr const char* kHash2a = "$2a$04$abcdefghijklmnopqrstuujZkTwHUiJ9XdZPwKfcfDo7dMp5DjlTu";

std::string ErrorOf(const std::string& text) {
  auto r = ParseWebConfig(text, "/etc/kvmem/web.yml");
  return r ? "(parsed)" : r.error().ToString();
}

TEST(WebConfig, ParsesEveryKey) {
  auto r = ParseWebConfig(std::string(R"(tls_server_config:
  cert_file: certs/server.crt
  key_file: /keys/server.key
  client_ca_file: ca.crt
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_AES_256_GCM_SHA384]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    x-frame-options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: ')") + kHash2y + "'\n",
                          "/etc/kvmem/web.yml");
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->tls);
  const TlsServerConfig& t = *r->tls;
  EXPECT_EQ(t.cert_file, "/etc/kvmem/certs/server.crt");
  EXPECT_EQ(t.key_file, "/keys/server.key");
  EXPECT_EQ(t.client_ca_file, "/etc/kvmem/ca.crt");
  EXPECT_EQ(t.client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(t.min_version, TlsVersion::kTls13);
  EXPECT_EQ(t.max_version, TlsVersion::kTls13);
  EXPECT_EQ(t.openssl_ciphers,
            (std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"}));
  EXPECT_EQ(t.openssl_tls13_ciphersuites, (std::vector<std::string>{"TLS_AES_256_GCM_SHA384"}));
  EXPECT_FALSE(t.prefer_server_cipher_suites);
  EXPECT_EQ(t.openssl_groups, (std::vector<std::string>{"X25519", "P-256"}));
  EXPECT_FALSE(r->http2);
  EXPECT_EQ(r->headers, (std::vector<std::pair<std::string, std::string>>{
                            {"X-Frame-Options", "deny"}, {"Strict-Transport-Security", "max-age=31536000"}}));
  EXPECT_EQ(r->basic_users, (std::map<std::string, std::string>{{"alice", kHash2y}}));
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  for (const char* text : {"", "# nothing\n", "tls_server_config:\nbasic_auth_users:\n"}) {
    auto r = ParseWebConfig(text, "web.yml");
    ASSERT_TRUE(r) << text;
    EXPECT_FALSE(r->tls) << text;
    EXPECT_TRUE(r->basic_users.empty()) << text;
    EXPECT_TRUE(r->headers.empty()) << text;
  }
}

TEST(WebConfig, DefaultsFollowExporterToolkit) {
  auto r = ParseWebConfig("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n", "web.yml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tls->cert_file, "a.crt");  // a file name without a directory: relative to the working directory
  EXPECT_EQ(r->tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_EQ(r->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(r->tls->max_version, TlsVersion::kTls13);
  EXPECT_TRUE(r->tls->prefer_server_cipher_suites);
  EXPECT_TRUE(r->tls->openssl_ciphers.empty());
  EXPECT_TRUE(r->http2);
}

struct BadCase {
  std::string text;
  std::string error;
};

TEST(WebConfig, ErrorsNameFileLineAndKey) {
  const std::string tls = "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n";
  const std::vector<BadCase> cases = {
      {"tls_config:\n  cert_file: x\n",
       "/etc/kvmem/web.yml:1: unknown key \"tls_config\"; allowed: tls_server_config, http_server_config, "
       "basic_auth_users"},
      {tls + "  certfile: b.crt\n",
       "/etc/kvmem/web.yml:4: unknown key \"tls_server_config.certfile\"; allowed: cert_file, key_file, "
       "client_ca_file, "
       "client_auth_type, min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences"},
      {tls + "  cert: '-----BEGIN'\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.cert\" is not supported by kvmem; give the certificate as a file "
       "with cert_file"},
      {tls + "  client_allowed_sans: [a]\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.client_allowed_sans\" is not supported by kvmem; restrict clients "
       "with "
       "client_ca_file instead"},
      {"rate_limit:\n  interval: 1s\n",
       "/etc/kvmem/web.yml:1: \"rate_limit\" is not supported by kvmem; limit clients in front of kvmem (its own "
       "limits: "
       "docs/security.md)"},
      {"- a\n- b\n", "/etc/kvmem/web.yml:1: the web config: expected a mapping of keys, got a list"},
      {"tls_server_config: yes\n",
       "/etc/kvmem/web.yml:1: \"tls_server_config\": expected a mapping of keys, got a single value"},
      {"tls_server_config:\n  cert_file: a.crt\n",
       "/etc/kvmem/web.yml:1: \"tls_server_config\" needs both cert_file and key_file; missing key_file"},
      {"tls_server_config:\n  key_file: a.key\n  min_version: TLS13\n",
       "/etc/kvmem/web.yml:1: \"tls_server_config\" needs both cert_file and key_file; missing cert_file"},
      {tls + "  cert_file: c.crt\n",
       "/etc/kvmem/web.yml:4: duplicate key \"tls_server_config.cert_file\"; first at line 2, column 3"},
      {tls + "  client_auth_type: RequireClientCert\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.client_auth_type\": unknown value \"RequireClientCert\"; expected "
       "one "
       "of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"},
      {tls + "  client_auth_type: RequireAndVerifyClientCert\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.client_auth_type\" RequireAndVerifyClientCert needs client_ca_file"},
      {tls + "  client_ca_file: ca.crt\n",
       "/etc/kvmem/web.yml:1: \"tls_server_config.client_ca_file\" is set but client_auth_type is NoClientCert; set "
       "client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven"},
      {tls + "  min_version: TLS1.2\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.min_version\": unknown value \"TLS1.2\"; expected one of TLS10, "
       "TLS11, "
       "TLS12, TLS13"},
      {tls + "  max_version: TLS11\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.min_version\" TLS12 is above max_version TLS11"},
      {tls + "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.cipher_suites\": unknown cipher suite \"TLS_RSA_WITH_RC4_128_SHA\"; "
       "use "
       "IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {tls + "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.cipher_suites\": expected a list, got a single value"},
      {tls + "  curve_preferences: [CurveP224]\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.curve_preferences\": unknown curve \"CurveP224\"; expected one of "
       "CurveP256, CurveP384, CurveP521, X25519"},
      {tls + "  prefer_server_cipher_suites: yes\n",
       "/etc/kvmem/web.yml:4: \"tls_server_config.prefer_server_cipher_suites\": expected true or false, got \"yes\""},
      {"http_server_config:\n  http2: true\n  headers:\n    Server: nginx\n",
       "/etc/kvmem/web.yml:4: \"http_server_config.headers.Server\": this header cannot be set; allowed: "
       "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "/etc/kvmem/web.yml:3: \"http_server_config.headers.X-Frame-Options\": expected one of deny, sameorigin, got "
       "\"allow\""},
      {"http_server_config:\n  http3: true\n",
       "/etc/kvmem/web.yml:2: unknown key \"http_server_config.http3\"; allowed: http2, headers"},
      {"basic_auth_users:\n  alice: wonderland\n",
       "/etc/kvmem/web.yml:2: \"basic_auth_users.alice\": expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), "
       "got "
       "10 characters; make one with: htpasswd -nBC 10 alice"},
      {"basic_auth_users:\n  \"al:ice\": x\n",
       "/etc/kvmem/web.yml:2: \"basic_auth_users.al:ice\": a user name must be non-empty and hold no ':'"},
      {"basic_auth_users:\n  alice: [a]\n",
       "/etc/kvmem/web.yml:2: \"basic_auth_users.alice\": expected a single value, got a list"},
      {"basic_auth_users: [alice]\n",
       "/etc/kvmem/web.yml:1: \"basic_auth_users\": expected a mapping of keys, got a list"},
      {"tls_server_config:\n  cert_file: [a\n",
       "/etc/kvmem/web.yml:3: YAML syntax error: end of sequence flow not found"},
  };
  for (const auto& c : cases) EXPECT_EQ(ErrorOf(c.text), c.error) << c.text;
}

TEST(WebConfig, NeverPrintsAPlaintextPassword) {
  std::string err = ErrorOf("basic_auth_users:\n  alice: hunter2-secret\n");
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
}

TEST(WebConfig, ReportsAnUnreadableFile) {
  auto r = LoadWebConfigFile("/nonexistent/web.yml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(), "/nonexistent/web.yml: cannot read the web config file");
}

TEST(BasicAuth, DecodesTheHeader) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(DecodeBasicAuth("Basic YWxpY2U6d29uZGVybGFuZA=="), (P{"alice", "wonderland"}));
  EXPECT_EQ(DecodeBasicAuth("basic  YWxpY2U6d29uZGVybGFuZA== "), (P{"alice", "wonderland"}));
  EXPECT_EQ(DecodeBasicAuth("Basic YTpiOmM="), (P{"a", "b:c"}));  // the password may hold ':'
  EXPECT_EQ(DecodeBasicAuth("Basic Og=="), (P{"", ""}));
  EXPECT_FALSE(DecodeBasicAuth("Bearer YWxpY2U6d29uZGVybGFuZA=="));
  EXPECT_FALSE(DecodeBasicAuth("Basic YWxpY2U"));   // unpadded
  EXPECT_FALSE(DecodeBasicAuth("Basic YWxp=2U="));  // '=' inside
  EXPECT_FALSE(DecodeBasicAuth("Basic YWxpY2U="));  // "alice": no colon
  EXPECT_FALSE(DecodeBasicAuth("Basic"));
  EXPECT_FALSE(DecodeBasicAuth(""));
}

TEST(BasicAuth, VerifiesEveryBcryptVariant) {
  for (const char* hash : {kHash2y, kHash2b, kHash2a}) {
    EXPECT_TRUE(VerifyBcrypt("wonderland", hash)) << hash;
    EXPECT_FALSE(VerifyBcrypt("wonderlanD", hash)) << hash;
    EXPECT_FALSE(VerifyBcrypt(std::string("wonderland\0x", 12), hash)) << hash;
  }
  EXPECT_FALSE(VerifyBcrypt("wonderland", "$2y$04$short"));
  EXPECT_FALSE(VerifyBcrypt("", ""));
}

TEST(BasicAuth, CachesOnlySuccessfulChecks) {
  const std::map<std::string, std::string> users = {{"alice", kHash2y}};
  const std::string good = "Basic YWxpY2U6d29uZGVybGFuZA==";  // alice:wonderland
  const std::string bad = "Basic YWxpY2U6d3Jvbmc=";           // alice:wrong
  const std::string unknown = "Basic Ym9iOndvbmRlcmxhbmQ=";   // bob:wonderland
  BasicAuth auth(2);
  EXPECT_FALSE(auth.CachedUser(users, good));
  EXPECT_EQ(auth.Check(users, bad), std::nullopt);
  EXPECT_EQ(auth.Check(users, unknown), std::nullopt);
  EXPECT_EQ(auth.cached(), 0u);
  EXPECT_EQ(auth.Check(users, good), "alice");
  EXPECT_EQ(auth.cached(), 1u);
  EXPECT_EQ(auth.CachedUser(users, good), "alice");
  EXPECT_EQ(auth.CachedUser(users, bad), std::nullopt);
  // A new hash for the same user (a password change) is not served from the old entry.
  const std::map<std::string, std::string> changed = {{"alice", kHash2b}};
  EXPECT_EQ(auth.CachedUser(changed, good), std::nullopt);
  EXPECT_EQ(auth.Check(changed, good), "alice");
  EXPECT_EQ(auth.cached(), 2u);
  // Bounded: the oldest entry goes first.
  const std::map<std::string, std::string> third = {{"alice", kHash2a}};
  EXPECT_EQ(auth.Check(third, good), "alice");
  EXPECT_EQ(auth.cached(), 2u);
  EXPECT_EQ(auth.CachedUser(users, good), std::nullopt);
  EXPECT_EQ(auth.CachedUser(third, good), "alice");
}

}  // namespace
}  // namespace kvmem::http
