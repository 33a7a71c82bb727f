// KSM observation.
#include "controller/observe/ksm.h"

#include <unistd.h>

#include "host/procfs/fields.h"
#include "host/procfs/read.h"

namespace kvmem::observe {

std::optional<model::KsmObservation> ObserveKsm(const procfs::Root& root, procfs::KsmdCpu* ksmd) {
  const std::string dir = root.Sys("kernel/mm/ksm/");
  auto run = procfs::ReadI64File(dir + "run");
  auto scan = procfs::ReadU64File(dir + "pages_to_scan");
  auto sleep = procfs::ReadU64File(dir + "sleep_millisecs");
  if (!run || !scan || !sleep) return std::nullopt;
  model::KsmObservation k;
  k.run = static_cast<int>(*run);
  k.pages_to_scan = *scan;
  k.sleep_millisecs = *sleep;
  auto u64 = [&](const char* file) { return procfs::ReadU64File(dir + file).value_or(0); };
  if (auto across = procfs::ReadU64File(dir + "merge_across_nodes")) k.merge_across_nodes = *across != 0;
  k.pages_shared = u64("pages_shared");
  k.pages_sharing = u64("pages_sharing");
  k.full_scans = u64("full_scans");
  if (auto profit = procfs::ReadI64File(dir + "general_profit")) k.general_profit_bytes = *profit;
  if (ksmd) k.ksmd_cpu_seconds_total = ksmd->CpuSeconds();
  const long page = sysconf(_SC_PAGESIZE);
  k.page_bytes = page > 0 ? static_cast<uint64_t>(page) : 4096;
  return k;
}

int OnlineCpus(const procfs::Root& root) {
  const std::string path = root.Sys("devices/system/cpu/online");
  auto text = procfs::ReadSmallFile(path);
  if (!text) return 0;
  auto ids = procfs::ParseIdList(*text, path);
  return ids ? static_cast<int>(ids->size()) : 0;
}

}  // namespace kvmem::observe
