#include "daemon/observability.hpp"

#include "daemon/rpc.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace actorrent::daemon {

namespace {

double num(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b) || !j[a][b].is_number())
    return 0;
  return j[a][b].get<double>();
}

// A JSON object of numbers {label: n} into a map (other values skipped).
void numbers(const nlohmann::json& j, const char* a, const char* b, std::map<std::string, double>& out) {
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b) || !j[a][b].is_object())
    return;
  for (auto& [k, v] : j[a][b].items())
    if (v.is_number())
      out[k] = v.get<double>();
}

// {"counts": [...], "sum": s} as session.stats writes a histogram; nullopt
// when it is not one.
std::optional<api::histogram_data> histogram(const nlohmann::json& h) {
  if (!h.is_object() || !h.contains("counts") || !h["counts"].is_array())
    return std::nullopt;
  api::histogram_data d;
  for (auto& c : h["counts"]) {
    if (!c.is_number_integer() || c.get<std::int64_t>() < 0)
      return std::nullopt;
    d.counts.push_back(static_cast<std::uint64_t>(c.get<std::int64_t>()));
    d.count += d.counts.back();
  }
  if (h.contains("sum") && h["sum"].is_number())
    d.sum = h["sum"].get<double>();
  return d;
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
  s.torrents_asleep = num(stats, "torrents", "asleep");
  s.torrent_wakes = num(stats, "torrents", "wakes");
  s.payload_download_bytes = num(stats, "bytes", "payload_downloaded");
  s.payload_upload_bytes = num(stats, "bytes", "payload_uploaded");
  s.download_rate = num(stats, "rates", "download");
  s.upload_rate = num(stats, "rates", "upload");
  s.protocol_download_bytes = num(stats, "bytes", "protocol_downloaded");
  s.protocol_upload_bytes = num(stats, "bytes", "protocol_uploaded");
  s.peers_half_open = num(stats, "peers", "half_open");
  s.peers_handshaking = num(stats, "peers", "handshaking");
  s.peers_seed = num(stats, "peers", "seeds");
  // connected peers that are not seeds (session.stats' "leechers" counts the
  // interested ones)
  s.peers_leecher = std::max(0.0, num(stats, "peers", "connected") - s.peers_seed);
  numbers(stats, "peers", "connect_attempts", s.connection_attempts);
  numbers(stats, "peers", "disconnects", s.disconnects);
  // counted by the engine for the daemon's life (a removed or re-checked
  // torrent does not take its share back, as a sum over the torrents would)
  s.pieces_passed = num(stats, "pieces", "passed");
  s.pieces_failed = num(stats, "pieces", "failed");
  s.announces["ok"] = num(stats, "announces", "ok");
  s.announces["error"] = num(stats, "announces", "failed");
  numbers(stats, "bytes", "wasted_by_reason", s.wasted_bytes);
  s.disk_read_bytes = num(stats, "disk", "read_bytes");
  s.disk_written_bytes = num(stats, "disk", "written_bytes");
  s.disk_queued_jobs = num(stats, "disk", "queued_jobs");
  s.disk_queued_bytes = num(stats, "disk", "queued_bytes");
  if (stats.contains("histograms") && stats["histograms"].is_object()) {
    auto& h = stats["histograms"];
    if (h.contains("hash_batch_seconds"))
      s.hash_check_seconds = histogram(h["hash_batch_seconds"]);
    if (h.contains("disk_op_seconds") && h["disk_op_seconds"].is_object())
      for (auto& [op, d] : h["disk_op_seconds"].items())
        if (auto hd = histogram(d))
          s.disk_op_seconds[op] = std::move(*hd);
  }
  for (const char* actor : {"session", "listener", "state_store"})
    if (stats.contains("mailbox") && stats["mailbox"].contains(actor))
      s.mailbox_sizes[actor] = num(stats, "mailbox", actor);
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
