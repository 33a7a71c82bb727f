// kvmem_hugepage_ab: A/B memory-access benchmark, 4 KiB pages (control) against 2 MiB hugetlb
// pages (experiment), optionally THP, locally and on a remote NUMA node. Prints Markdown.
// Exit codes: 0 done, 1 a run failed or got other pages than asked for, 2 usage or
// configuration (including "no free 2 MiB hugepages": it never falls back to other pages).
#include <numa.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/hugepages/options.h"
#include "bench/hugepages/runner.h"
#include "bench/hugepages/workload.h"

namespace kvmem::hugepage_bench {
namespace {

constexpr const char* kProgram = "kvmem_hugepage_ab";

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string NodeLabel(int cpu, int mem) {
  if (cpu < 0) return "unbound";
  return "cpu N" + std::to_string(cpu) + ", mem N" + std::to_string(mem);
}

std::vector<int> MemoryNodes() {
  std::vector<int> out;
  for (int n = 0; n <= numa_max_node(); ++n)
    if (numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(n))) out.push_back(n);
  return out;
}

bool HasCpus(int node) {
  bitmask* cpus = numa_allocate_cpumask();
  bool ok = numa_node_to_cpus(node, cpus) == 0 && numa_bitmask_weight(cpus) > 0;
  numa_free_cpumask(cpus);
  return ok;
}

bool Contains(const std::vector<int>& v, int x) {
  for (int e : v)
    if (e == x) return true;
  return false;
}

// The placements to run; prints why the remote one is missing. Returns false (after printing
// the reason) on a node that cannot be used.
bool PlanPlacements(const Options& o, std::vector<Placement>* out) {
  if (numa_available() < 0) {
    std::printf("- NUMA: not available on this host (numa_available() < 0): runs are not bound to a node\n");
    out->push_back({-1, -1, NodeLabel(-1, -1)});
    return true;
  }
  const std::vector<int> mem_nodes = MemoryNodes();
  const int mem = o.mem_node < 0 ? o.cpu_node : o.mem_node;
  if (o.cpu_node > numa_max_node() || !HasCpus(o.cpu_node)) {
    std::fprintf(stderr, "%s: --cpu-node=%d: node has no CPUs (or does not exist)\n", kProgram, o.cpu_node);
    return false;
  }
  if (!Contains(mem_nodes, mem)) {
    std::fprintf(stderr, "%s: --mem-node=%d: node has no memory (or does not exist)\n", kProgram, mem);
    return false;
  }
  out->push_back({o.cpu_node, mem, NodeLabel(o.cpu_node, mem)});
  std::printf("- NUMA: %zu node(s) with memory; placement %s (%s, distance %d)\n", mem_nodes.size(),
              out->back().label.c_str(), mem == o.cpu_node ? "local" : "remote", numa_distance(o.cpu_node, mem));
  if (!o.compare_remote || mem != o.cpu_node) return true;
  if (mem_nodes.size() < 2) {
    std::printf(
        "- remote comparison: not run: it needs at least two NUMA nodes with memory, this host has %zu. "
        "On a multi-node host it runs by default (--compare-remote), or by hand: "
        "`%s --cpu-node 0 --mem-node 0` (local) against `%s --cpu-node 0 --mem-node 1` (remote); "
        "the 2m mode then needs free 2 MiB pages on both nodes.\n",
        mem_nodes.size(), kProgram, kProgram);
    return true;
  }
  int remote = o.remote_node;
  if (remote >= 0 && (remote == o.cpu_node || !Contains(mem_nodes, remote))) {
    std::fprintf(stderr, "%s: --remote-node=%d: must be another node with memory\n", kProgram, remote);
    return false;
  }
  if (remote < 0) {
    for (int n : mem_nodes) {  // the nearest other node; ties go to the lowest number
      if (n != o.cpu_node && (remote < 0 || numa_distance(o.cpu_node, n) < numa_distance(o.cpu_node, remote)))
        remote = n;
    }
  }
  out->push_back({o.cpu_node, remote, NodeLabel(o.cpu_node, remote)});
  std::printf("- remote comparison: %s (distance %d)\n", out->back().label.c_str(), numa_distance(o.cpu_node, remote));
  return true;
}

// Checks up front that every mode can be had, so a run never stops half-way for want of pages.
Result<void> CheckModes(const Options& o, const std::vector<Placement>& placements) {
  for (PageMode mode : o.modes) {
    if (mode == PageMode::k2m) {
      const uint64_t pages = o.size_bytes / kHugePageBytes;
      for (const auto& p : placements) {
        auto pool = ReadHugePool(p.mem_node);
        if (!pool) return tl::unexpected<Error>(pool.error());
        const std::string where = p.mem_node < 0 ? "system" : "node" + std::to_string(p.mem_node);
        std::printf("- 2 MiB pool (%s): %llu free of %llu, %llu needed\n", where.c_str(),
                    static_cast<unsigned long long>(pool->free), static_cast<unsigned long long>(pool->nr),
                    static_cast<unsigned long long>(pages));
        if (pool->free < pages) {
          const int node = p.mem_node < 0 ? 0 : p.mem_node;
          return Fail(ErrorKind::kConfig,
                      "2m mode: need " + std::to_string(pages) + " free 2 MiB hugepages, have " +
                          std::to_string(pool->free) + "; reserve them (bench/hugepages/run.sh does), e.g. echo " +
                          std::to_string(pool->nr + pages - pool->free) + " > " + HugePoolPath(node) + "/nr_hugepages",
                      HugePoolPath(p.mem_node));
        }
      }
    }
    if (mode == PageMode::kThp) {
      auto thp = ReadThpEnabled();
      if (!thp) return Fail(ErrorKind::kConfig, "thp mode: this kernel has no THP (" + thp.error().ToString() + ")");
      if (*thp == "never") {
        return Fail(
            ErrorKind::kConfig,
            "thp mode: THP is disabled (enabled=never); echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
      }
    }
  }
  return {};
}

int Fatal(const Error& e) {
  std::fprintf(stderr, "%s: %s\n", kProgram, e.ToString().c_str());
  return e.kind == ErrorKind::kConfig ? 2 : 1;
}

void PrintSetup(const Options& o, uint32_t lines, uint64_t accesses, const std::vector<std::string>& mode_names) {
  std::printf("## Setup (kvmem_hugepage_ab)\n\n");
  std::printf(
      "- buffer %llu MiB: %u chase lines of %zu B, %llu dependent accesses and %d read + %d write passes per run\n",
      static_cast<unsigned long long>(o.size_bytes >> 20), lines, kLineBytes, static_cast<unsigned long long>(accesses),
      o.stream_passes, o.stream_passes);
  std::printf(
      "- rounds: %d warm-up + %d measured; control %s; even rounds run the modes in the listed order, odd rounds "
      "reversed\n",
      o.warmup, o.rounds, mode_names[0].c_str());
  auto thp = ReadThpEnabled();
  std::printf("- THP enabled: %s\n", thp ? thp->c_str() : "absent");
}

int Run(int argc, char** argv) {
  Options o;
  FlagSet flags(kProgram,
                "A/B memory-access benchmark: 4 KiB pages (control, the first mode) against 2 MiB hugetlb pages "
                "(experiment) and optionally THP.\nEach run maps the buffer, faults it in, checks the pages it got "
                "(smaps), chases pointers over a random cycle of its cache lines (ns/access) and streams it (GB/s).\n"
                "Rounds alternate the mode order; warm-up rounds are discarded; tables show medians.\n"
                "Exit codes: 0 done, 1 a run failed or got other pages than asked for, 2 usage or configuration\n"
                "(2m with too few free hugepages exits 2; nothing falls back to other pages).");
  RegisterFlags(flags, &o);
  if (auto parsed = flags.Parse(argc, argv); !parsed) return Fatal(parsed.error());
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (flags.version_requested()) {
    std::puts("kvmem_hugepage_ab " KVMEM_VERSION);
    return 0;
  }
  if (auto valid = Validate(o); !valid) return Fatal(valid.error());

  const auto lines = static_cast<uint32_t>(o.size_bytes / kLineBytes);
  const uint64_t accesses = o.accesses ? o.accesses : lines;
  std::vector<std::string> mode_names;
  for (PageMode m : o.modes) mode_names.emplace_back(ModeName(m));

  PrintSetup(o, lines, accesses, mode_names);
  std::vector<Placement> placements;
  if (!PlanPlacements(o, &placements)) return 2;
  if (auto ok = CheckModes(o, placements); !ok) return Fatal(ok.error());
  std::printf("- load average at start: %s\n", LoadAverage().c_str());
  std::fflush(stdout);

  const std::vector<uint32_t> cycle = SattoloCycle(lines, o.seed);
  RunConfig config{o.size_bytes, accesses, o.stream_passes, &cycle};
  std::vector<RunSample> samples;
  std::vector<std::string> verified;
  for (const Placement& p : placements) {
    if (p.cpu_node >= 0 && numa_run_on_node(p.cpu_node) != 0) {
      std::perror("numa_run_on_node");
      return 1;
    }
    for (int round = 0; round < o.warmup + o.rounds; ++round) {
      std::vector<PageMode> order = o.modes;
      if (round % 2) order.assign(o.modes.rbegin(), o.modes.rend());
      for (PageMode mode : order) {
        Verification v;
        auto s = RunOnce(mode, p, config, &v);
        if (!s) return Fatal(s.error());
        s->round = round;
        s->warmup = round < o.warmup;
        std::fprintf(
            stderr,
            "round %d%s %s %s: chase %.1f ns (wall %.1f), read %.2f GB/s, write %.2f GB/s, %llu faults, %.2f s\n",
            round, s->warmup ? " (warm-up)" : "", p.label.c_str(), s->mode.c_str(), s->chase_ns, s->chase_wall_ns,
            s->read_gbs, s->write_gbs, static_cast<unsigned long long>(s->minor_faults), s->wall_s);
        if (round == 0) {
          verified.push_back("- " + s->mode + " (" + p.label + "): " + v.line + "; fault-in took " +
                             std::to_string(s->fault_in_faults) + " minor faults");
        }
        samples.push_back(std::move(*s));
      }
    }
  }

  std::printf("\n## Pages the kernel gave (smaps, numa_maps; first run of each mode)\n\n");
  for (const auto& line : verified) std::printf("%s\n", line.c_str());
  std::printf(
      "\n## Medians (ratio rows: experiment/control of the medians; below 1 is lower)\n\n"
      "ns/access and GB/s are per second of this thread's CPU time; \"wall\" columns include time others held the "
      "CPU.\n\n%s",
      MedianTable(samples, mode_names).c_str());
  std::printf("\n## Spread (min-max of the measured runs)\n\n%s", SpreadTable(samples, mode_names).c_str());
  std::printf("\n## Runs\n\n%s", RawTable(samples).c_str());
  std::printf("\n- load average at end: %s\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace kvmem::hugepage_bench

int main(int argc, char** argv) { return kvmem::hugepage_bench::Run(argc, argv); }
