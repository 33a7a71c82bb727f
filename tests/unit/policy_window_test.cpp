// Window (history, rates, "held for") and Track's bookkeeping of ControllerState.
#include <gtest/gtest.h>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using policy::Window;

std::optional<double> Swap(const Window& w, size_t j) {
  const auto* vm = w.FindVm(j, "uuid-web");
  if (vm == nullptr || !vm->swap_in_bytes_total) return std::nullopt;
  return static_cast<double>(*vm->swap_in_bytes_total);
}

Window WithSwap(const std::vector<std::pair<double, std::optional<uint64_t>>>& samples) {
  Window w(std::chrono::minutes{5});
  for (const auto& [t, v] : samples) {
    VmBuilder vm;
    if (v) vm.SwapIn(*v);
    w.Push(ObservationBuilder(At(t)).Vm(vm).Build());
  }
  return w;
}

TEST(PolicyWindow, KeepsOnlyTheLastStretchAndRefusesTimeTravel) {
  Window w(seconds{10});
  EXPECT_TRUE(w.Push(ObservationBuilder(At(0)).Build()));
  EXPECT_FALSE(w.Push(ObservationBuilder(At(0)).Build()));
  EXPECT_FALSE(w.Push(ObservationBuilder(At(-1)).Build()));
  EXPECT_TRUE(w.Push(ObservationBuilder(At(5)).Build()));
  EXPECT_TRUE(w.Push(ObservationBuilder(At(10)).Build()));
  EXPECT_EQ(w.size(), 3u);  // 0 is exactly 10 s old: kept
  EXPECT_TRUE(w.Push(ObservationBuilder(At(11)).Build()));
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.at(0).time, At(5));
  EXPECT_EQ(w.Latest().time, At(11));
}

TEST(PolicyWindow, RatesTable) {
  struct Row {
    std::string name;
    std::vector<std::pair<double, std::optional<uint64_t>>> samples;
    double lookback_s;
    std::optional<double> want;
  };
  const std::vector<Row> rows = {
      {"two samples", {{0, 0}, {10, 100}}, 10, 10.0},
      {"only the look-back counts", {{0, 0}, {10, 100}, {20, 300}}, 10, 20.0},
      {"one sample is no rate", {{0, 100}}, 10, std::nullopt},
      {"a reset cuts the history", {{0, 500}, {10, 0}, {20, 50}}, 60, 5.0},
      {"a gap cuts the history", {{0, 0}, {10, std::nullopt}, {20, 50}, {30, 150}}, 60, 10.0},
      {"missing now is no rate", {{0, 0}, {10, std::nullopt}}, 60, std::nullopt},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const Window w = WithSwap(r.samples);
    EXPECT_EQ(w.Rate(w.LatestIndex(), model::Duration{static_cast<int64_t>(r.lookback_s * 1000)},
                     [&](size_t j) { return Swap(w, j); }),
              r.want);
  }
  const Window w = WithSwap({{0, 0}, {10, 100}});
  EXPECT_EQ(w.Rate(
                1, seconds{60}, [&](size_t j) { return Swap(w, j); }, seconds{11}),
            std::nullopt);
}

TEST(PolicyWindow, HeldForAndStreak) {
  Window w(std::chrono::minutes{5});
  const std::vector<bool> holds = {true, false, true, true, true};
  for (size_t i = 0; i < holds.size(); ++i) w.Push(ObservationBuilder(At(10.0 * static_cast<double>(i))).Build());
  auto pred = [&](size_t j) { return holds[j]; };
  EXPECT_EQ(w.HeldFor(pred), seconds{20});
  EXPECT_EQ(w.Streak(pred), 3);
  EXPECT_EQ(w.HeldFor(pred, At(20)), seconds{10});  // observations at or before 20 s do not count
  EXPECT_EQ(w.Streak(pred, At(20)), 2);
  EXPECT_EQ(w.HeldFor([](size_t) { return false; }), std::nullopt);
  EXPECT_EQ(w.Streak([](size_t) { return false; }), 0);
}

TEST(PolicyWindow, RequiredKeepCoversTheLongestLookBack) {
  model::Policy p;
  EXPECT_EQ(policy::RequiredKeep(p), seconds{304});  // shrink_after 300 s (and placement.for) + 2 intervals
  p.virtio_mem.shrink_after = seconds{30};
  p.placement.enabled = false;
  EXPECT_EQ(policy::RequiredKeep(p), seconds{124});  // at least two minutes
  p.hugepages.reclaim = true;
  EXPECT_EQ(policy::RequiredKeep(p), seconds{604});  // reclaim_after 600 s, when reclaim is on
}

TEST(PolicyTrack, ForgetsVmsGoneForAnHour) {
  policy::ControllerState s;
  s.vms["uuid-gone"].last_balloon = At(0);
  s.vms["uuid-web"].last_balloon = At(0);
  s.devices[{"uuid-gone", "vmem0"}].last_change = At(0);
  policy::Track(s, ObservationBuilder(At(3600)).Vm(VmBuilder("web")).Build(), {});
  EXPECT_EQ(s.vms.size(), 2u);      // exactly an hour: kept
  EXPECT_EQ(s.devices.size(), 1u);  // its virtio-mem state too
  policy::Track(s, ObservationBuilder(At(3601)).Vm(VmBuilder("web")).Build(), {});
  EXPECT_EQ(s.vms.size(), 1u);
  EXPECT_TRUE(s.vms.contains("uuid-web"));
  EXPECT_TRUE(s.devices.empty());
}

TEST(PolicyTrack, StateHasALogLine) {
  policy::ControllerState s;
  policy::ApplyOutcome(s, model::SetBalloon{{"uuid-a", "a"}, 8 * kGiB, 7 * kGiB, {}}, {}, At(0));
  policy::NoteStarted(s, model::CompactNode{1, 0.9, {}}, At(0));
  EXPECT_EQ(policy::ToString(s, At(10)),
            "state: 1 vms, 0 virtio-mem changes pending, compaction running on node 1, 1 GiB moved in the last "
            "60 s, 0 settle timeouts, 0 failures");
}

TEST(PolicyTrack, StartsTheSettleClockForChangesMadeBySomeoneElse) {
  policy::ControllerState s;
  const auto obs = [](double t, uint64_t requested) {
    return ObservationBuilder(At(t))
        .Vm(VmBuilder("db").VirtioMem("vmem0", 0, 8 * kGiB, 128 * kMiB, requested, kGiB))
        .Build();
  };
  policy::Track(s, obs(0, 2 * kGiB), {});
  EXPECT_EQ(s.devices.at({"uuid-db", "vmem0"}).pending_since, At(0));
  policy::Track(s, obs(20, 3 * kGiB), {});  // someone asked for more: a new change, a new clock
  EXPECT_EQ(s.devices.at({"uuid-db", "vmem0"}).pending_since, At(20));
  policy::Track(s, obs(49, 3 * kGiB), {});
  EXPECT_EQ(s.settle_timeouts_total, 0u);
  policy::Track(s, obs(50, 3 * kGiB), {});
  EXPECT_EQ(s.settle_timeouts_total, 1u);
}

}  // namespace
}  // namespace kvmem::test
