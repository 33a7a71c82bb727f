// RunOnce: the measured sequence of one run, and the check of its pages against the mode.
#include "bench/hugepages/runner.h"

#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "bench/hugepages/smaps.h"
#include "bench/hugepages/workload.h"

namespace kvmem::hugepage_bench {
namespace {

using Clock = std::chrono::steady_clock;

volatile uint64_t g_sink;  // keeps results of the measured loops alive

// Wall and on-CPU time of this thread, started together.
class Stopwatch {
 public:
  Stopwatch() : wall_(Clock::now()), cpu_(ThreadCpu()) {}
  double WallSeconds() const { return std::chrono::duration<double>(Clock::now() - wall_).count(); }
  double CpuSeconds() const { return ThreadCpu() - cpu_; }

 private:
  static double ThreadCpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  Clock::time_point wall_;
  double cpu_;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; }

rusage Usage() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru;
}

uint64_t Delta(long after, long before) { return static_cast<uint64_t>(after - before); }

Result<std::string> ReadProc(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorKind::kIo, "cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Verification> Verify(PageMode mode, const Mapping& m, int mem_node) {
  auto addr = reinterpret_cast<uint64_t>(m.data());
  auto smaps_text = ReadProc("/proc/self/smaps");
  if (!smaps_text) return tl::unexpected<Error>(smaps_text.error());
  auto e = ParseSmapsFor(*smaps_text, addr);
  if (!e) return tl::unexpected<Error>(e.error());
  auto numa_text = ReadProc("/proc/self/numa_maps");
  if (!numa_text) return tl::unexpected<Error>(numa_text.error());
  auto numa = ParseNumaMapsFor(*numa_text, addr);
  if (!numa) return tl::unexpected<Error>(numa.error());

  Verification v;
  v.pages_seen = DescribePages(*e);
  v.line = "KernelPageSize=" + std::to_string(e->kernel_page_kb) + " kB MMUPageSize=" + std::to_string(e->mmu_page_kb) +
           " kB AnonHugePages=" + std::to_string(e->anon_huge_kb) + " kB Hugetlb=" + std::to_string(e->hugetlb_kb) +
           " kB numa_maps " + numa->policy;
  for (auto [node, pages] : numa->node_pages) v.line += " N" + std::to_string(node) + "=" + std::to_string(pages);

  const uint64_t size_kb = m.size() / 1024;
  auto wrong = [&](const std::string& what) {
    return Fail(ErrorKind::kIo, ModeName(mode).data() + std::string(" mode: ") + what + " (" + v.line + ")");
  };
  if (e->end - e->start != m.size()) return wrong("the smaps entry is not exactly the buffer");
  if (mode == PageMode::k4k && (e->kernel_page_kb != 4 || e->anon_huge_kb != 0))
    return wrong("expected 4 kB pages and no THP despite MADV_NOHUGEPAGE");
  if (mode == PageMode::k2m && (e->kernel_page_kb != 2048 || e->hugetlb_kb != size_kb))
    return wrong("expected the whole buffer in 2048 kB hugetlb pages");
  if (mode == PageMode::kThp && e->kernel_page_kb != 4) return wrong("expected a 4 kB base page size");
  if (mem_node >= 0) {
    uint64_t want = e->kernel_page_kb ? size_kb / e->kernel_page_kb : 0, on_node = 0, total = 0;
    for (auto [node, pages] : numa->node_pages) {
      total += pages;
      if (node == mem_node) on_node = pages;
    }
    if (on_node != want || total != want)
      return wrong("expected all " + std::to_string(want) + " pages on node " + std::to_string(mem_node));
  }
  return v;
}

}  // namespace

Result<RunSample> RunOnce(PageMode mode, const Placement& placement, const RunConfig& config,
                          Verification* verification) {
  RunSample s;
  s.placement = placement.label;
  s.mode = std::string(ModeName(mode));
  const rusage ru0 = Usage();
  const auto t0 = Clock::now();
  {
    auto mapped = MapBuffer(mode, config.bytes, placement.mem_node);
    if (!mapped) return tl::unexpected<Error>(mapped.error());
    Mapping& m = *mapped;

    const rusage before_fault = Usage();
    const Stopwatch fault_in;
    FaultIn(m.data(), m.size());
    s.fault_in_s = fault_in.CpuSeconds();
    s.fault_in_faults = Delta(Usage().ru_minflt, before_fault.ru_minflt);

    auto v = Verify(mode, m, placement.mem_node);
    if (!v) return tl::unexpected<Error>(v.error());
    s.pages_seen = v->pages_seen;
    if (verification) *verification = *v;

    LayChase(m.data(), *config.cycle);
    const Stopwatch chase;
    const std::byte* end = Chase(m.data(), config.accesses);
    const auto steps = static_cast<double>(config.accesses);
    s.chase_ns = chase.CpuSeconds() * 1e9 / steps;
    s.chase_wall_ns = chase.WallSeconds() * 1e9 / steps;
    g_sink = reinterpret_cast<uint64_t>(end);

    auto* words = reinterpret_cast<uint64_t*>(m.data());
    const size_t count = m.size() / sizeof(uint64_t);
    const double gb = static_cast<double>(m.size()) * config.stream_passes / 1e9;
    const Stopwatch read;
    for (int p = 0; p < config.stream_passes; ++p) g_sink = g_sink + StreamRead(words, count);
    s.read_gbs = gb / read.CpuSeconds();
    s.read_wall_gbs = gb / read.WallSeconds();
    const Stopwatch write;
    for (int p = 0; p < config.stream_passes; ++p) StreamWrite(words, count, static_cast<uint64_t>(p) + 1);
    s.write_gbs = gb / write.CpuSeconds();
    s.write_wall_gbs = gb / write.WallSeconds();
  }  // unmapped here: teardown is part of the run's cost
  const auto t1 = Clock::now();
  const rusage ru1 = Usage();
  s.wall_s = Seconds(t1 - t0);
  s.sys_s = Seconds(ru1.ru_stime) - Seconds(ru0.ru_stime);
  s.cpu_s = Seconds(ru1.ru_utime) - Seconds(ru0.ru_utime) + s.sys_s;
  s.minor_faults = Delta(ru1.ru_minflt, ru0.ru_minflt);
  s.invol_switches = Delta(ru1.ru_nivcsw, ru0.ru_nivcsw);
  return s;
}

}  // namespace kvmem::hugepage_bench
