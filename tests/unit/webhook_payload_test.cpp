// Alertmanager webhook payloads (version 4): parsing, the errors a sender gets back, and
// matching firing alerts to the policy rules they ask the controller to evaluate.
#include <gtest/gtest.h>

#include "controller/webhook/payload.h"

namespace kvmem::webhook {
namespace {

// As Alertmanager 0.25 sends it (fields it adds in later versions are ignored).
const char* kPayload = R"({
  "receiver": "kvmem-controller",
  "status": "firing",
  "alerts": [
    {"status": "firing",
     "labels": {"alertname": "KvmemNodeMemoryLow", "instance": "kvm1:9848", "job": "kvmem", "node": "1", "severity": "warning"},
     "annotations": {"summary": "A NUMA node has less memory available than the policy's reclaim threshold."},
     "startsAt": "2026-11-23T10:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus/graph", "fingerprint": "3c1a9b2f00d1e2f3"},
    {"status": "resolved",
     "labels": {"alertname": "KvmemNodeMemoryLow", "node": "0"},
     "annotations": {}, "startsAt": "2026-11-23T09:00:00Z", "endsAt": "2026-11-23T09:30:00Z"},
    {"status": "firing",
     "labels": {"alertname": "KvmemGuestMemoryPressure", "domain": "db-1", "uuid": "u-1", "instance": "kvm1:9848"},
     "annotations": {}, "startsAt": "2026-11-23T10:00:00Z"},
    {"status": "firing", "labels": {"alertname": "KvmemSwapThrashing"}, "annotations": {}},
    {"status": "firing", "labels": {"severity": "none"}, "annotations": {}}
  ],
  "groupLabels": {"alertname": "KvmemNodeMemoryLow"},
  "commonLabels": {"job": "kvmem"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"KvmemNodeMemoryLow\"}",
  "truncatedAlerts": 0
})";

TEST(WebhookPayload, ParsesVersion4) {
  auto p = ParsePayload(kPayload);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->version, "4");
  EXPECT_EQ(p->receiver, "kvmem-controller");
  EXPECT_EQ(p->status, "firing");
  EXPECT_EQ(p->group_key, "{}:{alertname=\"KvmemNodeMemoryLow\"}");
  ASSERT_EQ(p->alerts.size(), 5u);
  EXPECT_EQ(p->alerts[0].Label("node"), "1");
  EXPECT_EQ(p->alerts[0].Label("nope"), "");
  EXPECT_EQ(p->alerts[0].fingerprint, "3c1a9b2f00d1e2f3");
  EXPECT_EQ(p->alerts[0].starts_at, "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(p->alerts[1].status, "resolved");
}

TEST(WebhookPayload, MatchesFiringAlertsToPolicyRules) {
  auto p = ParsePayload(kPayload);
  ASSERT_TRUE(p);
  Matched m = Match(*p);
  EXPECT_EQ(m.resolved, 1u);
  EXPECT_EQ(m.ignored, 2u);  // not a controller rule; no alertname at all
  ASSERT_EQ(m.triggers.size(), 2u);
  EXPECT_EQ(m.triggers[0].alertname, "KvmemNodeMemoryLow");
  EXPECT_EQ(m.triggers[0].policy_rules, std::vector<std::string>{"balloon.reclaim"});
  EXPECT_EQ(m.triggers[0].node, 1);
  EXPECT_EQ(m.triggers[0].instance, "kvm1:9848");
  EXPECT_EQ(m.triggers[0].Subject(), "node 1");
  EXPECT_EQ(m.triggers[1].Subject(), "vm db-1");
  EXPECT_EQ(m.triggers[1].uuid, "u-1");
  EXPECT_FALSE(m.triggers[1].node);
}

TEST(WebhookPayload, MatchesPoolAndPlacementAlerts) {
  auto p = ParsePayload(R"({"version":"4","alerts":[
      {"status":"firing","labels":{"alertname":"KvmemHugepagePoolShortfall","instance":"kvm1:9849","node":"1","size":"2097152"}},
      {"status":"firing","labels":{"alertname":"KvmemVmNumaLocalityLow","instance":"kvm1:9848","domain":"db-1","uuid":"u-1"}},
      {"status":"firing","labels":{"alertname":"KvmemHugePagesExhausted","node":"0","size":"2097152"}}]})");
  ASSERT_TRUE(p);
  Matched m = Match(*p);
  EXPECT_EQ(m.ignored, 1u);  // a full pool in use informs people only
  ASSERT_EQ(m.triggers.size(), 2u);
  EXPECT_EQ(m.triggers[0].policy_rules, std::vector<std::string>{"hugepages.grow"});
  EXPECT_EQ(m.triggers[0].Subject(), "node 1");
  EXPECT_EQ(m.triggers[0].instance, "kvm1:9849");
  EXPECT_EQ(m.triggers[1].policy_rules, (std::vector<std::string>{"placement.vcpus", "placement.memory"}));
  EXPECT_EQ(m.triggers[1].Subject(), "vm db-1");
  EXPECT_EQ(m.triggers[1].uuid, "u-1");
  EXPECT_FALSE(m.triggers[1].node);
}

TEST(WebhookPayload, BadNodeLabelStillEvaluatesTheHost) {
  auto p = ParsePayload(R"({"version":"4","alerts":[
      {"status":"firing","labels":{"alertname":"KvmemNodeFragmentationHigh","node":"x1"}},
      {"status":"firing","labels":{"alertname":"KvmemNodeFragmentationHigh","node":"-3"}},
      {"status":"firing","labels":{"alertname":"KvmemNodeFragmentationHigh"}}]})");
  ASSERT_TRUE(p);
  Matched m = Match(*p);
  ASSERT_EQ(m.triggers.size(), 3u);
  for (const auto& t : m.triggers) {
    EXPECT_FALSE(t.node);
    EXPECT_EQ(t.Subject(), "host");
  }
}

TEST(WebhookPayload, EmptyAlertListIsValid) {
  auto p = ParsePayload(R"({"version":"4","status":"resolved","alerts":[]})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(Match(*p).triggers.empty());
}

struct BadCase {
  const char* body;
  const char* error;
};

TEST(WebhookPayload, RejectsMalformedBodiesWithWhereAndWhat) {
  const BadCase cases[] = {
      {"", "body is not valid JSON"},
      {"{\"version\":\"4\",", "body is not valid JSON"},
      {"[1,2]", "expected a JSON object, got array"},
      {R"({"alerts":[]})", "version: missing"},
      {R"({"version":4,"alerts":[]})", "version: expected a string, got number"},
      {R"({"version":"3","alerts":[]})", "version: expected \"4\", got \"3\""},
      {R"({"version":"4"})", "alerts: missing"},
      {R"({"version":"4","alerts":{}})", "alerts: expected an array, got object"},
      {R"({"version":"4","alerts":[7]})", "alerts[0]: expected an object, got number"},
      {R"({"version":"4","alerts":[{"labels":{}}]})", "alerts[0].status: missing"},
      {R"({"version":"4","alerts":[{"status":"firing"},{"status":"pending"}]})",
       "alerts[1].status: expected \"firing\" or \"resolved\", got \"pending\""},
      {R"({"version":"4","alerts":[{"status":"firing","labels":{"node":1}}]})",
       "alerts[0].labels.node: expected a string, got number"},
      {R"({"version":"4","alerts":[{"status":"firing","labels":[]}]})",
       "alerts[0].labels: expected an object, got array"},
      {R"({"version":"4","truncatedAlerts":-1,"alerts":[]})", "truncatedAlerts: expected a non-negative integer"},
      {R"({"version":"4","receiver":7,"alerts":[]})", "receiver: expected a string, got number"},
  };
  for (const auto& c : cases) {
    auto p = ParsePayload(c.body);
    ASSERT_FALSE(p) << c.body;
    EXPECT_EQ(p.error().kind, ErrorKind::kParse);
    EXPECT_EQ(p.error().message, c.error) << c.body;
  }
}

}  // namespace
}  // namespace kvmem::webhook
