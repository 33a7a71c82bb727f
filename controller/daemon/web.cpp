// Web config, webhook guards and the HTTP server of kvmem_controller.
#include "controller/daemon/web.h"

#include "controller/daemon/routes.h"

namespace kvmem::daemon {

Result<std::unique_ptr<Web>> Web::Prepare(const Config& cfg, std::function<void()> evaluate_now) {
  std::unique_ptr<Web> web(new Web());
  if (cfg.webhook && !cfg.webhook_token_file.empty()) {
    auto token = webhook::ReadBearerTokenFile(cfg.webhook_token_file);
    if (!token) return Fail(ErrorKind::kConfig, token.error().message);
    web->webhook_options_.bearer_token = *token;
  }
  // TLS and basic auth for every path; /webhook keeps its bearer token when one is given.
  if (!cfg.web_config_file.empty()) {
    auto opened = http::WebConfigWatcher::Open(cfg.web_config_file);
    if (!opened) return Fail(ErrorKind::kConfig, "--web.config.file: " + opened.error().ToString());
    web->web_config_ = *opened;
  }
  web->basic_auth_ = web->web_config_ && !web->web_config_->Current()->config.basic_users.empty();
  const bool has_token = !web->webhook_options_.bearer_token.empty();
  if (auto exposed = webhook::CheckExposure(cfg.listen_address, has_token || web->basic_auth_);
      cfg.webhook && !exposed) {
    return Fail(ErrorKind::kConfig, exposed.error().message);
  }
  // Basic auth may leave the web config at runtime; a webhook beyond loopback without its own
  // token then refuses every request rather than run unauthenticated.
  if (web->web_config_ && !has_token && !webhook::CheckExposure(cfg.listen_address, false)) {
    web->webhook_options_.require_basic_user = true;
  }
  if (cfg.webhook) web->receiver_ = std::make_unique<webhook::Receiver>(web->webhook_options_, std::move(evaluate_now));
  return web;
}

Result<void> Web::Start(const Config& cfg, const loop::Controller& controller, const loop::LastPlan& last_plan) {
  auto handler = MakeHandler({.apply = cfg.apply,
                              .controller = &controller,
                              .last_plan = &last_plan,
                              .receiver = receiver_.get(),
                              .counters = counters_.get(),
                              .http_metrics = &http_metrics_,
                              .web_config = web_config_.get()});
  http::ServerOptions options;
  options.listen_address = cfg.listen_address;
  options.threads = 1;
  options.web_config = web_config_;
  options.counters = counters_;
  if (!webhook_options_.bearer_token.empty()) options.basic_auth_exempt_paths = {std::string(webhook::kPath)};
  options.on_reject = [receiver = receiver_.get()](int status, const http::Request& partial) {
    if (receiver && partial.path == webhook::kPath) receiver->NoteServerRefusal(status, partial);
  };
  auto server = http::Server::Start(options, handler);
  if (!server) return tl::unexpected(server.error());
  server_ = std::move(*server);
  return {};
}

void Web::Stop() {
  if (server_) server_->Stop();
}

const char* Web::WebhookMode() const {
  if (!receiver_) return "off";
  if (!webhook_options_.bearer_token.empty()) return "/webhook (bearer token)";
  return basic_auth_ ? "/webhook (basic auth)" : "/webhook (no auth, loopback)";
}

bool Web::tls() const { return web_config_ && web_config_->Current()->tls; }

}  // namespace kvmem::daemon
