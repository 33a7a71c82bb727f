// The controller's KSM gauges: the pay rate over the last ksm.window and the break-even, from
// a loop fed scripted observations (a 64 GiB, 2-CPU host whose ksmd merges then idles) and
// applying through the dry-run stack.
#include <gtest/gtest.h>

#include "common/metrics/text_format.h"
#include "controller/actuate/actuator.h"
#include "controller/loop/controller.h"
#include "tests/support/builders.h"

namespace kvmem::test {
namespace {

TEST(ControllerKsmMetrics, PayRateAndBreakEvenGauges) {
  // saved pages and ksmd CPU seconds at t = 0, 30, 60 s
  const std::map<int64_t, std::pair<uint64_t, double>> script = {{0, {0, 10}}, {30, {50000, 13}}, {60, {100000, 16}}};
  loop::ObserveFn observe = [&](model::TimePoint now) -> Result<model::Observation> {
    const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now - kT0).count();
    model::Observation o = ObservationBuilder(now).Node(NodeBuilder(0)).Build();
    o.cpus = 2;
    model::KsmObservation k;
    k.run = 1;
    k.pages_to_scan = 1250;
    k.sleep_millisecs = 20;
    k.pages_sharing = script.at(s).first;
    k.ksmd_cpu_seconds_total = script.at(s).second;
    o.ksm = k;
    return o;
  };
  actuate::Router router(nullptr, nullptr);
  actuate::DryRun dry(&router);
  loop::Controller c(observe, dry, model::Policy{}, true);
  auto text = [&] {
    MetricSink sink;
    c.Collect(sink);
    return SerializeText(sink.families());
  };
  c.RunOnce(At(0), std::chrono::system_clock::now());
  EXPECT_NE(text().find("kvmem_controller_ksm_break_even_bytes_per_cpu_second 9544371.76"), std::string::npos)
      << text();
  EXPECT_EQ(text().find("kvmem_controller_ksm_saved_bytes_per_cpu_second"), std::string::npos);  // no window yet
  c.RunOnce(At(30), std::chrono::system_clock::now());
  c.RunOnce(At(60), std::chrono::system_clock::now());
  // 100000 pages of 4 KiB over 6 CPU-seconds.
  EXPECT_NE(text().find("kvmem_controller_ksm_saved_bytes_per_cpu_second 68266666.6"), std::string::npos) << text();
}

}  // namespace
}  // namespace kvmem::test
