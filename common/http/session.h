// One HTTP connection of http::Server, plain or TLS (internal to server.cpp): the optional
// TLS handshake, reading requests under deadlines, basic auth, the handler, the response.
// Thread-safety: each session runs on its own strand; Evict() may be called from any thread.
// Throws nothing out of its handlers: handler exceptions become 500 responses.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/http/basic_auth.h"
#include "common/http/connections.h"
#include "common/http/gzip.h"
#include "common/http/server.h"
#include "common/http/web_config_watcher.h"
#include "common/log.h"

namespace kvmem::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// What every session of one server shares; owned by the server, outlives its sessions.
struct ServerContext {
  ServerContext(const ServerOptions& o, Handler h)
      : options(o),
        handler(std::move(h)),
        counters(o.counters ? o.counters : std::make_shared<ServerCounters>()),
        registry(o.max_connections) {}
  ServerOptions options;
  Handler handler;
  std::shared_ptr<ServerCounters> counters;
  ConnectionRegistry registry;
  BasicAuth auth;
  asio::thread_pool* auth_pool = nullptr;  // bcrypt runs here, off the request threads
};

std::string Lower(std::string_view s);
int64_t SteadyNanos();
// The request as the handler sees it: method, target, path, lower-cased headers, body, peer.
Request ToRequest(bhttp::request<bhttp::string_body>& msg, const std::string& peer);

template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(tcp::socket socket, ServerContext& server, std::shared_ptr<const ActiveWebConfig> active)
      : server_(server),
        tls_config_(std::move(active)),
        active_(tls_config_),
        stream_(MakeStream(std::move(socket), tls_config_.get())) {
    beast::error_code ec;
    // Without this, a response that spans segments waits on the client's delayed ACK (40 ms).
    Socket().set_option(tcp::no_delay(true), ec);
    auto ep = Socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Session() override {
    if (registered_) server_.registry.Remove(handle_);
  }

  void Start() {
    handle_ = server_.registry.Add(this->shared_from_this());
    registered_ = true;
    if constexpr (kTls) {
      Wait(false);
      Lowest().expires_after(server_.options.read_timeout);
      beast::async_detect_ssl(Lowest(), buffer_, [self = this->shared_from_this()](beast::error_code ec, bool tls) {
        self->OnDetect(ec, tls);
      });
    } else {
      ReadRequest(false);
    }
  }

  void Evict() override {
    asio::post(Lowest().get_executor(), [self = this->shared_from_this()] {
      if (self->waiting_since_ns.load() != 0) return self->Close();
      self->evict_after_reply_ = true;  // busy: answer, then close
    });
  }

 private:
  struct Pending {
    Request request;
    bool keep_alive = false, head = false, gzip_ok = false;
  };

  static Stream MakeStream(tcp::socket socket, const ActiveWebConfig* active) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *active->tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  tcp::socket& Socket() { return Lowest().socket(); }
  void Wait(bool partial_now) {
    partial.store(partial_now);
    waiting_since_ns.store(SteadyNanos());
  }

  void OnDetect(beast::error_code ec, bool tls) {
    if (ec) return EndOnError(ec, false);
    if (!tls) {
      // As Go's servers do: tell a plain-HTTP client why, then close.
      static const std::string kReply =
          "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
          "Client sent an HTTP request to an HTTPS server.\n";
      asio::async_write(Lowest(), asio::buffer(kReply),
                        [self = this->shared_from_this()](beast::error_code, size_t) { self->Close(); });
      return;
    }
    partial.store(true);
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                              [self = this->shared_from_this()](beast::error_code hec, size_t used) {
                                if (hec) return self->EndOnError(hec, true);
                                self->buffer_.consume(used);
                                self->ReadRequest(false);
                              });
    }
  }

  void ReadRequest(bool idle) {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    idle_ = idle && buffer_.size() == 0;  // a pipelined request has begun already
    // One deadline for the whole request: a client that trickles bytes still runs out of time.
    Lowest().expires_after(idle_ ? server_.options.idle_timeout : server_.options.read_timeout);
    Wait(buffer_.size() > 0);
    ReadSome();
  }

  // Beast's async_read_some returns only once the parser makes progress, and its header
  // parser waits for the whole header: so read the socket here, and feed the parser, to
  // know of every byte that arrives (`partial`), and so that a keep-alive request, once its
  // first byte arrives, must complete within read_timeout rather than idle_timeout.
  void ReadSome() {
    while (buffer_.size() > 0) {
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec || parser_->is_done()) return OnRead(ec);
      if (used == 0) break;
    }
    const size_t size = beast::read_size(buffer_, 65536);
    stream_.async_read_some(buffer_.prepare(size), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->buffer_.commit(n);
      if (ec == asio::error::eof) {
        // A request without a length ends with the connection; anything else is the client leaving.
        if (!self->parser_->got_some()) return self->OnRead(bhttp::error::end_of_stream);
        beast::error_code eof_ec;
        self->parser_->put_eof(eof_ec);
        return self->OnRead(eof_ec);
      }
      if (ec) return self->OnRead(ec);
      if (n > 0) {
        self->partial.store(true);
        if (self->idle_) {
          self->idle_ = false;
          self->Lowest().expires_after(self->server_.options.read_timeout);
        }
      }
      self->ReadSome();
    });
  }

  void EndOnError(beast::error_code ec, bool started) {
    if (ec == beast::error::timeout && (started || !idle_)) {
      ++server_.counters->timed_out;
    }
    Close();
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated) {
      return EndOnError(ec, false);
    }
    waiting_since_ns.store(0);
    if (ec) return Refuse(ec);
    auto& msg = parser_->get();
    Pending p;
    p.request = ToRequest(msg, peer_);
    p.keep_alive = msg.keep_alive();
    p.head = msg.method() == bhttp::verb::head;
    p.gzip_ok = AcceptsGzip(p.request.Header("accept-encoding"));
    Authenticate(std::move(p));
  }

  void Refuse(beast::error_code ec) {
    int status = ec == bhttp::error::header_limit ? 431 : ec == bhttp::error::body_limit ? 413 : 400;
    Request partial_request;
    partial_request.peer = peer_;
    // The start line is stored as soon as it is parsed; the Content-Length check that
    // yields body_limit runs before the header counts as done, so do not ask is_header_done().
    auto method = parser_->get().method_string();
    auto target = parser_->get().target();
    partial_request.method.assign(method.data(), method.size());
    partial_request.target.assign(target.data(), target.size());
    partial_request.path = partial_request.target.substr(0, partial_request.target.find('?'));
    Report(status, partial_request);
    std::string body = status == 431   ? "request headers too large\n"
                       : status == 413 ? "request body too large\n"
                                       : "bad request: " + ec.message() + "\n";
    Reply(TextResponse(status, std::move(body)), false, false, false);
  }

  void Report(int status, const Request& request) {
    if (!server_.options.on_reject) return;
    try {
      server_.options.on_reject(status, request);
    } catch (...) {
    }
  }

  void Authenticate(Pending p) {
    if (server_.options.web_config) active_ = server_.options.web_config->Current();
    const auto& exempt = server_.options.basic_auth_exempt_paths;
    if (!active_ || active_->config.basic_users.empty() ||
        std::find(exempt.begin(), exempt.end(), p.request.path) != exempt.end()) {
      return Dispatch(std::move(p));
    }
    const auto& users = active_->config.basic_users;
    const std::string header = p.request.Header("authorization");
    if (auto user = server_.auth.CachedUser(users, header)) {
      p.request.user = *user;
      return Dispatch(std::move(p));
    }
    // One check per connection at most is queued (a connection waits for its answer), so the
    // queue is bounded by max_connections; checks queued behind the first for the same
    // credentials find its result in the cache.
    asio::post(*server_.auth_pool,
               [self = this->shared_from_this(), p = std::move(p), header, active = active_]() mutable {
                 auto user = self->server_.auth.Check(active->config.basic_users, header);
                 asio::post(self->Lowest().get_executor(), [self, p = std::move(p), user = std::move(user)]() mutable {
                   if (!user) return self->Unauthorized(std::move(p));
                   p.request.user = *user;
                   self->Dispatch(std::move(p));
                 });
               });
  }

  void Unauthorized(Pending p) {
    ++server_.counters->unauthorized;
    Report(401, p.request);
    auto r = TextResponse(401, "Unauthorized\n");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"kvmem\", charset=\"UTF-8\"");
    Reply(std::move(r), p.keep_alive, p.head, false);
  }

  void Dispatch(Pending p) {
    Response resp;
    try {
      resp = server_.handler(p.request);
    } catch (const std::exception& e) {
      log::Error("request handler failed", {{"path", p.request.path}, {"err", e.what()}});
      resp = TextResponse(500, "internal error\n");
    } catch (...) {
      log::Error("request handler failed", {{"path", p.request.path}, {"err", "unknown exception"}});
      resp = TextResponse(500, "internal error\n");
    }
    Reply(std::move(resp), p.keep_alive, p.head, p.gzip_ok);
  }

  void Reply(Response response, bool keep_alive, bool head, bool gzip_ok) {
    response_ = std::make_shared<bhttp::response<bhttp::string_body>>();
    auto& r = *response_;
    r.version(11);
    r.result(static_cast<unsigned>(response.status));
    r.set(bhttp::field::content_type, response.content_type);
    r.set(bhttp::field::server, "kvmem");
    for (auto& [k, v] : response.headers) r.set(k, v);
    if (active_) {
      for (const auto& [k, v] : active_->config.headers) r.set(k, v);
    }
    if (gzip_ok && response.body.size() >= 1024) {
      if (auto compressed = Gzip(response.body)) {
        response.body = std::move(*compressed);
        r.set(bhttp::field::content_encoding, "gzip");
      }
    }
    r.body() = std::move(response.body);
    r.keep_alive(keep_alive && !evict_after_reply_);
    r.prepare_payload();
    if (head) r.body().clear();
    Lowest().expires_after(server_.options.read_timeout);
    bhttp::async_write(stream_, r, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_->keep_alive() || self->evict_after_reply_) return self->Close();
      self->ReadRequest(true);
    });
  }

  void Close() {
    waiting_since_ns.store(0);
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_send, ec);
    Socket().close(ec);
  }

  ServerContext& server_;
  std::shared_ptr<const ActiveWebConfig> tls_config_;  // as the connection began: its TLS context
  std::shared_ptr<const ActiveWebConfig> active_;      // per request: users and headers
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  std::string peer_;
  ConnectionRegistry::Handle handle_;
  bool registered_ = false;
  bool idle_ = false;
  bool evict_after_reply_ = false;
};

}  // namespace kvmem::http::detail
