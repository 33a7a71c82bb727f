// The pool manager's and placement's metrics: exact series after a plan, a partial
// reservation, a compaction for a reservation and two placement moves.
#include <gtest/gtest.h>

#include "common/metrics/text_format.h"
#include "controller/loop/pool_metrics.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

TEST(PoolPlacementMetrics, ExactSeries) {
  for (const auto* f : loop::PoolPlacementMetrics::Families()) EXPECT_EQ(ValidateFamily(*f), "") << f->name;

  loop::PoolPlacementMetrics m;
  model::Plan plan;
  plan.pools = {{0, 2 * kMiB, 512, 602, 100, 502}};
  policy::ControllerState state;
  state.pool_shortfalls_total[{0, 2 * kMiB, "fragmented"}] = 2;
  m.Update(plan, state);

  model::Reason grow;
  grow.rule = "hugepages.grow";
  m.Record(model::CompactNode{0, 0.8, grow}, model::Outcome{});
  model::Reason frag;
  frag.rule = "compaction.fragmentation";
  m.Record(model::CompactNode{0, 0.8, frag}, model::Outcome{});  // not for a reservation
  model::Outcome partial;
  partial.ok = false;
  partial.pages_obtained = 300;
  m.Record(model::ResizeHugepagePool{0, 2 * kMiB, 100, 602, grow}, partial);
  model::Outcome pinned;
  pinned.locality_after = 0.875;
  m.Record(model::PinVcpus{{"uuid-web", "web"}, 1, 0.125, {}}, pinned);
  model::Outcome migrated;
  migrated.bytes_migrated = 5 * kGiB;
  m.Record(model::MigrateMemory{{"uuid-db", "db"}, 42, 0, 5 * kGiB, 0.375, {}}, migrated);
  model::Outcome failed;
  failed.ok = false;
  m.Record(model::MigrateMemory{{"uuid-x", "x"}, 43, 0, kGiB, 0.1, {}}, failed);  // not a move

  MetricSink sink;
  m.Collect(sink);
  const std::string text = SerializeText(sink.families());
  for (const char* line : {
           "kvmem_controller_hugepage_pool_target_pages{node=\"0\",size=\"2097152\"} 602\n",
           "kvmem_controller_hugepage_pool_shortfall_pages{node=\"0\",size=\"2097152\"} 502\n",
           "kvmem_controller_hugepage_pool_demand_pages{node=\"0\",size=\"2097152\"} 512\n",
           "kvmem_controller_hugepage_pool_obtained_pages{node=\"0\",size=\"2097152\"} 300\n",
           "kvmem_controller_hugepage_reservation_failures_total{node=\"0\",size=\"2097152\",cause=\"fragmented\"} 2\n",
           "kvmem_controller_hugepage_compactions_total{node=\"0\"} 1\n",
           "kvmem_controller_placement_moves_total{kind=\"vcpus\"} 1\n",
           "kvmem_controller_placement_moves_total{kind=\"memory\"} 1\n",
           "kvmem_controller_placement_migrated_bytes_total 5368709120\n",
           "kvmem_controller_placement_locality_ratio{domain=\"web\",uuid=\"uuid-web\",when=\"before\"} 0.125\n",
           "kvmem_controller_placement_locality_ratio{domain=\"web\",uuid=\"uuid-web\",when=\"after\"} 0.875\n",
           "kvmem_controller_placement_locality_ratio{domain=\"db\",uuid=\"uuid-db\",when=\"before\"} 0.375\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
  EXPECT_EQ(text.find("uuid-x"), std::string::npos);
  EXPECT_EQ(text.find("uuid=\"uuid-db\",when=\"after\""), std::string::npos);  // not measured
}

}  // namespace
}  // namespace kvmem::test
