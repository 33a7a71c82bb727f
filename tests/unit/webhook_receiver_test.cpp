// The webhook receiver without a socket: status codes and their counters, bearer tokens,
// coalescing of triggered evaluations into one cycle, the evaluation log's outcome line, and
// the start-up checks (token file, loopback-only without a token).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/metrics/text_format.h"
#include "controller/webhook/receiver.h"

namespace kvmem::webhook {
namespace {

const std::string kFiring =
    R"({"version":"4","receiver":"kvmem","alerts":[{"status":"firing","labels":{"alertname":"KvmemNodeMemoryLow","node":"0"}}]})";

http::Request Post(std::string body, std::string token = "", std::string type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.path = r.target = std::string(kPath);
  r.body = std::move(body);
  r.peer = "127.0.0.1:5555";
  if (!type.empty()) r.headers.emplace_back("content-type", type);
  if (!token.empty()) r.headers.emplace_back("authorization", token);
  return r;
}

std::string Metrics(const Receiver& rx) {
  MetricSink sink;
  rx.Collect(sink);
  return SerializeText(sink.families());
}

bool HasSample(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

std::string HeaderOf(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(WebhookReceiver, StatusCodesAndCounters) {
  ReceiverOptions o;
  o.bearer_token = "s3cret";
  o.max_body_bytes = 1024;
  int scheduled = 0;
  Receiver rx(o, [&] { ++scheduled; });

  http::Request get = Post("");
  get.method = "GET";
  auto r = rx.Handle(get);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "Allow"), "POST");
  r = rx.Handle(Post(kFiring));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Bearer realm=\"kvmem_controller\"");
  EXPECT_EQ(rx.Handle(Post(kFiring, "Bearer s3cre")).status, 401);
  EXPECT_EQ(rx.Handle(Post(kFiring, "Bearer s3cret2")).status, 401);
  EXPECT_EQ(rx.Handle(Post(kFiring, "Basic s3cret")).status, 401);
  EXPECT_EQ(rx.Handle(Post(std::string(1025, ' '), "Bearer s3cret")).status, 413);
  EXPECT_EQ(rx.Handle(Post(kFiring, "Bearer s3cret", "text/plain")).status, 415);
  EXPECT_EQ(rx.Handle(Post(kFiring, "Bearer s3cret", "")).status, 415);
  EXPECT_EQ(rx.Handle(Post("{nope", "Bearer s3cret")).status, 400);
  EXPECT_EQ(rx.Handle(Post(R"({"version":"3","alerts":[]})", "Bearer s3cret")).status, 400);
  EXPECT_EQ(scheduled, 0);

  r = rx.Handle(Post(kFiring, "bearer  s3cret ", "Application/JSON; charset=utf-8"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(
      r.body,
      "{\"status\":\"success\",\"alerts\":1,\"triggered\":1,\"ignored\":0,\"resolved\":0,\"receiver\":\"kvmem\"}\n");
  EXPECT_EQ(scheduled, 1);

  const std::string m = Metrics(rx);
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"accepted\"} 1")) << m;
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"method_not_allowed\"} 1"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"unauthorized\"} 4"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"too_large\"} 1"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"unsupported_media_type\"} 2"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"bad_request\"} 2"));
  // Every trigger alert is there from the start, so rate() works on the first one.
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemNodeMemoryLow\"} 0"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemGuestSwapInHigh\"} 0"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemVmNumaLocalityLow\"} 0"));
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemHugepagePoolShortfall\"} 0"));
  EXPECT_EQ(m.find("alertname=\"KvmemSwapThrashing\""), std::string::npos);
  EXPECT_EQ(m.find("alertname=\"KvmemHugePagesExhausted\""), std::string::npos);
}

TEST(WebhookReceiver, NoTokenMeansNoAuthentication) {
  Receiver rx({}, [] {});
  EXPECT_EQ(rx.Handle(Post(kFiring)).status, 200);
  EXPECT_EQ(rx.Handle(Post(kFiring, "Bearer anything")).status, 200);
}

TEST(WebhookReceiver, RefusesWhatTheServerDidNotAuthenticate) {
  ReceiverOptions o;
  o.require_basic_user = true;
  int scheduled = 0;
  Receiver rx(o, [&] { ++scheduled; });
  auto as = [](std::string user) {
    http::Request r = Post(kFiring);
    r.user = std::move(user);
    return r;
  };
  EXPECT_EQ(rx.Handle(as("prometheus")).status, 200);
  const auto r = rx.Handle(as(""));  // the web config has no basic_auth_users now
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("no longer has basic_auth_users"), std::string::npos) << r.body;
  EXPECT_EQ(rx.Handle(as("alertmanager")).status, 200);
  EXPECT_EQ(scheduled, 1);  // the second accepted request joins the first one's pending cycle
  const std::string m = Metrics(rx);
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"unprotected\"} 1")) << m;
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_requests_total{result=\"accepted\"} 2"));
}

TEST(WebhookReceiver, BatchesTriggersIntoOneCycle) {
  int scheduled = 0;
  Receiver rx({}, [&] { ++scheduled; });
  const std::string two =
      R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"KvmemNodeMemoryLow","node":"0"}},
          {"status":"firing","labels":{"alertname":"KvmemGuestMemoryPressure","domain":"db-1","uuid":"u-1"}},
          {"status":"firing","labels":{"alertname":"KvmemKsmIneffective"}}]})";
  EXPECT_EQ(rx.Handle(Post(two)).status, 200);
  EXPECT_EQ(rx.Handle(Post(kFiring)).status, 200);
  EXPECT_EQ(scheduled, 1);  // the second request joins the pending batch

  int cycles = 0;
  rx.RunPending([&] {
    ++cycles;
    model::Plan plan;
    plan.bands[0] = model::Band::kReclaim;
    return plan;
  });
  EXPECT_EQ(cycles, 1);
  rx.RunPending([&] {
    ++cycles;
    return model::Plan{};
  });
  EXPECT_EQ(cycles, 1);  // nothing pending: no cycle
  const std::string m = Metrics(rx);
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemNodeMemoryLow\"} 2")) << m;
  EXPECT_TRUE(HasSample(m, "kvmem_controller_webhook_evaluations_total{alertname=\"KvmemGuestMemoryPressure\"} 1"));

  EXPECT_EQ(rx.Handle(Post(kFiring)).status, 200);
  EXPECT_EQ(scheduled, 2);  // a new batch after the last one ran
}

TEST(WebhookReceiver, ResolvedAndForeignAlertsTriggerNothing) {
  int scheduled = 0;
  Receiver rx({}, [&] { ++scheduled; });
  auto r = rx.Handle(Post(R"({"version":"4","alerts":[
      {"status":"resolved","labels":{"alertname":"KvmemNodeMemoryLow","node":"0"}},
      {"status":"firing","labels":{"alertname":"Watchdog"}}]})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"triggered\":0,\"ignored\":1,\"resolved\":1"), std::string::npos) << r.body;
  EXPECT_EQ(scheduled, 0);
}

TEST(WebhookReceiver, DescribeOutcomeNamesTheSubjectsActionsAndSkips) {
  model::Plan plan;
  plan.bands[0] = model::Band::kReclaim;
  model::SetBalloon b;
  b.vm = {"u-1", "db-1"};
  b.from_bytes = 4 * model::kGiB;
  b.to_bytes = 3 * model::kGiB + 512 * model::kMiB;
  b.reason.rule = "balloon.reclaim";
  plan.actions.push_back(b);
  model::CompactNode c;
  c.node = 1;
  c.reason.rule = "compaction.fragmentation";
  plan.actions.push_back(c);
  plan.skips.push_back({"node 0", "balloon.reclaim", "1 GiB short of the band middle"});
  plan.skips.push_back({"vm web-1", "balloon.reclaim", "stats 40 s old"});

  Trigger node{"KvmemNodeMemoryLow", {"balloon.reclaim"}, alerts::Subject::kNode, 0, "", "", ""};
  EXPECT_EQ(
      DescribeOutcome(node, plan),
      "band reclaim; balloon db-1: 4 GiB -> 3.5 GiB; skipped: node 0: balloon.reclaim: 1 GiB short of the band middle");
  Trigger frag{"KvmemNodeFragmentationHigh", {"compaction.fragmentation"}, alerts::Subject::kNode, 0, "", "", ""};
  EXPECT_EQ(DescribeOutcome(frag, plan), "band reclaim; no action");  // node 1 is compacted, not node 0
  Trigger web{"KvmemGuestMemoryPressure", {"balloon.release"}, alerts::Subject::kVm, std::nullopt, "web-1", "u-2", ""};
  EXPECT_EQ(DescribeOutcome(web, plan), "no action");  // its reclaim skip is another rule's business
  Trigger db{"KvmemGuestMemoryPressure", {"balloon.release"}, alerts::Subject::kVm, std::nullopt, "db-1", "u-1", ""};
  EXPECT_EQ(DescribeOutcome(db, plan), "balloon db-1: 4 GiB -> 3.5 GiB");
  Trigger gone{"KvmemNodeMemoryLow", {"balloon.reclaim"}, alerts::Subject::kNode, 7, "", "", ""};
  EXPECT_EQ(DescribeOutcome(gone, plan).rfind("node not observed; ", 0), 0u);
}

TEST(WebhookReceiver, DescribeOutcomeOfPoolAndPlacementAlerts) {
  model::Plan plan;
  plan.bands[0] = model::Band::kSteady;
  plan.bands[1] = model::Band::kRelease;
  model::CompactNode c;
  c.node = 1;
  c.reason.rule = "hugepages.grow";
  plan.actions.push_back(c);
  model::ResizeHugepagePool grow;
  grow.node = 1;
  grow.page_bytes = 2 * model::kMiB;
  grow.from_pages = 512;
  grow.to_pages = 1024;
  grow.reason.rule = "hugepages.grow";
  plan.actions.push_back(grow);
  model::ResizeHugepagePool other = grow;  // another node's pool is not node 0's business
  other.node = 0;
  other.from_pages = 8;
  other.to_pages = 9;
  other.page_bytes = model::kGiB;
  plan.actions.push_back(other);
  model::PinVcpus pin;
  pin.vm = {"u-1", "db-1"};
  pin.to_node = 1;
  pin.reason.rule = "placement.vcpus";
  plan.actions.push_back(pin);
  plan.skips.push_back({"node 0 2 MiB pages", "hugepages.grow", "min_normal_memory 10%"});
  plan.skips.push_back({"vm web-1", "placement.vcpus", "cooldown 1200 s left"});
  plan.skips.push_back({"vm web-1", "balloon.release", "no pressure"});

  Trigger pool1{"KvmemHugepagePoolShortfall", {"hugepages.grow"}, alerts::Subject::kNode, 1, "", "", ""};
  EXPECT_EQ(DescribeOutcome(pool1, plan), "band release; compact node 1; hugepages node 1 2 MiB: 512 -> 1024 pages");
  Trigger pool0{"KvmemHugepagePoolShortfall", {"hugepages.grow"}, alerts::Subject::kNode, 0, "", "", ""};
  EXPECT_EQ(DescribeOutcome(pool0, plan),
            "band steady; hugepages node 0 1 GiB: 8 -> 9 pages; skipped: node 0 2 MiB pages: hugepages.grow: "
            "min_normal_memory 10%");
  Trigger db{"KvmemVmNumaLocalityLow",
             {"placement.vcpus", "placement.memory"},
             alerts::Subject::kVm,
             std::nullopt,
             "db-1",
             "u-1",
             ""};
  EXPECT_EQ(DescribeOutcome(db, plan), "pin vcpus db-1 to node 1");
  Trigger web{"KvmemVmNumaLocalityLow",
              {"placement.vcpus", "placement.memory"},
              alerts::Subject::kVm,
              std::nullopt,
              "web-1",
              "u-2",
              ""};
  EXPECT_EQ(DescribeOutcome(web, plan), "no action; skipped: vm web-1: placement.vcpus: cooldown 1200 s left");
}

TEST(WebhookReceiver, ExposureNeedsATokenBeyondLoopback) {
  EXPECT_TRUE(CheckExposure("127.0.0.1:9849", false));
  EXPECT_TRUE(CheckExposure("127.0.0.2:9849", false));
  EXPECT_TRUE(CheckExposure("[::1]:9849", false));
  EXPECT_TRUE(CheckExposure("localhost:9849", false));
  for (const char* addr : {":9849", "0.0.0.0:9849", "10.1.2.3:9849", "[::]:9849"}) {
    auto r = CheckExposure(addr, false);
    ASSERT_FALSE(r) << addr;
    EXPECT_EQ(r.error().kind, ErrorKind::kConfig);
    EXPECT_NE(r.error().message.find("--webhook.bearer-token-file"), std::string::npos);
    EXPECT_TRUE(CheckExposure(addr, true)) << addr;
  }
  EXPECT_FALSE(CheckExposure("nonsense", false));
}

TEST(WebhookReceiver, TokenFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("kvmem-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "  abc123\n";
  std::ofstream(dir / "empty") << "\n \n";
  auto t = ReadBearerTokenFile((dir / "token").string());
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "abc123");
  auto e = ReadBearerTokenFile((dir / "empty").string());
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("is empty"), std::string::npos);
  auto m = ReadBearerTokenFile((dir / "missing").string());
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("cannot read"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvmem::webhook
