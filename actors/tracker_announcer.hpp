// The tracker announcer of one torrent (`announcer_actor` in
// messages/interfaces.hpp): announces to the HTTP(S) and UDP trackers of the
// torrent's BEP 12 tiers, re-announces on its own at the tracker's interval and
// reports peers and failures to the torrent.
//
// Threads and blocking:
//  - Every tracker request (one URL, one announce) runs in a short-lived
//    DETACHED worker actor, i.e. on its own thread: the CAF-free transports of
//    net/ (net/http_announce: libcurl; net/udp_announce: the BEP 15 exchange)
//    block there, each bounded by its timeout, and never on a scheduler thread
//    that other actors need. The actor itself holds only tiers, intervals,
//    back-off and what trackers asked it to remember.
//  - The announcer itself never blocks. It only decides what to ask next, so it
//    keeps reading its mailbox while a request hangs: a `stop_atom` request is
//    answered within about `stopped_timeout` even if a tracker accepts the
//    connection and never answers. spawn_announcer() therefore spawns it on the
//    scheduler (no thread per torrent); it need not be detached.
//  - The announcer also bounds every worker with a CAF request timeout (the
//    worker's own timeout plus a small grace), so a worker stuck where no timeout
//    reaches (the system resolver behind getaddrinfo for udp:// host names) only
//    costs one thread until it returns, never the announcer's progress. Workers
//    that are no longer wanted (stop, announcer gone) are cancelled through a
//    shared flag that curl's and the UDP poll loops check every 100 ms.
//
// Behaviour (BEP 3, 12, 15, 23, 7):
//  - URLs within each tier are shuffled once at start (seeded RNG). An announce
//    walks the tiers in order and each tier's URLs in order until one answers;
//    that URL moves to the front of its tier. Every failure is reported to the
//    torrent as (failed_atom, url, reason); the tracker's "failure reason" as
//    "tracker failure: <reason>".
//  - When every URL failed, the announce is retried after a back-off (5 s,
//    doubling up to 30 min by default, and never longer than the last interval a
//    tracker gave), with the same event and the latest totals.
//  - On success the torrent gets (peers_atom, announce_reply) and the announcer
//    re-announces (event none, latest totals) after the tracker's interval (at
//    least its min interval and `interval_floor`, at most 24 h). A successful
//    `stopped` announce (sent with announce_atom) schedules no re-announce.
//  - UDP trackers' error packets are reported as "tracker error: <message>".
//  - `announce_atom` always records the totals. An event other than none is
//    announced at once (or right after the walk in flight); event none is a
//    request for an early announce, honoured unless the tracker's min interval
//    has not passed yet (then it is deferred to that moment) or the announcer is
//    in back-off after a failure (then the retry carries it).
//  - The key (BEP 3/7) is random and fixed per announcer; a "tracker id" is
//    remembered per URL and sent back to that URL. UDP connection ids are cached
//    per URL for one minute.
//  - `sleep_atom` (its torrent goes to sleep, see actors/torrent.hpp): unless a
//    request is in flight or it is stopping, it hands over what it knows
//    (announce_nap: tier order, key, tracker ids, back-off, the last intervals
//    and when it would announce next) and quits without announcing anything.
//    An announcer spawned from that nap (announcer_config::nap) goes on where
//    it was: its next announce comes when the old one's would have.
//  - `stop_atom`: cancels the request in flight, sends `stopped` (the URL that
//    last answered first, then the tier order) within `stopped_timeout` in total,
//    replies true if a tracker acknowledged it and false otherwise, and then the
//    announcer terminates. The announcer also terminates (silently) when the
//    torrent actor goes down.
#pragma once

#include "logic/slot_gate.hpp"
#include "logic/splitmix.hpp"

#include "messages/interfaces.hpp"
#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <caf/actor_system.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace actorrent {

/// What a sleeping announcer hands over and a new one starts from (see the top
/// of this file). Times are on the steady clock.
struct announce_nap {
  std::vector<std::vector<std::string>> tiers; ///< in their current order (shuffled, answered first)
  std::uint32_t key = 0;
  std::uint64_t rng_state = 0;
  std::map<std::string, std::string> trackerids;
  transfer_totals totals;
  announce_event pending_event = announce_event::none;
  unsigned failures = 0;
  std::optional<std::chrono::steady_clock::time_point> last_success;
  caf::timespan min_interval{0};
  caf::timespan last_interval{0};
  std::string last_answered;
  /// Its next announce (re-announce, retry or deferral); none: it waits for the torrent.
  std::optional<std::chrono::steady_clock::time_point> due;
};

struct announcer_config {
  /// BEP 12 tiers as in the metainfo ("announce-list", or one tier holding
  /// "announce"). Empty tiers and repeated URLs are dropped.
  std::vector<std::vector<std::string>> tiers;
  sha1_hash info_hash;
  sha1_hash peer_id;
  std::uint16_t port = 0;       ///< our listen port
  int numwant = 50;             ///< -1: tracker default; `stopped` always asks for 0
  /// Bound of one tracker request (HTTP: whole transfer incl. DNS and connect;
  /// UDP: connect + announce incl. retransmissions).
  caf::timespan request_timeout = std::chrono::seconds{10};
  /// Bound of the whole final `stopped` announce (all URLs tried together).
  caf::timespan stopped_timeout = std::chrono::seconds{1};
  /// Back-off after every URL failed: `retry_initial`, doubling up to `retry_max`
  /// (and up to the last interval a tracker asked for, once one answered).
  caf::timespan retry_initial = std::chrono::seconds{5};
  caf::timespan retry_max = std::chrono::minutes{30};
  /// Re-announce no sooner than this, whatever interval a tracker asks for.
  caf::timespan interval_floor = std::chrono::seconds{10};
  /// Largest HTTP response body accepted (after content decoding).
  std::size_t max_response_bytes = 1 << 20;
  /// UDP packets sent per phase (connect, announce) within the request timeout.
  int udp_max_tries = 4;
  /// Seed of the announcer's RNG (tier shuffle, key, transaction ids);
  /// nullopt: random_seed() (the kernel CSPRNG).
  std::optional<std::uint64_t> seed;
  /// Where peers and failures go.
  torrent_actor torrent;
  /// Go on from a sleeping announcer's state (tiers as they were, no shuffle;
  /// `seed` is then ignored); null: a fresh start.
  announce_nap_ptr nap;
  /// Shared by the announcers of a process that bounds how many talk to a
  /// tracker at once (the daemon): a walk over the tiers waits for a slot and
  /// holds it until it ends. The final `stopped` announce does not wait (it is
  /// bounded by stopped_timeout). Null: no bound.
  std::shared_ptr<logic::slot_gate> gate;
};

/// Checks a config: at least one tracker URL, a torrent handle, positive
/// timeouts, retry_initial <= retry_max, numwant >= -1, udp_max_tries >= 1,
/// max_response_bytes > 0.
status validate(const announcer_config& cfg);

/// Spawns the announcer of one torrent (see the top of this file). With an
/// invalid config the actor reports (failed_atom, "", "invalid announcer config:
/// ...") to the torrent on every announce and answers stop with false.
announcer_actor spawn_announcer(caf::actor_system& sys, announcer_config cfg);

namespace announce {

// ---- plain parts, usable without actors ---------------------------------------

/// BEP 12 tiers: URLs shuffled within each tier once, a URL that answered moved
/// to the front of its tier.
class tracker_tiers {
public:
  tracker_tiers() = default;
  /// Drops empty tiers and URLs already seen, then shuffles each tier with `rng`.
  tracker_tiers(const std::vector<std::vector<std::string>>& tiers, logic::splitmix64& rng);
  /// Tiers already in their order (an announcer's nap): taken as they are.
  static tracker_tiers in_order(std::vector<std::vector<std::string>> tiers);

  const std::vector<std::vector<std::string>>& tiers() const { return tiers_; }
  /// Every URL in the order an announce tries them: tier by tier.
  std::vector<std::string> order() const;
  /// Moves `url` to the front of its tier; false if it is not known.
  bool answered(const std::string& url);
  bool empty() const { return tiers_.empty(); }

private:
  std::vector<std::vector<std::string>> tiers_;
};

/// Back-off before retry number `failures` (1 = after the first failed walk):
/// initial * 2^(failures-1), at most `max`.
caf::timespan backoff_delay(unsigned failures, caf::timespan initial, caf::timespan max,
                            caf::timespan tracker_interval = caf::timespan{0});

/// `delay` stretched by a random share of itself below one half (from the
/// random number `r`): announcers that failed together (a daemon's torrents
/// added at once, one tracker down) do not all retry in the same second.
caf::timespan jittered(caf::timespan delay, std::uint64_t r);

/// One request to one tracker URL, handed to a worker.
struct tracker_job {
  std::string url;
  sha1_hash info_hash;
  sha1_hash peer_id;
  std::uint16_t port = 0;
  transfer_totals totals;
  announce_event event = announce_event::none;
  std::int32_t numwant = 50;
  std::uint32_t key = 0;
  std::string trackerid;                ///< sent back when not empty (HTTP only)
  std::uint32_t timeout_ms = 10'000;    ///< bound of the whole request
  std::uint64_t max_response_bytes = 1 << 20;
  std::uint64_t udp_connection_id = 0;  ///< cached id; 0 = connect first
  std::int32_t udp_max_tries = 4;
  std::uint64_t rng_seed = 0;           ///< transaction ids
};

/// What one request gave.
struct tracker_outcome {
  std::string url;
  bool ok = false;
  std::string error;                    ///< reason when !ok
  announce_reply reply;                 ///< when ok
  bool has_trackerid = false;           ///< the tracker sent a "tracker id"
  std::string trackerid;
  std::uint64_t udp_connection_id = 0;  ///< id to cache (0: forget the cached one)
};

/// Performs one request through net::announce (net/announce_transport.hpp),
/// blocking for at most about `job.timeout_ms` (plus DNS resolution for udp://
/// host names). `cancel` (may be null) is polled every 100 ms; when set, the
/// request stops with the error "cancelled". Schemes: http, https (libcurl),
/// udp (BEP 15); anything else fails at once.
tracker_outcome perform_announce(const tracker_job& job, const std::atomic<bool>* cancel = nullptr);

/// Initialises libcurl once per process (net::init_curl_once; thread-safe;
/// spawn_announcer calls it).
void init_curl_once();

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tracker_job& x) {
  return f(caf::meta::type_name("tracker_job"), x.url, x.info_hash, x.peer_id, x.port, x.totals,
           x.event, x.numwant, x.key, x.trackerid, x.timeout_ms, x.max_response_bytes,
           x.udp_connection_id, x.udp_max_tries, x.rng_seed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tracker_outcome& x) {
  return f(caf::meta::type_name("tracker_outcome"), x.url, x.ok, x.error, x.reply,
           x.has_trackerid, x.trackerid, x.udp_connection_id);
}

// worker_actor, the interface of a worker: messages/interfaces.hpp.

} // namespace announce

// ---- the actor ------------------------------------------------------------------

// announcer_impl_actor, the announcer's own mailbox: messages/interfaces.hpp.

struct announcer_state {
  using clock = std::chrono::steady_clock;

  announcer_config cfg;
  std::string config_error;             ///< non-empty: invalid config, inert actor
  logic::splitmix64 rng;
  announce::tracker_tiers tiers;
  std::uint32_t key = 0;
  std::map<std::string, std::string> trackerids;  ///< per URL
  struct udp_connection {
    std::uint64_t id = 0;
    clock::time_point expires;
  };
  std::map<std::string, udp_connection> udp_connections;  ///< per URL

  transfer_totals totals;               ///< the latest the torrent gave
  announce_event pending_event = announce_event::none;  ///< next announce's event
  std::uint64_t event_seq = 0;          ///< bumped by every event other than none

  // The walk in flight (one announce over the tiers).
  bool walking = false;
  std::uint64_t walk_id = 0;
  std::vector<std::string> walk_urls;
  std::size_t walk_index = 0;
  announce_event walk_event = announce_event::none;
  std::uint64_t walk_seq = 0;
  std::shared_ptr<std::atomic<bool>> cancel;  ///< of the worker in flight
  gate_slot_ptr slot;                   ///< the walk's turn (cfg.gate), held until the walk ends
  bool awaiting_slot = false;           ///< asked cfg.gate, not served yet

  // Timer and pacing.
  std::uint64_t timer_gen = 0;
  unsigned failures = 0;                ///< failed walks in a row
  std::optional<clock::time_point> last_success;
  caf::timespan min_interval{0};        ///< of the last successful answer
  caf::timespan last_interval{0};       ///< the re-announce delay of the last successful answer (caps the back-off)
  std::string last_answered;            ///< URL of the last success
  std::optional<clock::time_point> due; ///< when the pending timer fires (none: no timer)

  // Stopping.
  bool stopping = false;
  std::vector<caf::typed_response_promise<bool>> stop_promises;

  ~announcer_state() {
    if (cancel)
      cancel->store(true);
  }

  static inline const char* name = "tracker-announcer";
};

announcer_impl_actor::behavior_type
announcer_fn(announcer_impl_actor::stateful_pointer<announcer_state> self, announcer_config cfg);

} // namespace actorrent
