// File and directory reads for small kernel files. Stateless and thread-safe; never throws
// except std::bad_alloc.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kvmem::procfs {

// Reads a whole small file (at most 16 MiB). A missing file is ErrorKind::kNotFound;
// other failures are kIo. Uses one open/read loop/close, no iostreams.
Result<std::string> ReadSmallFile(const std::string& path);

// Names in a directory, without "." and "..", sorted. Missing directory: kNotFound.
Result<std::vector<std::string>> ListDir(const std::string& path);

bool PathExists(const std::string& path);

}  // namespace kvmem::procfs

#include <cstdint>
#include "exporter/procfs/fields.h"

namespace kvmem::procfs {

// One-value sysfs files: read and parse, errors naming the file.
Result<uint64_t> ReadU64File(const std::string& path, int base = 10);
Result<int64_t> ReadI64File(const std::string& path);
Result<Choice> ReadChoiceFile(const std::string& path);

}  // namespace kvmem::procfs
