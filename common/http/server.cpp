// Beast-based implementation of http::Server: the listener, admission of connections, and
// the choice of a plain or TLS session for each.
#include "common/http/server.h"

#include <atomic>
#include <thread>

#include "common/http/session.h"

namespace kvmem::http {

namespace detail {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Request ToRequest(bhttp::request<bhttp::string_body>& msg, const std::string& peer) {
  Request req;
  auto method = msg.method_string();
  auto target = msg.target();
  req.method.assign(method.data(), method.size());
  req.target.assign(target.data(), target.size());
  req.path = req.target.substr(0, req.target.find('?'));
  for (const auto& field : msg) {
    auto name = field.name_string();
    auto value = field.value();
    req.headers.emplace_back(Lower(std::string_view(name.data(), name.size())),
                             std::string(value.data(), value.size()));
  }
  req.body = std::move(msg.body());
  req.peer = peer;
  return req;
}

}  // namespace detail

namespace {

using namespace detail;

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler) : context_(options, std::move(handler)), acceptor_(io_) {
    context_.auth_pool = &auth_pool_;
  }

  ~ServerImpl() override { Stop(); }

  Result<void> Bind(const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto address = host.empty() ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::make_address(host, ec);
    if (ec) return Fail(ErrorKind::kConfig, "bad listen address host \"" + host + "\"");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && host.empty()) acceptor_.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Fail(ErrorKind::kIo,
                  "cannot listen on " + (host.empty() ? "*" : host) + ":" + std::to_string(port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  void Run() {
    Accept();
    for (int i = 0; i < std::max(1, context_.options.threads); ++i) {
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
    auth_pool_.stop();
    auth_pool_.join();
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        log::Warn("accept failed", {{"err", ec.message()}});
      } else {
        switch (context_.registry.MakeRoom()) {
          case ConnectionRegistry::Admission::kRefused: {
            ++context_.counters->refused;  // every connection busy: refuse by closing at once
            beast::error_code ignored;
            socket.close(ignored);
            break;
          }
          case ConnectionRegistry::Admission::kEvicted: ++context_.counters->evicted; [[fallthrough]];
          case ConnectionRegistry::Admission::kAdmitted: StartSession(std::move(socket));
        }
      }
      Accept();
    });
  }

  // TLS or not is decided per connection by the config in force when it is accepted.
  void StartSession(tcp::socket socket) {
    std::shared_ptr<const ActiveWebConfig> active;
    if (context_.options.web_config) active = context_.options.web_config->Current();
    if (active && active->tls) {
      std::make_shared<Session<TlsStream>>(std::move(socket), context_, std::move(active))->Start();
    } else {
      std::make_shared<Session<PlainStream>>(std::move(socket), context_, std::move(active))->Start();
    }
  }

  // Declaration order is destruction order reversed: sessions still queued on io_ or on the
  // auth pool die with them and unregister from context_, which must outlive both; the auth
  // pool's queued work holds sessions whose sockets need io_, so the pool goes first.
  ServerContext context_;
  asio::io_context io_;
  asio::thread_pool auth_pool_{1};
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

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
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (ec) return bad("host must be an IP address");
  }
  return std::pair{host, static_cast<uint16_t>(port)};
}

Result<void> CheckListenAddressFlag(const std::string& text) {
  if (auto addr = ParseListenAddress(text); !addr) {
    return Fail(ErrorKind::kConfig, "--web.listen-address: " + addr.error().message);
  }
  return {};
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
