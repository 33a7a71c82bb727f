// File and directory reads for small kernel files. Stateless and thread-safe; never throws
// except std::bad_alloc.
#pragma once

#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "common/result.h"

namespace kvmem::procfs {

// Reads a whole small file (at most 16 MiB). A missing file is ErrorKind::kNotFound;
// other failures are kIo. Uses one open/read loop/close, no iostreams.
Result<std::string> ReadSmallFile(const std::string& path);

// open/read/close every time, at most 16 MiB, for per-process and per-cgroup files: those must
// not go through ReadSmallFile's descriptor cache (a cached /proc/PID fd keeps reading the old
// process after the PID is reused, and a /proc scan would pin one fd per process). A missing
// file or process is kNotFound; `open_errno`, when given, gets open(2)'s errno on failure.
Result<std::string> ReadUncached(const std::string& path, int* open_errno = nullptr);

// While a ReadScope lives on a thread, ReadSmallFile on that thread returns each path's first
// result again instead of re-reading it, so one scrape reads /proc/vmstat once however many
// collectors parse it. Scopes nest; the outermost one owns the memo. Not shared across threads.
class ReadScope {
 public:
  ReadScope();
  ~ReadScope();
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

 private:
  bool owner_;
};

namespace detail {
// The memo slot for `key` in the current thread's ReadScope, or nullptr outside a scope.
std::shared_ptr<void>* ScopeSlot(const std::string& key);
}  // namespace detail

// Reads `path` and parses it with `parse(std::string text, const std::string& path)`; inside a
// ReadScope the parsed result is memoized, so a file parsed by three collectors is parsed once.
template <class T, class Parse>
Result<T> ReadParsed(const std::string& path, Parse parse) {
  std::shared_ptr<void>* slot = detail::ScopeSlot(path + '\n' + typeid(T).name());
  if (slot && *slot) return *static_cast<const Result<T>*>(slot->get());
  auto text = ReadSmallFile(path);
  Result<T> result = text ? parse(std::move(*text), path) : Result<T>(tl::unexpected(text.error()));
  if (slot) *slot = std::make_shared<Result<T>>(result);
  return result;
}

// Names in a directory, without "." and "..", sorted. Missing directory: kNotFound. Inside a
// ReadScope, each path is listed once.
Result<std::vector<std::string>> ListDir(const std::string& path);

bool PathExists(const std::string& path);

}  // namespace kvmem::procfs

#include <cstdint>
#include "host/procfs/fields.h"

namespace kvmem::procfs {

// One-value sysfs files: read and parse, errors naming the file.
Result<uint64_t> ReadU64File(const std::string& path, int base = 10);
Result<int64_t> ReadI64File(const std::string& path);
Result<Choice> ReadChoiceFile(const std::string& path);

}  // namespace kvmem::procfs
