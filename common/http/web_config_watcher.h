// The web config in force, re-read when its file or a certificate it names changes, so that
// certificates can be rotated and users changed without a restart. The server asks for the
// current config for each new connection (TLS) and each request (basic auth, headers).
// Thread-safety: every member may be called from any thread. Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "common/http/web_config.h"
#include "common/result.h"

namespace kvmem::http {

// One loaded config: the parsed file and, when it has tls_server_config, its TLS context.
struct ActiveWebConfig {
  WebConfig config;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
};

class WebConfigWatcher {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Loads `path` and the certificates it names now. The kConfig error names the file, the
  // key and its line (see ParseWebConfig), or the certificate that failed to load.
  static Result<std::shared_ptr<WebConfigWatcher>> Open(
      std::string path, std::chrono::milliseconds check_every = std::chrono::seconds(1),
      Clock clock = [] { return std::chrono::steady_clock::now(); });

  // The config to use now. At most once per `check_every` it compares the inode, size and
  // times of the file and of the files it names with those it loaded, and reloads when any
  // differ. A failed reload keeps the current config, is logged and counted, and is tried
  // again only when the files change again.
  std::shared_ptr<const ActiveWebConfig> Current();

  struct Stats {
    uint64_t reloads_success = 0;
    uint64_t reloads_failure = 0;
    bool last_reload_ok = true;
  };
  Stats stats() const;
  const std::string& path() const { return path_; }

  // What identifies one version of one file; all zero for a file that cannot be stat'ed.
  struct FileStamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

 private:
  WebConfigWatcher(std::string path, std::chrono::milliseconds check_every, Clock clock)
      : path_(std::move(path)), check_every_(check_every), clock_(std::move(clock)) {}
  // The config file and the files a config names (its certificates and key).
  std::vector<std::string> Watched(const WebConfig* config) const;
  // Parses the file, stamps it and the files it names, then loads them: stamping first means
  // a file replaced during the load differs at the next check. Sets `watched` and `stamps`
  // whether or not the load succeeds.
  Result<std::shared_ptr<const ActiveWebConfig>> Load(std::vector<std::string>& watched,
                                                      std::vector<FileStamp>& stamps) const;

  const std::string path_;
  const std::chrono::milliseconds check_every_;
  const Clock clock_;

  mutable std::mutex mutex_;  // guards everything below
  std::shared_ptr<const ActiveWebConfig> current_;
  // The files of current_, or of the last failed attempt, and their stamps when loaded.
  std::vector<std::string> watched_;
  std::vector<FileStamp> loaded_stamps_;
  std::chrono::steady_clock::time_point next_check_{};
  Stats stats_;
};

}  // namespace kvmem::http
