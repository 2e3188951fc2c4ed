// The daemon's HTTP side (cpp-httplib, Debian's libcpp-httplib-dev): JSON-RPC
// 2.0 on `POST /api/v1/rpc`, `GET /healthz` and `GET /readyz` without
// authentication. Every other route needs a bearer token; routes added by
// other parts of the daemon (the change feed, /metrics) check it with
// authorize() on the same server object.
//
// HTTP threads never touch a torrent: each call asks the session actor with a
// timeout (api.timeout_ms) from a scoped actor; reading a .torrent named by
// `path` and the config file for config.reload happens here, in the HTTP
// thread, so that the session never waits on the disk.
#pragma once

#include "daemon/config.hpp"
#include "daemon/rpc.hpp"
#include "messages/interfaces.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace actorrent::daemon {

/// What authorize() found: ok with the token's scope, or the HTTP status to
/// answer (400 bad Host, 401 no or unknown token, 403 scope too low) and why.
struct authorization {
  bool ok = false;
  int status = 401;
  std::string message;
  scope granted = scope::read;
};

class http_api {
public:
  http_api(caf::actor_system& sys, session_actor session, const loaded_config& lc,
           std::shared_ptr<std::atomic<bool>> ready, std::string config_path);
  ~http_api();

  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// The server: mount more routes on it before start().
  httplib::Server& server() { return server_; }

  /// The Host header and the bearer token of `req`, and whether its scope
  /// reaches `needed` (admin > control > read).
  authorization authorize(const httplib::Request& req, scope needed) const;

  /// Writes a refused request's answer: a JSON-RPC error object with the
  /// status of `a` (and WWW-Authenticate on 401).
  static void refuse(httplib::Response& res, const authorization& a);

  /// A snapshot of the session's numbers (session.stats), for the metrics.
  /// Throws rpc::rpc_error when the session does not answer in time.
  nlohmann::json stats();

  /// The JSON-RPC method table (for tests and the fuzz target's shape).
  const rpc::dispatcher& methods() const { return dispatcher_; }

  /// Binds api.bind:api.port; returns the port (useful with port 0) or -1,
  /// with `error` set.
  int bind(std::string& error);

  /// Serves in a thread of its own until stop().
  void start();
  void stop();

  /// New tokens, allowed hosts and timeout (config.set, config.reload); thread-safe.
  void update(const loaded_config& lc);

  /// Called after every authorized JSON-RPC request (method, or "batch" /
  /// "invalid"; the HTTP status as text; seconds taken), e.g. for the metrics.
  /// Set before start().
  std::function<void(const std::string&, const std::string&, double)> on_call;

private:
  struct view {
    std::vector<api_token> tokens;
    std::vector<std::string> allowed_hosts;
    std::string bind;
    std::chrono::milliseconds timeout{5000};
  };
  std::shared_ptr<const view> current() const;
  nlohmann::json ask(const std::string& method, const nlohmann::json& params, std::string blob = {});
  void add_methods();
  void on_rpc(const httplib::Request& req, httplib::Response& res);

  caf::actor_system& sys_;
  session_actor session_;
  std::shared_ptr<std::atomic<bool>> ready_;
  std::string config_path_;
  std::uint64_t max_body_;
  std::size_t threads_;
  std::uint16_t port_;
  mutable std::mutex mtx_;
  std::shared_ptr<const view> view_;
  rpc::dispatcher dispatcher_;
  httplib::Server server_;
  std::thread thread_;
};

} // namespace actorrent::daemon
