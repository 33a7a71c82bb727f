// Stat-based change detection and reload of the web config.
#include "common/http/web_config_watcher.h"

#include <sys/stat.h>

#include "common/http/tls_context.h"
#include "common/log.h"

namespace kvmem::http {
namespace {

WebConfigWatcher::FileStamp Stamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return WebConfigWatcher::FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                                     static_cast<uint64_t>(st.st_size),
                                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                                     static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

std::vector<WebConfigWatcher::FileStamp> Stamps(const std::vector<std::string>& paths) {
  std::vector<WebConfigWatcher::FileStamp> out;
  for (const auto& p : paths) out.push_back(Stamp(p));
  return out;
}

}  // namespace

Result<std::shared_ptr<WebConfigWatcher>> WebConfigWatcher::Open(std::string path,
                                                                 std::chrono::milliseconds check_every, Clock clock) {
  std::shared_ptr<WebConfigWatcher> w(new WebConfigWatcher(std::move(path), check_every, std::move(clock)));
  auto loaded = w->Load(w->watched_, w->loaded_stamps_);
  if (!loaded) return tl::unexpected(loaded.error());
  w->current_ = *loaded;
  w->next_check_ = w->clock_() + check_every;
  return w;
}

std::vector<std::string> WebConfigWatcher::Watched(const WebConfig* config) const {
  std::vector<std::string> out{path_};
  if (config != nullptr && config->tls) {
    const auto& t = *config->tls;
    for (const auto* p : {&t.cert_file, &t.key_file, &t.client_ca_file})
      if (!p->empty()) out.push_back(*p);
  }
  return out;
}

Result<std::shared_ptr<const ActiveWebConfig>> WebConfigWatcher::Load(std::vector<std::string>& watched,
                                                                      std::vector<FileStamp>& stamps) const {
  watched = Watched(nullptr);
  stamps = Stamps(watched);
  auto parsed = LoadWebConfigFile(path_);
  if (!parsed) return tl::unexpected(parsed.error());
  watched = Watched(&*parsed);
  stamps[0] = Stamp(path_) == stamps[0] ? stamps[0] : FileStamp{};  // changed while parsed: retry next time
  for (size_t i = 1; i < watched.size(); ++i) stamps.push_back(Stamp(watched[i]));
  auto active = std::make_shared<ActiveWebConfig>();
  active->config = std::move(*parsed);
  if (active->config.tls) {
    auto tls = MakeTlsContext(*active->config.tls);
    if (!tls) {
      Error e = tls.error();
      e.file = path_;  // "web.yml: tls_server_config: cannot load cert_file ...: <OpenSSL>"
      return tl::unexpected(e);
    }
    active->tls = *tls;
  }
  return std::shared_ptr<const ActiveWebConfig>(std::move(active));
}

std::shared_ptr<const ActiveWebConfig> WebConfigWatcher::Current() {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  if (now < next_check_) return current_;
  next_check_ = now + check_every_;
  // A failed attempt is remembered like a good one, so that a bad file is not reloaded (and
  // logged) every second, but as soon as it or a certificate it names changes.
  if (Stamps(watched_) == loaded_stamps_) return current_;
  auto loaded = Load(watched_, loaded_stamps_);
  if (loaded) {
    current_ = *loaded;
    ++stats_.reloads_success;
    stats_.last_reload_ok = true;
    log::Info("web config reloaded", {{"file", path_},
                                      {"tls", current_->tls ? "on" : "off"},
                                      {"basic_auth_users", std::to_string(current_->config.basic_users.size())}});
  } else {
    ++stats_.reloads_failure;
    stats_.last_reload_ok = false;
    log::Error("web config reload failed; keeping the previous one", {{"err", loaded.error().ToString()}});
  }
  return current_;
}

WebConfigWatcher::Stats WebConfigWatcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace kvmem::http
