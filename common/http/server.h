// A small HTTP/1.1 server on Boost.Beast for the daemons' metrics, landing page and webhook.
// Bounded: connection count, header and body sizes, and a deadline for reading each request
// (slow clients are cut off); when full, the client slowest to send its request is dropped
// to admit a new one (connections.h). Responses are gzip-compressed when the client asks.
// With a web config (web_config_watcher.h): TLS, basic auth and extra headers, re-read when
// the files change. Requests run on `threads` threads, so at most that many handlers run at
// once; bcrypt checks run on one thread of their own, so that they never hold up a request
// whose credentials are cached.
// Thread-safety: Start() once; handlers run concurrently on the server's threads and must be
// thread-safe. Stop() is idempotent. Handler exceptions become 500 responses.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kvmem::http {

struct Request {
  std::string method;
  std::string target;                                        // path plus query, as sent
  std::string path;                                          // without the query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;  // "ip:port"
  std::string user;  // the basic auth user the server authenticated; "" when none

  // The first header with this (lower-case) name, or "".
  std::string Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Response TextResponse(int status, std::string body);

using Handler = std::function<Response(const Request&)>;

class WebConfigWatcher;

// What the server dropped, for the owner's metrics. Updated from server threads.
struct ServerCounters {
  std::atomic<uint64_t> evicted{0};       // slowest waiting client dropped to admit a new one
  std::atomic<uint64_t> refused{0};       // new connection closed: every connection was busy
  std::atomic<uint64_t> timed_out{0};     // request (or TLS handshake) not complete within read_timeout
  std::atomic<uint64_t> unauthorized{0};  // 401 answers of basic auth
};

struct ServerOptions {
  std::string listen_address = "127.0.0.1:0";  // host:port; ":port" means every address
  int threads = 2;
  size_t max_connections = 64;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};  // for a whole request, headers and body
  std::chrono::milliseconds idle_timeout{60'000};  // between keep-alive requests
  // Told about requests the server refuses before any handler sees them (400, 413, 431),
  // with what was parsed of the request (method, path and peer when known), so that the
  // owner of the path can count them. Runs on a server thread; must not throw.
  std::function<void(int status, const Request& partial)> on_reject;
  // TLS, basic auth and headers; null: plain HTTP, no auth. A 401 is reported to on_reject.
  std::shared_ptr<WebConfigWatcher> web_config;
  // Paths whose handler authenticates on its own (the webhook's bearer token): basic auth
  // is not asked there, as a request carries one Authorization header.
  std::vector<std::string> basic_auth_exempt_paths;
  // Where the server counts what it drops; null: the server keeps its own.
  std::shared_ptr<ServerCounters> counters;
};

// "127.0.0.1:9848", ":9848", "[::1]:9848" -> host and port. kConfig error naming the text.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& text);
// The same check for the --web.listen-address flag of either daemon, its error naming the flag.
Result<void> CheckListenAddressFlag(const std::string& text);

class Server {
 public:
  // Binds and starts serving. kConfig error if the address is malformed, kIo if it cannot bind.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace kvmem::http
