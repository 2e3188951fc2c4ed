#include "daemon/observability.hpp"

#include "daemon/rpc.hpp"

namespace actorrent::daemon {

namespace {

double num(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b) || !j[a][b].is_number())
    return 0;
  return j[a][b].get<double>();
}

} // namespace

api::daemon_metrics_snapshot metrics_snapshot(const nlohmann::json& stats) {
  api::daemon_metrics_snapshot s;
  if (!stats.is_object())
    return s;
  if (stats.contains("torrents") && stats["torrents"].contains("by_state"))
    for (auto& [state, n] : stats["torrents"]["by_state"].items())
      if (n.is_number())
        s.torrents_by_state[state] = n.get<double>();
  s.payload_download_bytes = num(stats, "bytes", "payload_downloaded");
  s.payload_upload_bytes = num(stats, "bytes", "payload_uploaded");
  s.download_rate = num(stats, "rates", "download");
  s.upload_rate = num(stats, "rates", "upload");
  s.peers_seed = num(stats, "peers", "seeds");
  s.peers_leecher = num(stats, "peers", "leechers");
  s.pieces_failed = num(stats, "pieces", "hash_failures");
  s.announces["error"] = num(stats, "announces", "tracker_failures");
  s.wasted_bytes["all"] = num(stats, "bytes", "wasted");
  s.mailbox_sizes["session"] = num(stats, "mailbox", "session");
  return s;
}

observability::observability() = default;

void observability::mount(http_api& api) {
  // the feed and the metrics need the read scope, as the API's read methods do
  auto authorize = [&api](const httplib::Request& req, httplib::Response& res) {
    auto a = api.authorize(req, scope::read);
    if (!a.ok)
      http_api::refuse(res, a);
    return a.ok;
  };
  events_ = api::mount_events(api.server(), feed_, authorize);
  api::mount_metrics(
    api.server(),
    [this, &api] {
      std::lock_guard<std::mutex> guard{mtx_};
      try {
        metrics_.fill(metrics_snapshot(api.stats()));
        last_ = metrics_.render();
      } catch (const rpc::rpc_error&) {
        // the session did not answer in time: the last exposition (or the
        // families as they are) rather than an error page
        if (last_.empty())
          last_ = metrics_.render();
      }
      return last_;
    },
    authorize);
  api.on_call = [this](const std::string& method, const std::string& code, double seconds) {
    metrics_.observe_api(method, code, seconds);
  };
}

} // namespace actorrent::daemon
