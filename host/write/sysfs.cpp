// One write(2) per kernel knob.
#include "host/write/sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kvmem::hostwrite {

Result<void> WriteKnob(const std::string& path, const std::string& text, const std::string& what, bool truncate) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0));
  if (fd < 0) return Fail(ErrorKind::kIo, path + ": cannot open for writing: " + std::strerror(errno));
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  // EAGAIN is the kernel's "did less than asked" (memory.reclaim): worth trying again later.
  if (n < 0)
    return Fail(err == EAGAIN ? ErrorKind::kTransient : ErrorKind::kIo,
                path + ": writing " + what + " failed: " + std::strerror(err));
  if (static_cast<size_t>(n) != text.size()) return Fail(ErrorKind::kIo, path + ": short write of " + what);
  return {};
}

}  // namespace kvmem::hostwrite
