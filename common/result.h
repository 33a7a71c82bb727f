// Result<T> and Error: how every parse, read and libvirt call reports failure.
// Header-only. Thread-safe (value types). Throws nothing itself.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace kvmem {

enum class ErrorKind {
  kNotFound,   // the file or object is absent: usually "no data", not a failure
  kParse,      // the content is malformed
  kIo,         // reading or writing failed
  kLibvirt,    // a libvirt call failed
  kTransient,  // worth retrying later (timeouts, busy)
  kConfig,     // bad flag, policy or configuration value
};

inline const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kLibvirt: return "libvirt";
    case ErrorKind::kTransient: return "transient";
    case ErrorKind::kConfig: return "config";
  }
  return "unknown";
}

struct Error {
  ErrorKind kind = ErrorKind::kIo;
  std::string message;
  std::string file;  // file, URI or key the error is about; may be empty
  int line = 0;      // 1-based line within `file`; 0 when it does not apply

  // "FILE:LINE: MESSAGE", or the shorter forms when file or line is unknown.
  std::string ToString() const {
    std::string out;
    if (!file.empty()) {
      out += file;
      if (line > 0) out += ":" + std::to_string(line);
      out += ": ";
    }
    return out + message;
  }
};

// tl::expected today; std::expected is a one-line change here.
template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(ErrorKind kind, std::string message, std::string file = {}, int line = 0) {
  return tl::unexpected<Error>(Error{kind, std::move(message), std::move(file), line});
}

}  // namespace kvmem
