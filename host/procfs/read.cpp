// POSIX reads behind ReadSmallFile and ListDir.
#include "host/procfs/read.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace kvmem::procfs {
namespace {

constexpr size_t kMaxFileBytes = 16u << 20;

bool IsMissing(int err) { return err == ENOENT || err == ENOTDIR; }

// Open descriptors of procfs and sysfs files, re-read with pread at offset 0: the kernel
// regenerates their content on every read from offset 0 (seq_file and kernfs), so one pread
// replaces open, read, read and close. Regular files (fixture trees) are never cached, since
// a rewritten file may be a new inode. Bounded: past kMaxCached paths, new files are not cached.
// /proc/<pid>/..., /proc/self/... and /proc/thread-self/...: a cached descriptor would keep
// reading a dead process after its pid is reused, and a /proc scan would pin one per process.
bool IsPerProcess(const std::string& path) {
  size_t pos = 0;
  while ((pos = path.find('/', pos)) != std::string::npos) {
    size_t end = path.find('/', pos + 1);
    std::string_view part(path.data() + pos + 1, (end == std::string::npos ? path.size() : end) - pos - 1);
    if (part == "self" || part == "thread-self" ||
        (!part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos)) {
      return true;
    }
    pos = pos + 1;
  }
  return false;
}

class DescriptorCache {
 public:
  static DescriptorCache& Instance() {
    static DescriptorCache* cache = new DescriptorCache();  // never destroyed: used until exit
    return *cache;
  }

  // Returns a cached descriptor for `path`, opening and caching it if it lives on procfs or
  // sysfs. -1 (errno set) when it cannot be opened; -2 when it should not be cached.
  int Get(const std::string& path) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = fds_.find(path); it != fds_.end()) return it->second;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct statfs fs {};
    bool kernel_fs =
        ::fstatfs(fd, &fs) == 0 && ((fs.f_type == PROC_SUPER_MAGIC && !IsPerProcess(path)) || fs.f_type == SYSFS_MAGIC);
    std::lock_guard lock(mutex_);
    if (!kernel_fs || fds_.size() >= kMaxCached) {
      ::close(fd);
      return -2;
    }
    auto [it, inserted] = fds_.emplace(path, fd);
    if (!inserted) ::close(fd);  // another thread won the race
    return it->second;
  }

  // Forgets a descriptor whose file went away (ENODEV after hot-unplug, for example).
  void Drop(const std::string& path, int fd) {
    std::lock_guard lock(mutex_);
    if (auto it = fds_.find(path); it != fds_.end() && it->second == fd) {
      fds_.erase(it);
      ::close(fd);
    }
  }

 private:
  static constexpr size_t kMaxCached = 4096;
  std::mutex mutex_;
  std::unordered_map<std::string, int> fds_;
};

// One pread from offset 0 into a reused per-thread buffer (no zero-filling per read), growing
// it only for files larger than it.
Result<std::string> PreadWhole(int fd, const std::string& path) {
  thread_local std::vector<char> buffer(64 * 1024);
  size_t used = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buffer.data() + used, buffer.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return Fail(IsMissing(err) || err == ENODEV ? ErrorKind::kNotFound : ErrorKind::kIo,
                  std::string("cannot read: ") + std::strerror(err), path);
    }
    used += static_cast<size_t>(n);
    if (used < buffer.size() || n == 0) break;
    if (buffer.size() >= kMaxFileBytes) {
      return Fail(ErrorKind::kIo, "file larger than 16 MiB; refusing to read it", path);
    }
    buffer.resize(buffer.size() * 2);
  }
  return std::string(buffer.data(), used);
}

Result<std::string> ReadFresh(const std::string& path);

thread_local std::unordered_map<std::string, Result<std::string>>* t_scope_memo = nullptr;
thread_local std::unordered_map<std::string, std::shared_ptr<void>>* t_scope_parsed = nullptr;

}  // namespace

ReadScope::ReadScope() : owner_(t_scope_memo == nullptr) {
  if (!owner_) return;
  t_scope_memo = new std::unordered_map<std::string, Result<std::string>>();
  t_scope_parsed = new std::unordered_map<std::string, std::shared_ptr<void>>();
}

ReadScope::~ReadScope() {
  if (!owner_) return;
  delete t_scope_memo;
  delete t_scope_parsed;
  t_scope_memo = nullptr;
  t_scope_parsed = nullptr;
}

namespace detail {
std::shared_ptr<void>* ScopeSlot(const std::string& key) { return t_scope_parsed ? &(*t_scope_parsed)[key] : nullptr; }
}  // namespace detail

Result<std::string> ReadSmallFile(const std::string& path) {
  if (!t_scope_memo) return ReadFresh(path);
  if (auto it = t_scope_memo->find(path); it != t_scope_memo->end()) return it->second;
  auto result = ReadFresh(path);
  t_scope_memo->emplace(path, result);
  return result;
}

namespace {
Result<std::string> ReadFresh(const std::string& path) {
  int fd = DescriptorCache::Instance().Get(path);
  if (fd >= 0) {
    auto text = PreadWhole(fd, path);
    if (!text && text.error().kind == ErrorKind::kNotFound) {
      DescriptorCache::Instance().Drop(path, fd);
      return ReadUncached(path);  // the file may have been re-created
    }
    return text;
  }
  if (fd == -1 && errno != EACCES && errno != EPERM) {
    int err = errno;
    return Fail(IsMissing(err) ? ErrorKind::kNotFound : ErrorKind::kIo,
                std::string("cannot open: ") + std::strerror(err), path);
  }
  return ReadUncached(path);
}

}  // namespace

Result<std::string> ReadUncached(const std::string& path, int* open_errno) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (open_errno) *open_errno = err;
    return Fail(IsMissing(err) ? ErrorKind::kNotFound : ErrorKind::kIo,
                std::string("cannot open: ") + std::strerror(err), path);
  }
  std::string out;
  size_t chunk = 4096;
  for (;;) {
    size_t old = out.size();
    out.resize(old + chunk);
    ssize_t n = ::read(fd, out.data() + old, chunk);
    if (n < 0) {
      if (errno == EINTR) {
        out.resize(old);
        continue;
      }
      int err = errno;
      ::close(fd);
      return Fail(IsMissing(err) || err == ENODEV ? ErrorKind::kNotFound : ErrorKind::kIo,
                  std::string("cannot read: ") + std::strerror(err), path);
    }
    out.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
    if (out.size() > kMaxFileBytes) {
      ::close(fd);
      return Fail(ErrorKind::kIo, "file larger than 16 MiB; refusing to read it", path);
    }
    if (chunk < 65536) chunk *= 2;
  }
  ::close(fd);
  return out;
}

namespace {}  // namespace

namespace {
Result<std::vector<std::string>> ListDirUncached(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    int err = errno;
    return Fail(IsMissing(err) ? ErrorKind::kNotFound : ErrorKind::kIo,
                std::string("cannot list directory: ") + std::strerror(err), path);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

// Memoized inside a ReadScope like ReadSmallFile: half the collectors list the node directory.
Result<std::vector<std::string>> ListDir(const std::string& path) {
  using Listing = Result<std::vector<std::string>>;
  std::shared_ptr<void>* slot = detail::ScopeSlot(path + "\n<dir>");
  if (slot && *slot) return *static_cast<const Listing*>(slot->get());
  Listing result = ListDirUncached(path);
  if (slot) *slot = std::make_shared<Listing>(result);
  return result;
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace kvmem::procfs

namespace kvmem::procfs {

Result<uint64_t> ReadU64File(const std::string& path, int base) {
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseSingleU64(*text, path, base);
}

Result<int64_t> ReadI64File(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseSingleI64(*text, path);
}

Result<Choice> ReadChoiceFile(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return tl::unexpected(text.error());
  return ParseChoice(*text, path);
}

}  // namespace kvmem::procfs
