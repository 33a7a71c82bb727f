// Parsing of the exporter-toolkit web config: walks the YAML tree, rejects unknown keys,
// translates names to OpenSSL's, then checks the relations between keys. First error wins.
#include "common/http/web_config.h"

#include <yaml-cpp/yaml.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/yaml_map.h"

namespace kvmem::http {
namespace {

using yaml_text::Join;

// The web config's errors carry their line apart (file:line: message) and quote key paths.
const yaml_map::Style kStyle{"the web config", true, false};

// Holds the first error; every step below is skipped once it is set.
class Parser {
 public:
  using Entry = yaml_map::Entry;

  explicit Parser(std::string file) : file_(std::move(file)) {}

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }
  void Fail(const YAML::Mark& mark, std::string message) {
    if (!error_) error_ = Error{ErrorKind::kConfig, std::move(message), file_, mark.is_null() ? 0 : mark.line + 1};
  }
  void Fail(const yaml_map::Problem& p) { Fail(p.mark, p.message); }

  // The entries of a mapping, each checked against `keys`.
  std::vector<Entry> Mapping(const YAML::Node& node, const std::string& path, const YAML::Mark& mark,
                             const yaml_map::Keys& keys) {
    if (failed()) return {};
    return TakeOr(yaml_map::Walk(node, path, keys, kStyle, mark));
  }
  std::optional<std::string> Scalar(const Entry& e) { return Take(yaml_map::Scalar(e, kStyle)); }
  std::vector<std::string> List(const Entry& e) { return TakeOr(yaml_map::ScalarList(e, kStyle)); }
  std::optional<bool> Bool(const Entry& e) { return Take(yaml_map::Bool(e, kStyle)); }

  static std::string Quote(const std::string& s) { return "\"" + s + "\""; }

 private:
  // The value, or nothing with the problem recorded (once failed, always nothing).
  template <class T>
  std::optional<T> Take(yaml_map::Checked<T> checked) {
    if (failed()) return std::nullopt;
    if (!checked) {
      Fail(checked.error());
      return std::nullopt;
    }
    return std::move(*checked);
  }
  template <class T>
  T TakeOr(yaml_map::Checked<T> checked) {
    auto v = Take(std::move(checked));
    return v ? std::move(*v) : T{};
  }

  std::string file_;
  std::optional<Error> error_;
};

template <class T>
std::optional<T> OneOf(Parser& p, const Parser::Entry& e, const std::string& path,
                       const std::vector<std::pair<std::string_view, T>>& names) {
  auto s = p.Scalar(e);
  if (!s) return std::nullopt;
  for (const auto& [name, value] : names)
    if (name == *s) return value;
  std::vector<std::string_view> all;
  for (const auto& n : names) all.push_back(n.first);
  p.Fail(e.key_mark, Parser::Quote(path) + ": unknown value \"" + *s + "\"; expected one of " + Join(all));
  return std::nullopt;
}

const std::vector<std::pair<std::string_view, ClientAuth>> kClientAuth = {
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"RequestClientCert", ClientAuth::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
};
const std::vector<std::pair<std::string_view, TlsVersion>> kVersions = {{"TLS10", TlsVersion::kTls10},
                                                                        {"TLS11", TlsVersion::kTls11},
                                                                        {"TLS12", TlsVersion::kTls12},
                                                                        {"TLS13", TlsVersion::kTls13}};
// Go's curve names (crypto/tls CurveID) -> OpenSSL group names.
const std::vector<std::pair<std::string_view, std::string_view>> kCurves = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};

std::string_view VersionName(TlsVersion v) {
  for (const auto& [name, value] : kVersions)
    if (value == v) return name;
  return "?";
}

// IANA names (what Go uses) -> OpenSSL's. OpenSSL names TLS 1.3 suites by their IANA names,
// so a result starting with "TLS_" is a TLS 1.3 suite. Go also accepts the ChaCha20 suites
// without their "_SHA256" suffix.
void ReadCiphers(Parser& p, const Parser::Entry& e, const std::string& path, TlsServerConfig& tls) {
  for (const auto& name : p.List(e)) {
    std::string openssl = OPENSSL_cipher_name(name.c_str());
    if (openssl == "(NONE)" && name.ends_with("_CHACHA20_POLY1305"))
      openssl = OPENSSL_cipher_name((name + "_SHA256").c_str());
    if (openssl == "(NONE)") {
      p.Fail(e.key_mark, Parser::Quote(path) + ": unknown cipher suite \"" + name +
                             "\"; use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
      return;
    }
    (openssl.starts_with("TLS_") ? tls.openssl_tls13_ciphersuites : tls.openssl_ciphers).push_back(openssl);
  }
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || dir.empty()) return path;
  return (std::filesystem::path(dir) / path).string();
}

void ReadTls(Parser& p, const Parser::Entry& top, const std::string& dir, WebConfig& out) {
  const std::string base = "tls_server_config";
  // Known to exporter-toolkit but not implemented here: each with what to do instead.
  auto entries = p.Mapping(top.value, base, top.key_mark,
                           {{"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version",
                             "max_version", "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"},
                            false,
                            {{"cert", "give the certificate as a file with cert_file"},
                             {"key", "give the key as a file with key_file"},
                             {"client_ca", "give the CA certificates as a file with client_ca_file"},
                             {"client_allowed_sans", "restrict clients with client_ca_file instead"}}});
  if (p.failed() || entries.empty()) return;
  TlsServerConfig tls;
  YAML::Mark version_mark, auth_mark;
  for (const auto& e : entries) {
    const std::string path = base + "." + e.key;
    if (e.key == "cert_file" || e.key == "key_file" || e.key == "client_ca_file") {
      auto s = p.Scalar(e);
      if (!s) return;
      (e.key == "cert_file"  ? tls.cert_file
       : e.key == "key_file" ? tls.key_file
                             : tls.client_ca_file) = Resolve(dir, *s);
    } else if (e.key == "client_auth_type") {
      if (auto v = OneOf(p, e, path, kClientAuth)) tls.client_auth = *v;
      auth_mark = e.key_mark;
    } else if (e.key == "min_version" || e.key == "max_version") {
      if (auto v = OneOf(p, e, path, kVersions)) (e.key == "min_version" ? tls.min_version : tls.max_version) = *v;
      version_mark = e.key_mark;
    } else if (e.key == "cipher_suites") {
      ReadCiphers(p, e, path, tls);
    } else if (e.key == "prefer_server_cipher_suites") {
      if (auto b = p.Bool(e)) tls.prefer_server_cipher_suites = *b;
    } else if (e.key == "curve_preferences") {
      for (const auto& name : p.List(e)) {
        auto c = std::find_if(kCurves.begin(), kCurves.end(), [&](const auto& x) { return x.first == name; });
        if (c == kCurves.end()) {
          p.Fail(e.key_mark, Parser::Quote(path) + ": unknown curve \"" + name +
                                 "\"; expected one of CurveP256, CurveP384, CurveP521, X25519");
          return;
        }
        tls.openssl_groups.emplace_back(c->second);
      }
    }
  }
  if (p.failed()) return;
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    p.Fail(top.key_mark, "\"tls_server_config\" needs both cert_file and key_file; missing " +
                             std::string(tls.cert_file.empty() ? "cert_file" : "key_file"));
    return;
  }
  if (tls.min_version > tls.max_version) {
    p.Fail(version_mark, "\"tls_server_config.min_version\" " + std::string(VersionName(tls.min_version)) +
                             " is above max_version " + std::string(VersionName(tls.max_version)));
    return;
  }
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (verifies && tls.client_ca_file.empty()) {
    p.Fail(auth_mark,
           "\"tls_server_config.client_auth_type\" " +
               std::string(tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ? "VerifyClientCertIfGiven"
                                                                                   : "RequireAndVerifyClientCert") +
               " needs client_ca_file");
    return;
  }
  if (!tls.client_ca_file.empty() && tls.client_auth == ClientAuth::kNoClientCert) {
    p.Fail(top.key_mark,
           "\"tls_server_config.client_ca_file\" is set but client_auth_type is NoClientCert; "
           "set client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven");
    return;
  }
  out.tls = std::move(tls);
}

// "$2a$", "$2b$" or "$2y$", a two-digit cost from 04 to 31, then 53 characters of bcrypt's
// base64 (salt and hash): 60 in all.
bool LooksLikeBcrypt(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$' ||
      h[6] != '$')
    return false;
  if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(h.begin() + 7, h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
  });
}

void ReadUsers(Parser& p, const Parser::Entry& top, WebConfig& out) {
  for (const auto& e : p.Mapping(top.value, "basic_auth_users", top.key_mark, {{}, true})) {
    const std::string path = "basic_auth_users." + e.key;
    if (e.key.empty() || e.key.find(':') != std::string::npos) {
      p.Fail(e.key_mark, Parser::Quote(path) + ": a user name must be non-empty and hold no ':'");
      return;
    }
    auto hash = p.Scalar(e);
    if (!hash) return;
    if (!LooksLikeBcrypt(*hash)) {
      // The value may be a password: never print it.
      p.Fail(e.key_mark, Parser::Quote(path) + ": expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), got " +
                             std::to_string(hash->size()) + " characters; make one with: htpasswd -nBC 10 " + e.key);
      return;
    }
    out.basic_users.emplace(e.key, *hash);
  }
}

void ReadHttp(Parser& p, const Parser::Entry& top, WebConfig& out) {
  for (const auto& e : p.Mapping(top.value, "http_server_config", top.key_mark, {{"http2", "headers"}})) {
    if (e.key == "http2") {
      if (auto b = p.Bool(e)) out.http2 = *b;
      continue;
    }
    for (const auto& h : p.Mapping(e.value, "http_server_config.headers", e.key_mark, {{}, true})) {
      const std::string path = "http_server_config.headers." + h.key;
      auto value = p.Scalar(h);
      if (!value) return;
      const auto& allowed = AllowedHeaders();
      auto a = std::find_if(allowed.begin(), allowed.end(), [&](const AllowedHeader& x) {
        return std::equal(x.name.begin(), x.name.end(), h.key.begin(), h.key.end(), [](char l, char r) {
          return std::tolower(static_cast<unsigned char>(l)) == std::tolower(static_cast<unsigned char>(r));
        });
      });
      if (a == allowed.end()) {
        std::vector<std::string_view> names;
        for (const auto& x : allowed) names.push_back(x.name);
        p.Fail(h.key_mark, Parser::Quote(path) + ": this header cannot be set; allowed: " + Join(names));
        return;
      }
      if (value->find_first_of("\r\n") != std::string::npos || value->empty()) {
        p.Fail(h.key_mark, Parser::Quote(path) + ": the value must be one non-empty line");
        return;
      }
      if (!a->values.empty() && std::find(a->values.begin(), a->values.end(), *value) == a->values.end()) {
        p.Fail(h.key_mark, Parser::Quote(path) + ": expected one of " + Join(a->values) + ", got \"" + *value + "\"");
        return;
      }
      out.headers.emplace_back(std::string(a->name), *value);
    }
  }
}

}  // namespace

const std::vector<AllowedHeader>& AllowedHeaders() {
  static const std::vector<AllowedHeader> headers = {
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return headers;
}

Result<WebConfig> ParseWebConfig(std::string_view text, const std::string& file) {
  Parser p(file);
  WebConfig out;
  const std::string dir = std::filesystem::path(file).parent_path().string();
  try {
    YAML::Node root = YAML::Load(std::string(text));
    for (const auto& e :
         p.Mapping(root, "", YAML::Mark::null_mark(),
                   {{"tls_server_config", "http_server_config", "basic_auth_users"},
                    false,
                    {{"rate_limit", "limit clients in front of kvmem (its own limits: docs/security.md)"}}})) {
      if (e.key == "tls_server_config") ReadTls(p, e, dir, out);
      if (e.key == "http_server_config") ReadHttp(p, e, out);
      if (e.key == "basic_auth_users") ReadUsers(p, e, out);
    }
  } catch (const YAML::Exception& e) {
    p.Fail(e.mark, "YAML syntax error: " + e.msg);
  }
  if (p.failed()) return tl::unexpected(p.error());
  return out;
}

Result<WebConfig> LoadWebConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorKind::kConfig, "cannot read the web config file", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail(ErrorKind::kConfig, "cannot read the web config file", path);
  return ParseWebConfig(text.str(), path);
}

}  // namespace kvmem::http
