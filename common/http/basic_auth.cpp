// Basic auth: header decoding, bcrypt through libxcrypt, and the cache of good checks.
#include "common/http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace kvmem::http {
namespace {

// A valid cost-10 hash that no password in use matches: unknown users are checked against it.
constexpr const char* kDummyHash = "$2y$10$O4YlSCue8g1A32nX89ZscO08.cwX51iwStLEPHqDN6eFxF/WenBke";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding (RFC 4648 section 4), as RFC 7617 requires.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = Base64Value(c)) < 0) {
        return std::nullopt;
      }
    }
    const unsigned n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> DecodeBasicAuth(std::string_view h) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (h.size() < 6) return std::nullopt;
  for (size_t i = 0; i < 5; ++i)
    if (std::tolower(static_cast<unsigned char>(h[i])) != "basic"[i]) return std::nullopt;
  if (h[5] != ' ') return std::nullopt;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  auto decoded = DecodeBase64(h);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool VerifyBcrypt(const std::string& password, const std::string& hash) {
  // crypt_rn reads a C string: a NUL inside would cut the password short.
  if (password.find('\0') != std::string::npos) return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

std::optional<BasicAuth::Digest> BasicAuth::Key(const std::string& user, const std::string& password,
                                                const std::string& hash) {
  // Length-prefixed fields: ("ab", "c") and ("a", "bc") must not share a key.
  std::string material;
  for (const std::string* field : {&user, &password, &hash}) material += std::to_string(field->size()) + ":" + *field;
  Digest key{};
  unsigned int len = 0;
  const bool ok = EVP_Digest(material.data(), material.size(), key.data(), &len, EVP_sha256(), nullptr) == 1;
  OPENSSL_cleanse(material.data(), material.size());
  if (!ok) return std::nullopt;
  return key;
}

std::optional<std::string> BasicAuth::CachedUser(const std::map<std::string, std::string>& users,
                                                 std::string_view authorization) const {
  auto creds = DecodeBasicAuth(authorization);
  if (!creds) return std::nullopt;
  auto it = users.find(creds->first);
  if (it == users.end()) return std::nullopt;
  auto key = Key(creds->first, creds->second, it->second);
  if (!key || !Cached(*key)) return std::nullopt;
  return creds->first;
}

std::optional<std::string> BasicAuth::Check(const std::map<std::string, std::string>& users,
                                            std::string_view authorization) {
  auto creds = DecodeBasicAuth(authorization);
  if (!creds) return std::nullopt;
  const auto& [user, password] = *creds;
  auto it = users.find(user);
  if (it == users.end()) {
    VerifyBcrypt(password, kDummyHash);  // the same cost as a known user's
    return std::nullopt;
  }
  auto key = Key(user, password, it->second);
  if (!key) return std::nullopt;
  if (Cached(*key)) return user;
  if (!VerifyBcrypt(password, it->second)) return std::nullopt;
  Remember(*key);
  return user;
}

bool BasicAuth::Cached(const Digest& key) const {
  std::lock_guard lock(mutex_);
  return cache_.contains(key);
}

void BasicAuth::Remember(const Digest& key) {
  std::lock_guard lock(mutex_);
  if (capacity_ == 0 || !cache_.insert(key).second) return;
  order_.push_back(key);
  if (order_.size() > capacity_) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
}

size_t BasicAuth::cached() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

}  // namespace kvmem::http
