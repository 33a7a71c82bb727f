// Writing kernel knobs under sysfs: one value per file, with errors that name the file.
// Thread-safe (no state). Throws only std::bad_alloc.
#pragma once

#include <string>

#include "common/result.h"

namespace kvmem::hostwrite {

// Writes `text` to `path` in one write(2), retried on EINTR. `truncate` opens with O_TRUNC,
// which sysfs ignores and fixture trees (plain files) need. Errors (kIo) read
// "<path>: cannot open for writing: <errno text>", "<path>: writing <what> failed: <errno
// text>" or "<path>: short write of <what>", where `what` names the value for people.
// A write failing with EAGAIN is kTransient.
Result<void> WriteKnob(const std::string& path, const std::string& text, const std::string& what, bool truncate);

}  // namespace kvmem::hostwrite
