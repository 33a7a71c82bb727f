// The host_check collector: the host configuration checks (exporter/checks) as metrics, one
// series per check that could be evaluated. Runs after the libvirt collector, whose VMs it
// reads from the shared DomainBoard.
#include "exporter/checks/facts.h"
#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kFailed{
    "kvmem_host_check_failed",
    "Whether a host configuration check fails (1) or passes (0); checks without the data they need are left out. Each "
    "check's meaning and fix: docs/host-check.md and kvmem_exporter --check-host.",
    kGauge,
    {"check", "severity"}};

class HostCheckCollector final : public Collector {
 public:
  HostCheckCollector(procfs::Root root, std::shared_ptr<checks::DomainBoard> board)
      : root_(std::move(root)), board_(std::move(board)) {}

  void Collect(MetricSink& out) override {
    checks::HostFacts facts = checks::GatherHostFacts(root_);
    if (board_) facts.vms = board_->Vms();
    auto now = std::chrono::steady_clock::now();
    if (auto faults = checks::ReadHintFaults(root_)) {
      double seconds = std::chrono::duration<double>(now - last_at_).count();
      if (last_faults_ && seconds > 0 && *faults >= *last_faults_) {
        facts.hint_faults_per_second = static_cast<double>(*faults - *last_faults_) / seconds;
      }
      last_faults_ = faults;
      last_at_ = now;
    }
    for (const auto& r : checks::RunHostChecks(facts)) {
      if (r.evaluated) out.Add(kFailed, {r.check, r.severity}, r.failed ? 1 : 0);
    }
  }

  std::vector<const FamilyDesc*> Families() const override { return {&kFailed}; }
  bool RunsLast() const override { return true; }

 private:
  procfs::Root root_;
  std::shared_ptr<checks::DomainBoard> board_;
  std::optional<int64_t> last_faults_;
  std::chrono::steady_clock::time_point last_at_;
};

}  // namespace

std::unique_ptr<Collector> MakeHostCheckCollector(const CollectorContext& ctx) {
  return std::make_unique<HostCheckCollector>(ctx.root, ctx.domains);
}

}  // namespace kvmem::collectors
