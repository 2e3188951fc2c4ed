// The daemon's change feed and metrics wired to its session: session.stats
// mapped onto the Prometheus families of api/metrics.hpp, and the session's
// events published on the SSE feed of api/event_feed.hpp. Both are mounted on
// the API's HTTP server with its bearer-token check (scope read).
#pragma once

#include "api/event_feed.hpp"
#include "api/metrics.hpp"
#include "daemon/http_api.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace actorrent::daemon {

/// The numbers of a session.stats answer in the metrics' snapshot (what the
/// session does not report stays zero or absent).
api::daemon_metrics_snapshot metrics_snapshot(const nlohmann::json& stats);

/// The feed, the metrics and the mounted routes; lives as long as the server.
class observability {
public:
  observability();
  /// Session events go here (daemon_hooks::on_event); thread-safe.
  void publish(const nlohmann::json& event) { feed_.publish(event); }
  /// Mounts GET /api/v1/events and GET /metrics on the API's server.
  void mount(http_api& api);
  /// Ends open event streams (before the server stops).
  void close() { feed_.close(); }

private:
  api::event_feed feed_;
  api::daemon_metrics metrics_;
  std::shared_ptr<api::events_endpoint> events_;
  std::string last_; ///< the last exposition, served when the session is slow
  std::mutex mtx_;
};

} // namespace actorrent::daemon
