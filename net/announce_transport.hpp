// One announce to one tracker URL, over HTTP(S) (libcurl) or UDP (BEP 15),
// blocking the calling thread for at most about its timeout. CAF-free: the
// tracker announcer (actors/tracker_announcer) runs these on short-lived
// detached workers, so no scheduler thread ever waits on the network, and
// keeps only tiers, intervals and back-off itself.
//
//  - http_announce (net/http_announce.hpp): libcurl's multi interface polled
//    every 100 ms, so a cancel flag stops it; redirects (5, http/https only),
//    any content encoding curl decodes, a body cap, our own hard deadline in
//    case curl's timeout does not fire.
//  - udp_transaction (net/udp_announce.hpp): connect + announce with
//    retransmissions (BEP 15's doubling, scaled to the timeout), a cached
//    connection id reused and, if the tracker rejects it, replaced once.
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/tracker_http.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actorrent::net {

struct announce_params {
  std::string url;
  tracker::announce_request request; ///< sent as the scheme says (compact is forced on)
  std::uint32_t timeout_ms = 10'000; ///< bound of the whole exchange
  std::uint64_t max_response_bytes = 1 << 20; ///< HTTP body, after decoding
  std::uint64_t udp_connection_id = 0;  ///< cached id; 0: connect first
  int udp_max_tries = 4;                ///< packets per phase (connect, announce)
  std::uint64_t rng_seed = 0;           ///< UDP transaction ids
};

struct announce_answer {
  bool ok = false;
  std::string error; ///< why not, when !ok
  std::vector<peer_endpoint> peers;
  std::uint32_t interval = 1800; ///< seconds
  std::uint32_t min_interval = 0;
  std::uint64_t seeders = 0;
  std::uint64_t leechers = 0;
  std::string warning;                  ///< cleaned tracker warning
  std::optional<std::string> trackerid; ///< HTTP "tracker id", to send back
  std::uint64_t udp_connection_id = 0;  ///< UDP id to cache (0: forget it)
};

/// Dispatches on the scheme (http, https, udp; case-insensitive); others fail
/// at once with "unsupported tracker url scheme". `cancel` (may be null) is
/// polled every 100 ms; once set the announce fails with "cancelled".
announce_answer announce(const announce_params& p, const std::atomic<bool>* cancel = nullptr);

/// "timed out after N ms".
std::string timed_out(std::uint32_t timeout_ms);

/// Untrusted tracker text for status lines: control bytes become '?', at most
/// 256 bytes (then "...").
std::string clean_text(std::string_view s);

/// Whether `s` starts with `prefix` (lower-case ASCII), ignoring ASCII case.
bool starts_with_nocase(std::string_view s, std::string_view prefix);

} // namespace actorrent::net
