// /proc/pressure/memory (PSI). Pure parser plus read. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "host/procfs/root.h"

namespace kvmem::procfs {

struct PsiLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;  // ratios 0..1 (the kernel prints percent)
  uint64_t total_us = 0;                    // cumulative stall time, microseconds
};

struct Psi {
  std::optional<PsiLine> some;
  std::optional<PsiLine> full;  // absent on kernels before 5.13 for the "cpu" resource
};

// Lines "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". Errors: empty file, unknown
// line kind, a missing or non-numeric field.
Result<Psi> ParsePsi(std::string_view text, const std::string& file);
// Missing file (kernel without PSI): kNotFound.
Result<Psi> ReadMemoryPressure(const Root& root);

}  // namespace kvmem::procfs
