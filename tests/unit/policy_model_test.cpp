// The model's arithmetic and the human formats every log line and skip is built from.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

using namespace model;

TEST(ModelUnits, SaturatingArithmeticAndAlignment) {
  EXPECT_EQ(SatSub(3, 5), 0u);
  EXPECT_EQ(SatAdd(UINT64_MAX, 1), UINT64_MAX);
  EXPECT_EQ(AlignDown(1000, 256), 768u);
  EXPECT_EQ(AlignUp(1000, 256), 1024u);
  EXPECT_EQ(AlignUp(1024, 256), 1024u);
  EXPECT_EQ(AlignUp(UINT64_MAX, 256), UINT64_MAX);
  EXPECT_EQ(AlignDown(1000, 0), 1000u);
  EXPECT_EQ(ToBytes(-5.0), 0u);
  EXPECT_EQ(ToBytes(1e30), UINT64_MAX);
  EXPECT_EQ(ToBytes(std::nan("")), 0u);
  EXPECT_EQ(ToBytesCeil(0.3), 1u);
}

TEST(ModelUnits, Formats) {
  const std::vector<std::pair<uint64_t, std::string>> bytes = {{0, "0 B"},
                                                               {1023, "1023 B"},
                                                               {1024, "1 KiB"},
                                                               {512 * kMiB, "512 MiB"},
                                                               {GiB(3.1), "3.1 GiB"},
                                                               {GiB(6.4), "6.4 GiB"},
                                                               {1536 * kGiB, "1.5 TiB"},
                                                               {UINT64_MAX, "16384 PiB"}};
  for (const auto& [b, s] : bytes) EXPECT_EQ(FormatBytes(b), s);
  EXPECT_EQ(FormatBytes(-1.5 * kGiB), "-1.5 GiB");
  EXPECT_EQ(FormatSeconds(seconds{42}), "42 s");
  EXPECT_EQ(FormatSeconds(Duration{500}), "0.5 s");
  EXPECT_EQ(FormatPercent(0.1), "10%");
  EXPECT_EQ(FormatPercent(0.125), "12.5%");
  EXPECT_EQ(FormatNumber(0.5), "0.5");
  EXPECT_EQ(FormatNumber(100), "100");
  EXPECT_EQ(FormatTime(At(1.5)), "t=3600001.500s");
}

TEST(ModelObservation, SharesAndStatsAge) {
  const Observation obs = ObservationBuilder(At(100))
                              .Node(NodeBuilder(0))
                              .Node(NodeBuilder(1))
                              .Node(NodeBuilder(2).NoMemory())
                              .Vm(VmBuilder("a").On({{0, 3 * kGiB}, {1, kGiB}}))
                              .Vm(VmBuilder("b"))
                              .Vm(VmBuilder("c").StatsAge(seconds{-5}))
                              .Build();
  EXPECT_DOUBLE_EQ(NodeShare(obs.vms[0], 0, obs), 0.75);
  EXPECT_DOUBLE_EQ(NodeShare(obs.vms[0], 2, obs), 0.0);
  EXPECT_DOUBLE_EQ(NodeShare(obs.vms[1], 1, obs), 0.5);  // unknown: even over nodes with memory
  EXPECT_DOUBLE_EQ(NodeShare(obs.vms[1], 2, obs), 0.0);
  EXPECT_EQ(StatsAge(obs.vms[0], At(130)), seconds{30});
  EXPECT_EQ(StatsAge(obs.vms[2], At(100)), Duration{0});  // from the future: age 0
  EXPECT_EQ(obs.FindVm("uuid-b"), &obs.vms[1]);
  EXPECT_EQ(obs.FindVm("nope"), nullptr);
  EXPECT_EQ(obs.FindNode(2)->has_memory, false);
}

TEST(ModelObservation, ToStringIsOneLinePerSubject) {
  const Observation obs =
      ObservationBuilder(At(0))
          .Vm(VmBuilder("db").On({{0, 8 * kGiB}}).VirtioMem("vmem0", 0, 8 * kGiB, 2 * kMiB, kGiB, kGiB))
          .Build();
  EXPECT_EQ(ToString(obs),
            "observation at t=3600000.000s: 1 nodes, 1 vms, psi some avg10 0%, thp fallbacks 0\n"
            "  node 0: total 64 GiB, available 9.6 GiB, free 9.6 GiB, fragmentation -1\n"
            "  vm db (uuid-db): balloon 8 GiB of 8 GiB, guest available 8 GiB, usable 4 GiB, unused 2 GiB, "
            "stats at "
            "t=3600000.000s, on node0=8 GiB; virtio-mem vmem0 on node 0: requested 1 GiB, current 1 GiB, "
            "size 8 GiB, "
            "block 2 MiB");
}

TEST(ModelAction, AccessorsAndStrings) {
  const Action shrink =
      SetBalloon{{"u1", "web-1"}, 4 * kGiB, GiB(3.5), Reason{"balloon.reclaim", "balloon.reclaim_below", 1, {}, "why"}};
  const Action grow =
      ResizeVirtioMem{{"u2", "db"}, "vmem0", 1, kGiB, GiB(1.25), Reason{"virtio_mem.grow", "", 0, {}, "because"}};
  const Action compact = CompactNode{1, 0.9, Reason{"compaction.fragmentation", "", 0, {}, "fragmented"}};
  EXPECT_EQ(ToString(shrink), "balloon web-1: 4 GiB -> 3.5 GiB (balloon.reclaim: why)");
  EXPECT_EQ(Summary(grow), "virtio-mem db/vmem0: requested 1 GiB -> 1.25 GiB");
  EXPECT_EQ(Summary(compact), "compact node 1");
  EXPECT_EQ(ActuatorOf(shrink), "balloon");
  EXPECT_EQ(ActuatorOf(grow), "virtio_mem");
  EXPECT_EQ(ActuatorOf(compact), "compaction");
  EXPECT_EQ(BytesMoved(shrink), 512 * kMiB);
  EXPECT_EQ(BytesMoved(grow), 256 * kMiB);
  EXPECT_EQ(BytesMoved(compact), 0u);
  EXPECT_EQ(Direction(shrink), -1);
  EXPECT_EQ(Direction(grow), 1);
  EXPECT_EQ(Direction(compact), 0);
  EXPECT_EQ(ReasonOf(compact).rule, "compaction.fragmentation");
  for (const auto& a : {shrink, grow, compact}) {
    EXPECT_NE(std::find(kRules.begin(), kRules.end(), ReasonOf(a).rule), kRules.end());
  }

  Outcome ok;
  ok.duration = Duration{1500};
  EXPECT_EQ(ToString(ok), "ok in 1.5 s");
  Outcome failed{false, "libvirt: domain not running", Duration{20}, false, {}, {}, {}, {}, {}, {}, {}};
  EXPECT_EQ(ToString(failed), "failed: libvirt: domain not running in 0 s");
  Outcome compacted{true, "", seconds{1}, true, 0.9, 0.2, {}, {}, {}, {}, {}};
  EXPECT_EQ(ToString(compacted), "dry-run in 1 s, fragmentation index 0.9 -> 0.2");

  Plan plan;
  plan.actions = {shrink};
  plan.skips = {{"vm db", "balloon.reclaim", "stats 31 s old"}};
  plan.bands = {{0, Band::kReclaim}, {1, Band::kSteady}};
  EXPECT_EQ(ToString(plan),
            "plan: 1 actions, 1 skips\n  node 0 reclaim\n  node 1 steady\n"
            "  action balloon web-1: 4 GiB -> 3.5 GiB (balloon.reclaim: why)\n"
            "  skip vm db: balloon.reclaim: stats 31 s old");
  EXPECT_EQ(BandName(Band::kRelease), "release");
}

}  // namespace
}  // namespace kvmem::test
