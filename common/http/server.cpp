// Beast-based implementation of http::Server.
#include "common/http/server.h"

#include <atomic>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/http/gzip.h"
#include "common/log.h"

namespace kvmem::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class ServerImpl;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl* server);
  ~Session();
  void Start() { Read(false); }

 private:
  void Read(bool idle);
  void OnRead(beast::error_code ec);
  void Reply(Response response, bool keep_alive, bool head, bool gzip_ok);
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  ServerImpl* server_;
  std::string peer_;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)), acceptor_(io_) {}

  ~ServerImpl() override { Stop(); }

  Result<void> Bind(const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto address = host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                : asio::ip::make_address(host, ec);
    if (ec) return Fail(ErrorKind::kConfig, "bad listen address host \"" + host + "\"");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && host.empty()) acceptor_.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Fail(ErrorKind::kIo, "cannot listen on " + (host.empty() ? "*" : host) + ":" +
                                      std::to_string(port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  void Run() {
    Accept();
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  std::atomic<size_t> connections{0};

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        log::Warn("accept failed", {{"err", ec.message()}});
      } else if (connections.load() >= options_.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the limit: refuse by closing at once
      } else {
        std::make_shared<Session>(std::move(socket), this)->Start();
      }
      Accept();
    });
  }

  ServerOptions options_;
  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

Session::Session(tcp::socket socket, ServerImpl* server) : stream_(std::move(socket)), server_(server) {
  ++server_->connections;
  beast::error_code ec;
  // Without this, a response that spans segments waits on the client's delayed ACK (40 ms).
  stream_.socket().set_option(tcp::no_delay(true), ec);
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

Session::~Session() { --server_->connections; }

void Session::Read(bool idle) {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
  parser_->body_limit(server_->options().max_body_bytes);
  // One deadline for the whole request: a client that trickles bytes still runs out of time.
  stream_.expires_after(idle ? server_->options().idle_timeout : server_->options().read_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Session::OnRead(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return Close();
  }
  if (ec) {
    int status = ec == bhttp::error::header_limit ? 431 : ec == bhttp::error::body_limit ? 413 : 400;
    if (server_->options().on_reject) {
      Request partial;
      partial.peer = peer_;
      // The start line is stored as soon as it is parsed; the Content-Length check that
      // yields body_limit runs before the header counts as done, so do not ask is_header_done().
      auto method = parser_->get().method_string();
      auto target = parser_->get().target();
      partial.method.assign(method.data(), method.size());
      partial.target.assign(target.data(), target.size());
      partial.path = partial.target.substr(0, partial.target.find('?'));
      try {
        server_->options().on_reject(status, partial);
      } catch (...) {
      }
    }
    std::string body = status == 431 ? "request headers too large\n" : status == 413 ? "request body too large\n"
                                                                                    : "bad request: " + ec.message() + "\n";
    return Reply(TextResponse(status, std::move(body)), false, false, false);
  }

  auto& msg = parser_->get();
  Request req;
  auto method = msg.method_string();
  auto target = msg.target();
  req.method.assign(method.data(), method.size());
  req.target.assign(target.data(), target.size());
  req.path = req.target.substr(0, req.target.find('?'));
  for (const auto& field : msg) {
    auto name = field.name_string();
    auto value = field.value();
    req.headers.emplace_back(Lower(std::string_view(name.data(), name.size())), std::string(value.data(), value.size()));
  }
  req.body = std::move(msg.body());
  req.peer = peer_;
  bool keep_alive = msg.keep_alive();
  bool head = msg.method() == bhttp::verb::head;
  bool gzip_ok = AcceptsGzip(req.Header("accept-encoding"));

  Response resp;
  try {
    resp = server_->handler()(req);
  } catch (const std::exception& e) {
    log::Error("request handler failed", {{"path", req.path}, {"err", e.what()}});
    resp = TextResponse(500, "internal error\n");
  } catch (...) {
    log::Error("request handler failed", {{"path", req.path}, {"err", "unknown exception"}});
    resp = TextResponse(500, "internal error\n");
  }
  Reply(std::move(resp), keep_alive, head, gzip_ok);
}

void Session::Reply(Response response, bool keep_alive, bool head, bool gzip_ok) {
  response_ = std::make_shared<bhttp::response<bhttp::string_body>>();
  auto& r = *response_;
  r.version(11);
  r.result(static_cast<unsigned>(response.status));
  r.set(bhttp::field::content_type, response.content_type);
  r.set(bhttp::field::server, "kvmem");
  for (auto& [k, v] : response.headers) r.set(k, v);
  if (gzip_ok && response.body.size() >= 1024) {
    if (auto compressed = Gzip(response.body)) {
      response.body = std::move(*compressed);
      r.set(bhttp::field::content_encoding, "gzip");
    }
  }
  r.body() = std::move(response.body);
  r.keep_alive(keep_alive);
  r.prepare_payload();
  if (head) r.body().clear();
  stream_.expires_after(server_->options().read_timeout);
  bhttp::async_write(stream_, r, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
    if (ec || !keep_alive) return self->Close();
    self->Read(true);
  });
}

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

Response TextResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Result<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorKind::kConfig, "bad listen address \"" + text + "\": " + why +
                                        "; expected HOST:PORT such as 127.0.0.1:9848, [::1]:9848 or :9848");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port_text.empty()) return bad("no port");
  unsigned long port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad("port is not a number");
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535) return bad("port above 65535");
  }
  if (host == "localhost") host = "127.0.0.1";
  if (!host.empty()) {
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec) return bad("host must be an IP address");
  }
  return std::pair{host, static_cast<uint16_t>(port)};
}

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  auto addr = ParseListenAddress(options.listen_address);
  if (!addr) return tl::unexpected(addr.error());
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  if (auto bound = server->Bind(addr->first, addr->second); !bound) return tl::unexpected(bound.error());
  server->Run();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace kvmem::http
