// The daemon's session actor: supervises every torrent actor of `actorrent
// daemon`, shares one listener among them, restores them from the state
// directory at start (resume data: unchanged files are not hashed again),
// enforces the global limits and the queue, and answers the JSON-RPC API.
//
// - Torrents start `queued` (no tick, no peers, no check). The session starts
//   at most limits.active_checks start-up checks at once (event-driven: the
//   next starts when one ends), so 1,000 restored torrents do not all stat and
//   hash at once.
// - Queue: at most limits.active_downloads downloading and limits.active_seeds
//   seeding (0: no limit); a download that received nothing for
//   limits.stalled_after seconds does not count. Extra torrents are paused by
//   the session and shown as `queued`; torrents paused by the user are `paused`.
// - Limits, once a second: the global upload and download rates are split
//   among the running torrents by what each uses (logic/rate_split); each
//   torrent may grow its peer connections into what is left of
//   limits.peers_global; half-open connects are shared evenly among downloads.
// - Seeding limits: a seed whose ratio reaches its ratio limit (torrent, label,
//   seeding.ratio_limit) or that uploaded nothing for seeding.idle_seed_time is
//   paused, with the reason in `queue_reason`.
// - Sleeping torrents: a torrent is spawned only when its start-up check may
//   begin (queued ones waiting for it have no actor). A seeding or finished
//   torrent that has had no peer for seeding.sleep_after and is quiet (nothing
//   to dial now, no disk work, its announcer idle) hands over a nap and quits,
//   announcer and all; the session keeps the nap in the torrent's entry and
//   spawns it again from it, without a check, when a peer dials in (the
//   listener asks the session, its waker, for an info-hash no torrent is
//   attached for), when its announcer's next announce is due, or for an API
//   call that needs it (stop, remove, reannounce, the queue's pause). At
//   shutdown only sleeping torrents that announced `started` wake, to say
//   `stopped`.
// - The API reads the session's cached view of each torrent (refreshed every
//   second from the running ones, and at every lifecycle event), so
//   torrents.list never waits on a torrent, let alone on a disk.
// - State directory: torrents/ID.torrent (the metainfo as added),
//   torrents/ID.json (save path, labels, paused, limits, files), resume/ID.resume,
//   config-api.json (config.set); all written by the detached state worker.
#pragma once

#include "daemon/config.hpp"
#include "messages/interfaces.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace actorrent::daemon {

/// What the daemon tells the outside (the change feed and the metrics live
/// elsewhere and subscribe here). Called from the session's thread: keep it
/// quick and thread-safe (copy the event into a queue).
///   {"type": "added"|"state"|"completed"|"removed"|"error"|"stats", "id": ..., ...}
struct daemon_hooks {
  std::function<void(const nlohmann::json& event)> on_event;
};

/// A torrent found in the state directory at start.
struct stored_torrent {
  std::string id;
  std::string metainfo;   ///< the .torrent's bytes
  nlohmann::json meta;    ///< torrents/ID.json (may be null: defaults)
};

struct session_config {
  loaded_config config;
  std::vector<std::string> env;         ///< for config.reload
  std::string config_path;
  listener_actor listener;
  std::uint16_t listen_port = 0;        ///< what the listener got (announced)
  std::vector<stored_torrent> restore;  ///< torrents to bring back
  daemon_hooks hooks;
  /// Called after the configuration changed (config.set, config.reload), from
  /// the session's thread; the HTTP layer refreshes its tokens and hosts.
  std::function<void(const loaded_config&)> on_config;
  std::shared_ptr<std::atomic<bool>> ready; ///< set once every restored torrent has been checked
  bool verbose = false;
};

/// Spawns the session (and its detached state worker).
session_actor spawn_session(caf::actor_system& sys, session_config cfg);

/// The state worker (detached), exposed for tests.
state_store_actor spawn_state_store(caf::actor_system& sys);

/// Reads the state directory: every torrents/ID.torrent with its ID.json.
/// Unreadable entries are skipped with a line in `problems`.
std::vector<stored_torrent> read_state_dir(const std::string& state_dir, std::vector<std::string>& problems);

/// Makes the state directory's folders (torrents/, resume/); an error message or empty.
std::string prepare_state_dir(const std::string& state_dir);

/// config-api.json of the state directory (an empty map when absent).
result<std::map<std::string, nlohmann::json>> read_api_overrides(const std::string& state_dir);

/// Asks the session from a thread that is not an actor (HTTP threads, main):
/// one API call with a timeout. Returns the result or throws rpc::rpc_error.
nlohmann::json ask_session(caf::actor_system& sys, const session_actor& session, const std::string& method,
                           const nlohmann::json& params, std::string blob, std::chrono::milliseconds timeout);

/// The same, with the result as the session wrote it (JSON text, not parsed).
std::string ask_session_text(caf::actor_system& sys, const session_actor& session, const std::string& method,
                             const nlohmann::json& params, std::string blob, std::chrono::milliseconds timeout);

} // namespace actorrent::daemon
