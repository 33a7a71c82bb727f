// HTTP basic authentication against bcrypt hashes, as exporter-toolkit's basic_auth_users.
// bcrypt itself is libxcrypt's crypt_rn ($2a$, $2b$, $2y$); a successful check is cached,
// keyed by the SHA-256 of user, password and hash, so that a scraper sending the same
// credentials does not pay bcrypt's cost (about 100 ms at cost 10) on every request. Only
// digests are kept, never passwords. A failed check is never cached.
// Thread-safety: BasicAuth is safe to use from any thread. Throws only std::bad_alloc.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace kvmem::http {

// "Basic dXNlcjpwYXNz" -> {"user", "pass"}; nullopt when it is not well-formed basic auth.
std::optional<std::pair<std::string, std::string>> DecodeBasicAuth(std::string_view authorization);

// True when bcrypt(password, hash's salt and cost) equals `hash`, compared in constant time.
bool VerifyBcrypt(const std::string& password, const std::string& hash);

class BasicAuth {
 public:
  explicit BasicAuth(size_t cache_capacity = 256) : capacity_(cache_capacity) {}

  // The authenticated user name, or nullopt: unknown user, wrong password, or a header that
  // is not basic auth. An unknown user still costs one bcrypt, so that timing does not tell
  // which user names exist.
  std::optional<std::string> Check(const std::map<std::string, std::string>& users, std::string_view authorization);

  // The user when these credentials passed Check() before (no bcrypt); nullopt otherwise.
  std::optional<std::string> CachedUser(const std::map<std::string, std::string>& users,
                                        std::string_view authorization) const;

  size_t cached() const;

 private:
  using Digest = std::array<unsigned char, 32>;
  // SHA-256 over user, password and hash, each length-prefixed; nullopt if OpenSSL fails.
  static std::optional<Digest> Key(const std::string& user, const std::string& password, const std::string& hash);
  bool Cached(const Digest& key) const;
  void Remember(const Digest& key);

  size_t capacity_;
  mutable std::mutex mutex_;  // guards the two below
  std::set<Digest> cache_;
  std::deque<Digest> order_;  // oldest first: evicted when the cache is full
};

}  // namespace kvmem::http
