// The peer set of one torrent: who we may dial, who is connected or
// connecting, who is banned, as a plain single-threaded class (the torrent
// actor asks it and carries out what it says).
//
// Candidates are endpoints from trackers and the command line. A candidate is
// dialled when it is not connected, not banned and its back-off has passed,
// while the set has fewer than `max_peers` connections (connecting ones and
// incoming ones included) and fewer than `max_half_open` connects in flight.
//
// Back-off: a connect that fails (refused, timed out) or a connection that
// ends after having lasted a while makes the candidate wait
// `failure_backoff * 2^(failures-1)` (10 s, 20 s, 40 s, ...) up to
// `max_backoff`; a completed handshake resets the failures. A connection the
// remote closes within `early_close_window` of its TCP connect (transmission
// does so when we come within a second of its start) is retried sooner:
// after `early_retry`, doubled on each repeat up to `max_backoff`, so a peer
// that always hangs up at once is not hammered.
//
// Bans: by endpoint for peers we dial; incoming peers are refused by address,
// since the port an incoming peer connects from is not the one it listens on.
// A peer can be banned after its connection is gone (a hash failure judged
// later): the set remembers every index it gave out.
//
// Duplicates: the same peer id on two connections (two addresses of one host,
// or both sides dialling each other at once). Both ends must keep the same
// connection, so the one whose initiator has the lower peer id stays. The
// loser's candidate backs off as after a failure, not as after an early close.
//
// No clock inside: every call that needs the time takes it, so tests replay
// any schedule exactly.
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/sha1.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace actorrent::logic {

using peer_set_clock = std::chrono::steady_clock;

struct peer_set_config {
  std::uint32_t max_peers = 50;                 ///< connections, connecting and incoming included
  std::uint32_t max_half_open = 8;              ///< outgoing connects in flight at once
  std::chrono::milliseconds failure_backoff{10000}; ///< first wait after a failure, doubled on each
  std::chrono::milliseconds max_backoff{300000};
  std::chrono::milliseconds early_close_window{10000}; ///< a connection shorter than this closed early
  std::chrono::milliseconds early_retry{1000};   ///< first wait after an early close, doubled on each
  std::chrono::milliseconds attach_timeout{30000}; ///< an accepted incoming peer whose connection never came
};

class peer_set {
public:
  using time_point = peer_set_clock::time_point;
  using index = std::uint32_t;

  /// One connection: outgoing (connecting until its TCP connect is done) or incoming.
  struct connection {
    peer_endpoint endpoint;
    bool incoming = false;
    bool connecting = false;   ///< outgoing connect in flight (half-open)
    bool attached = false;     ///< the actor holds the connection's handle
    bool handshaken = false;
    sha1_hash id;              ///< the remote's peer id, once handshaken
    time_point since{};        ///< TCP connect done (outgoing) or accepted (incoming)
    std::string pending_drop;  ///< close it as soon as its handle arrives
    bool duplicate = false;    ///< lost to another connection to the same peer
  };

  /// Why an incoming peer is refused.
  enum class refusal { none, limit, banned };

  /// What a completed handshake decided.
  struct handshake_result {
    bool keep = true;                ///< this connection stays
    std::optional<index> drop;       ///< the duplicate to close (this one or the other)
  };

  explicit peer_set(peer_set_config cfg = {}, sha1_hash our_id = {});

  const peer_set_config& config() const { return cfg_; }

  /// New connection limits (the daemon shares global ones among torrents);
  /// connections above them are not closed, only no new ones are made.
  void set_limits(std::uint32_t max_peers, std::uint32_t max_half_open) {
    cfg_.max_peers = max_peers;
    cfg_.max_half_open = max_half_open;
  }

  // ---- candidates ------------------------------------------------------------

  /// Adds endpoints to dial (port 0 and banned ones are ignored, known ones
  /// keep their back-off). Returns how many were new.
  std::size_t add_candidates(const std::vector<peer_endpoint>& eps);

  /// The candidates to dial now, each registered as a connecting connection
  /// with a fresh index. Empty when a limit is reached.
  std::vector<std::pair<index, peer_endpoint>> dial(time_point now);

  /// When a candidate may be dialled again (for tests and diagnostics).
  std::optional<time_point> next_attempt(const peer_endpoint& ep) const;

  /// Whether a candidate may be dialled within `horizon` of `now` (a torrent
  /// that would dial soon is not quiet: candidates further off are forgotten
  /// when it sleeps, and the tracker names them again).
  bool dial_due(time_point now, std::chrono::seconds horizon) const;

  // ---- connection events ------------------------------------------------------

  /// An outgoing connect succeeded. False if the index is unknown or not connecting.
  bool connected(index idx, time_point now);

  /// An outgoing connect failed: the candidate backs off.
  void connect_failed(index idx, time_point now);

  /// Takes an incoming peer, or says why not.
  refusal accept(const peer_endpoint& ep, time_point now, index& out);

  /// The actor now holds the connection's handle; returns the reason to drop
  /// it at once if one was recorded before the handle came (else empty).
  std::string attach(index idx);

  /// The remote's handshake arrived with peer id `id`.
  handshake_result handshake(index idx, const sha1_hash& id);

  /// Records that a connection without a handle yet is to be closed on arrival.
  void drop_on_attach(index idx, std::string reason);

  /// A connection is gone (its handle is down, or it never got one). Outgoing
  /// ones back off (an early close briefly, see above); `count` false frees
  /// the candidate without a back-off (we closed it ourselves).
  void closed(index idx, time_point now, bool count = true);

  /// Incoming peers accepted more than `attach_timeout` ago whose connection
  /// never arrived (the listener gave up on our answer): removed, returned.
  std::vector<index> expire_unattached(time_point now);

  /// Forgets every connection without back-off (paused or stopping); the
  /// candidates, their back-off and the bans stay.
  void clear_connections();

  // ---- bans -------------------------------------------------------------------

  /// Bans the endpoint of a connection, present or gone; returns it.
  std::optional<peer_endpoint> ban(index idx);
  bool banned(const peer_endpoint& ep) const { return banned_.count(ep) != 0; }
  bool banned_address(const peer_endpoint& ep) const;
  std::size_t banned_count() const { return banned_.size(); }
  const std::set<peer_endpoint>& banned_list() const { return banned_; }

  // ---- queries ----------------------------------------------------------------

  const connection* find(index idx) const;
  const std::unordered_map<index, connection>& connections() const { return conns_; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(conns_.size()); }
  std::uint32_t half_open() const { return half_open_; }
  std::size_t candidates() const { return known_.size(); }
  /// The endpoint an index was given for, also after its connection is gone.
  std::optional<peer_endpoint> endpoint(index idx) const;

private:
  struct candidate {
    time_point next_attempt{};
    std::uint32_t failures = 0;     ///< failed connects or ended connections since the last handshake
    std::uint32_t early_closes = 0; ///< connections closed early in a row
    bool connected = false;
  };

  void back_off(candidate& c, time_point now, bool early);
  index add_connection(connection c);

  peer_set_config cfg_;
  sha1_hash our_id_;
  std::map<peer_endpoint, candidate> known_;
  std::unordered_map<index, connection> conns_;
  std::unordered_map<index, peer_endpoint> history_; ///< every index given out
  std::set<peer_endpoint> banned_;
  std::uint32_t half_open_ = 0;
  index next_index_ = 1;
};

} // namespace actorrent::logic
