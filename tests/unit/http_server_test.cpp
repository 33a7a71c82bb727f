// http::Server's bounds over real sockets on 127.0.0.1, with small limits so that each runs
// in well under a second: header and body limits, the read and idle deadlines, the
// connection limit with eviction of the slowest client, refusal when all are busy; the
// eviction choice as a table; and the web config's reload on change.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio.hpp>

#include "common/http/connections.h"
#include "common/http/server.h"
#include "common/http/tls_context.h"
#include "common/http/web_config_watcher.h"

namespace kvmem::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

TEST(PickVictim, PrefersTheOldestPartialRequestAndNeverABusyConnection) {
  EXPECT_EQ(PickVictim({}), std::nullopt);
  EXPECT_EQ(PickVictim({{0, false}, {0, true}}), std::nullopt);         // all busy
  EXPECT_EQ(PickVictim({{0, false}, {500, false}, {300, false}}), 2u);  // oldest waiting
  EXPECT_EQ(PickVictim({{100, false}, {500, true}, {300, true}}), 2u);  // partial before idle, then oldest
  EXPECT_EQ(PickVictim({{100, false}, {0, true}, {900, true}}), 2u);
}

class FakeConnection : public Connection {
 public:
  void Evict() override { ++evictions; }
  int evictions = 0;
};

TEST(ConnectionRegistry, AdmitsEvictsThenRefuses) {
  ConnectionRegistry registry(2);
  auto a = std::make_shared<FakeConnection>(), b = std::make_shared<FakeConnection>();
  ASSERT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kAdmitted);
  auto ha = registry.Add(a);
  ASSERT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kAdmitted);
  auto hb = registry.Add(b);
  a->waiting_since_ns = 200;
  b->waiting_since_ns = 100;
  b->partial = true;
  EXPECT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kEvicted);
  EXPECT_EQ(b->evictions, 1);
  EXPECT_EQ(a->evictions, 0);
  EXPECT_EQ(registry.size(), 2u);  // b is closing; it no longer counts against the limit
  auto c = std::make_shared<FakeConnection>();
  auto hc = registry.Add(c);  // c is busy, a waits
  EXPECT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kEvicted);
  EXPECT_EQ(a->evictions, 1);
  auto d = std::make_shared<FakeConnection>();
  auto hd = registry.Add(d);  // c and d busy: nothing to drop
  EXPECT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kRefused);
  for (auto h : {ha, hb, hc, hd}) registry.Remove(h);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(registry.MakeRoom(), ConnectionRegistry::Admission::kAdmitted);
}

// A blocking client socket with a receive timeout.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{3, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void Send(const std::string& data) { asio::write(socket_, asio::buffer(data)); }
  // Everything until the server closes (or 3 s pass): "" when it closed without a byte.
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads one response whose body is `body_len` bytes, leaving the connection open.
  std::string ReadResponse() {
    std::string out;
    char buf[4096];
    while (out.find("\r\n\r\n") == std::string::npos || out.size() < out.find("\r\n\r\n") + 4 + BodyLength(out)) {
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Seconds until the server closes the connection, or -1 after 3 s. A close is recv returning
  // 0, or ECONNRESET: a server that closes with unread bytes (a trickled byte that arrived just
  // before) sends a reset instead of a FIN.
  double SecondsUntilClosed() {
    auto start = std::chrono::steady_clock::now();
    char buf[256];
    for (;;) {
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (n < 0 && errno != EINTR) return -1;
    }
  }

 private:
  static size_t BodyLength(const std::string& head) {
    auto p = head.find("Content-Length: ");
    return p == std::string::npos ? 0 : std::stoul(head.substr(p + 16));
  }
  asio::io_context io_;
  tcp::socket socket_;
};

const std::string kGet = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

std::string StatusLine(const std::string& response) { return response.substr(0, response.find("\r\n")); }

// A counter's value once it has had time to reach `want` (Beast closes a timed-out socket from
// its timer and only then completes the read that counts it, so a client may see the close
// first): waits up to 10 s for `want`, wide enough for ASan on a loaded machine, then 50 ms
// more so that a count past `want` (or above 0 when 0 is wanted) shows too.
uint64_t Settled(const std::atomic<uint64_t>& counter, uint64_t want) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (counter.load() != want && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);
  return counter.load();
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(
      ServerOptions options, Handler handler = [](const Request&) { return TextResponse(200, "ok\n"); }) {
    options.counters = counters;
    auto s = Server::Start(options, std::move(handler));
    ASSERT_TRUE(s) << s.error().message;
    server = std::move(*s);
  }
  std::shared_ptr<ServerCounters> counters = std::make_shared<ServerCounters>();
  std::unique_ptr<Server> server;
};

TEST_F(ServerTest, AnswersHeaderAndBodyLimits) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 100;
  StartServer(o);
  Client big_header(server->port());
  big_header.Send("GET /x HTTP/1.1\r\nHost: t\r\nX-Pad: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_EQ(StatusLine(big_header.ReadAll()), "HTTP/1.1 431 Request Header Fields Too Large");
  Client big_body(server->port());
  big_body.Send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(StatusLine(big_body.ReadAll()), "HTTP/1.1 413 Payload Too Large");
  Client fits(server->port());
  fits.Send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'));
  EXPECT_EQ(StatusLine(fits.ReadResponse()), "HTTP/1.1 200 OK");
}

TEST_F(ServerTest, CutsOffARequestThatTrickles) {
  ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 2s;
  StartServer(o);
  Client slow(server->port());
  slow.Send("GET /x HTTP/1.1\r\n");
  std::thread trickle([&] {
    for (int i = 0; i < 5; ++i) {  // a byte every 100 ms does not extend the deadline
      std::this_thread::sleep_for(100ms);
      try {
        slow.Send("X");
      } catch (...) {
        return;
      }
    }
  });
  double t = slow.SecondsUntilClosed();
  trickle.join();
  EXPECT_GT(t, 0.25);
  EXPECT_LT(t, 0.8);
  EXPECT_EQ(Settled(counters->timed_out, 1), 1u);
}

TEST_F(ServerTest, ClosesAnIdleKeepAliveConnectionWithoutCountingATimeout) {
  ServerOptions o;
  o.read_timeout = 2s;
  o.idle_timeout = 300ms;
  StartServer(o);
  Client c(server->port());
  c.Send(kGet);
  EXPECT_EQ(StatusLine(c.ReadResponse()), "HTTP/1.1 200 OK");
  double t = c.SecondsUntilClosed();
  EXPECT_GT(t, 0.25);
  EXPECT_LT(t, 0.8);
  EXPECT_EQ(Settled(counters->timed_out, 0), 0u);
}

TEST_F(ServerTest, AKeepAliveRequestStartedMustFinishWithinTheReadTimeout) {
  ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 5s;
  StartServer(o);
  Client c(server->port());
  c.Send(kGet);
  EXPECT_EQ(StatusLine(c.ReadResponse()), "HTTP/1.1 200 OK");
  c.Send("GET /x HTTP/1.1\r\n");  // the next request, never finished
  double t = c.SecondsUntilClosed();
  EXPECT_GT(t, 0.25);
  EXPECT_LT(t, 0.8);
  EXPECT_EQ(Settled(counters->timed_out, 1), 1u);
}

TEST_F(ServerTest, WhenFullDropsTheSlowestClientToAdmitANewOne) {
  ServerOptions o;
  o.max_connections = 3;
  StartServer(o);
  Client oldest(server->port()), partial(server->port()), idle(server->port());
  oldest.Send("GET /x HTTP/1.1\r\nHo");
  std::this_thread::sleep_for(50ms);
  partial.Send("GET /x HTTP/1.1\r\nHo");
  std::this_thread::sleep_for(50ms);
  Client scraper(server->port());
  scraper.Send(kGet);
  EXPECT_EQ(StatusLine(scraper.ReadResponse()), "HTTP/1.1 200 OK");
  EXPECT_EQ(oldest.ReadAll(), "");  // dropped without an answer
  EXPECT_EQ(counters->evicted.load(), 1u);
  // The partial one goes before the idle one, though the idle one connected earlier.
  Client second(server->port());
  second.Send(kGet);
  EXPECT_EQ(StatusLine(second.ReadResponse()), "HTTP/1.1 200 OK");
  EXPECT_EQ(partial.ReadAll(), "");
  EXPECT_EQ(counters->evicted.load(), 2u);
  idle.Send(kGet);  // still served
  EXPECT_EQ(StatusLine(idle.ReadResponse()), "HTTP/1.1 200 OK");
}

TEST_F(ServerTest, RefusesWhenEveryConnectionIsBusy) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> inside{0};
  ServerOptions o;
  o.max_connections = 2;
  o.threads = 3;  // two held by the handlers, one left to accept
  StartServer(o, [&](const Request&) {
    ++inside;
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return release; });
    return TextResponse(200, "ok\n");
  });
  Client a(server->port()), b(server->port());
  a.Send(kGet);
  b.Send(kGet);
  for (int i = 0; i < 100 && inside.load() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(inside.load(), 2);
  Client c(server->port());
  EXPECT_EQ(c.ReadAll(), "");
  EXPECT_EQ(counters->refused.load(), 1u);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(StatusLine(a.ReadResponse()), "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(b.ReadResponse()), "HTTP/1.1 200 OK");
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/kvmem-web-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Write(const std::string& name, const std::string& text) const {
    // A new file renamed over the old, as a config manager does: a new inode every time.
    std::ofstream(path + "/" + name + ".tmp") << text;
    std::filesystem::rename(path + "/" + name + ".tmp", path + "/" + name);
  }
  std::string path;
};

constexpr const char* kAliceHash = "$2y$04$l1PD9i365Tw83aRHGnhsL.r.MMCtKJ08b.kuCgL/39ipLABXg.NaK";

TEST(WebConfigWatcher, ReloadsOnChangeKeepsTheOldConfigOnABadOneAndCounts) {
  TempDir dir;
  const std::string file = dir.path + "/web.yml";
  dir.Write("web.yml", "basic_auth_users:\n  alice: '" + std::string(kAliceHash) + "'\n");
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  auto opened = WebConfigWatcher::Open(file, 1s, [&] { return now; });
  ASSERT_TRUE(opened) << opened.error().ToString();
  auto& w = **opened;
  EXPECT_EQ(w.Current()->config.basic_users.count("alice"), 1u);

  dir.Write("web.yml", "basic_auth_users:\n  bob: '" + std::string(kAliceHash) + "'\n");
  EXPECT_EQ(w.Current()->config.basic_users.count("alice"), 1u) << "checked again before a second passed";
  now += 1s;
  EXPECT_EQ(w.Current()->config.basic_users.count("bob"), 1u);
  EXPECT_EQ(w.stats().reloads_success, 1u);

  dir.Write("web.yml", "basic_auth_users:\n  carol: plaintext\n");
  now += 1s;
  EXPECT_EQ(w.Current()->config.basic_users.count("bob"), 1u) << "a bad file keeps the previous config";
  EXPECT_EQ(w.stats().reloads_failure, 1u);
  EXPECT_FALSE(w.stats().last_reload_ok);
  now += 1s;
  w.Current();
  EXPECT_EQ(w.stats().reloads_failure, 1u) << "an unchanged bad file is not tried (and logged) again";

  dir.Write("web.yml", "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n");
  now += 1s;
  EXPECT_EQ(w.Current()->tls, nullptr);
  EXPECT_EQ(w.stats().reloads_failure, 2u);

  dir.Write("web.yml", "");
  now += 1s;
  EXPECT_TRUE(w.Current()->config.basic_users.empty());
  EXPECT_EQ(w.stats().reloads_success, 2u);
  EXPECT_TRUE(w.stats().last_reload_ok);
}

TEST(WebConfigWatcher, StartUpErrorsNameTheFileAndTheCertificate) {
  TempDir dir;
  dir.Write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
  auto opened = WebConfigWatcher::Open(dir.path + "/web.yml");
  ASSERT_FALSE(opened);
  const std::string prefix =
      dir.path + "/web.yml: tls_server_config: cannot load cert_file " + dir.path + "/server.crt: ";
  EXPECT_EQ(opened.error().ToString().substr(0, prefix.size()), prefix) << opened.error().ToString();
  EXPECT_EQ(opened.error().kind, ErrorKind::kConfig);
}

}  // namespace
}  // namespace kvmem::http
