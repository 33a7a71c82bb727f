// POSIX reads behind ReadSmallFile and ListDir.
#include "exporter/procfs/read.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kvmem::procfs {
namespace {

constexpr size_t kMaxFileBytes = 16u << 20;

bool IsMissing(int err) { return err == ENOENT || err == ENOTDIR; }

}  // namespace

Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
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

Result<std::vector<std::string>> ListDir(const std::string& path) {
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
