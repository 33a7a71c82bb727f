// Router, DryRun, Backoff and SubjectOf with every action type, including hugepage pools and
// placement.
#include <gtest/gtest.h>

#include "controller/actuate/actuator.h"

namespace kvmem {
namespace {

using namespace std::chrono_literals;

class Recorder final : public actuate::Actuator {
 public:
  std::vector<std::string> seen;
  bool fail = false;
  model::Outcome Apply(const model::Action& a) noexcept override {
    seen.push_back(model::Summary(a));
    model::Outcome o;
    o.ok = !fail;
    if (fail) o.error = "boom";
    return o;
  }
};

std::vector<model::Action> OneOfEach() {
  model::SetBalloon balloon;
  balloon.vm = {"u1", "web"};
  model::ResizeVirtioMem vmem;
  vmem.vm = {"u1", "web"};
  vmem.alias = "vmem0";
  model::CompactNode compact;
  compact.node = 1;
  model::ResizeHugepagePool pool;
  pool.node = 1;
  pool.page_bytes = 2ULL << 20;
  pool.from_pages = 512;
  pool.to_pages = 1024;
  model::PinVcpus pin;
  pin.vm = {"u1", "web"};
  pin.to_node = 1;
  model::MigrateMemory migrate;
  migrate.vm = {"u1", "web"};
  migrate.to_node = 0;
  migrate.bytes = 1ULL << 30;
  return {balloon, vmem, compact, pool, pin, migrate};
}

TEST(Router, SendsEachActionTypeToItsActuator) {
  Recorder libvirt, compaction, hugepages, placement;
  actuate::Router router(&libvirt, &compaction, &hugepages, &placement);
  for (const auto& a : OneOfEach()) EXPECT_TRUE(router.Apply(a).ok);
  EXPECT_EQ(libvirt.seen,
            (std::vector<std::string>{"balloon web: 0 B -> 0 B", "virtio-mem web/vmem0: requested 0 B -> 0 B"}));
  EXPECT_EQ(compaction.seen, (std::vector<std::string>{"compact node 1"}));
  EXPECT_EQ(hugepages.seen, (std::vector<std::string>{"hugepages node 1 2 MiB: 512 -> 1024 pages"}));
  EXPECT_EQ(placement.seen,
            (std::vector<std::string>{"pin vcpus web to node 1", "migrate memory web to node 0 (1 GiB)"}));

  actuate::Router old_style(&libvirt, &compaction);  // without the new actuators: a clear failure
  const auto actions = OneOfEach();
  EXPECT_EQ(old_style.Apply(actions[3]).error, "no actuator for hugepages");
  EXPECT_EQ(old_style.Apply(actions[4]).error, "no actuator for placement");
  EXPECT_EQ(old_style.Apply(actions[5]).error, "no actuator for placement");
}

TEST(DryRun, RecordsEveryActionType) {
  Recorder libvirt, compaction, hugepages, placement;
  actuate::Router router(&libvirt, &compaction, &hugepages, &placement);
  actuate::DryRun dry(&router);
  for (const auto& a : OneOfEach()) {
    auto o = dry.Apply(a);
    EXPECT_TRUE(o.ok);
    EXPECT_TRUE(o.dry_run);
    EXPECT_FALSE(o.pages_obtained.has_value());
    EXPECT_FALSE(o.locality_after.has_value());
    EXPECT_FALSE(o.bytes_migrated.has_value());
  }
}

// The dry run wraps the real stack: what the real run would refuse before writing, it
// refuses with the same error, and it never calls Apply on the actuators.
TEST(DryRun, RefusesWhatTheRealStackRefuses) {
  Recorder libvirt, compaction;
  actuate::Router old_style(&libvirt, &compaction);
  actuate::DryRun dry(&old_style);
  const auto actions = OneOfEach();
  for (size_t i : {3u, 4u, 5u}) {
    auto o = dry.Apply(actions[i]);
    EXPECT_FALSE(o.ok);
    EXPECT_FALSE(o.dry_run);
    EXPECT_EQ(o.error, old_style.Apply(actions[i]).error);
  }
  EXPECT_EQ(dry.Apply(actions[3]).error, "no actuator for hugepages");
  EXPECT_TRUE(dry.Apply(actions[0]).dry_run);
  EXPECT_TRUE(libvirt.seen.empty());  // the three real Apply calls above went to hugepages/placement: none
  EXPECT_TRUE(compaction.seen.empty());
}

TEST(Backoff, PoolsAndPlacementBackOffApartFromNodesAndVms) {
  std::vector<std::string> subjects;
  for (const auto& a : OneOfEach()) subjects.push_back(actuate::SubjectOf(a));
  EXPECT_EQ(subjects, (std::vector<std::string>{"vm u1", "vm u1", "node 1", "node 1 hugepages-2048kB",
                                                "vm u1 placement", "vm u1 placement"}));

  Recorder inner;
  inner.fail = true;
  auto t = std::chrono::steady_clock::time_point{};
  actuate::Backoff backoff(&inner, 10s, 60s, [&] { return t; });
  const auto actions = OneOfEach();
  EXPECT_EQ(backoff.Apply(actions[3]).error, "boom");  // a pool that fell short...
  EXPECT_EQ(backoff.Apply(actions[3]).error, "backing off after 1 failures; next try in 11 s");
  EXPECT_EQ(backoff.Apply(actions[2]).error, "boom");  // ...does not hold back compacting its node
  EXPECT_EQ(backoff.Apply(actions[5]).error, "boom");  // a failed migration...
  EXPECT_EQ(backoff.Apply(actions[4]).error,
            "backing off after 1 failures; next try in 11 s");  // ...holds back pinning
  EXPECT_EQ(backoff.Apply(actions[0]).error, "boom");           // but not the VM's balloon
  EXPECT_EQ(inner.seen.size(), 4u);
}

}  // namespace
}  // namespace kvmem
