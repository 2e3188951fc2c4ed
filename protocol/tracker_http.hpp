// HTTP(S) tracker protocol: announce and scrape URLs (BEP 3, BEP 48) and the
// bencoded responses, with compact IPv4 peers (BEP 23), IPv6 peers (BEP 7) and
// the dictionary peer list of BEP 3. No I/O here: the caller fetches the body.
//
// Decisions:
//  - A "failure reason" is a valid tracker answer, not a decoding error: the
//    parser returns a response with `failure_reason` set and nothing else (the
//    other keys are not even looked at, so a broken body around a failure message
//    still reports the failure).
//  - Peers that cannot be used are skipped and counted in `ignored_peers`: port 0,
//    a dictionary entry whose "ip" is a DNS name or otherwise not an IP literal, a
//    missing or out-of-range "port", and every peer beyond `max_peers`. Structural
//    problems are errors: "peers" of the wrong type, a compact string whose length
//    is not a multiple of 6 (18 for "peers6"), a list entry that is not a dict.
//  - Numbers are range-checked: interval and min interval in 0..2^32-1 seconds,
//    counts non-negative.
//  - Trailing ASCII whitespace after the bencoded dictionary is tolerated (some
//    trackers append a newline); any other trailing data is an error.
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace actorrent::tracker {

/// Announce event. The numeric values are the BEP 15 (UDP) wire codes.
enum class event : std::uint8_t { none = 0, completed = 1, started = 2, stopped = 3 };

/// "none", "completed", "started" or "stopped".
const char* to_string(event e);

/// Upper bound on peers accepted from one response unless the caller says otherwise.
inline constexpr std::size_t default_max_peers = 10'000;

struct announce_request {
  sha1_hash info_hash;
  sha1_hash peer_id;
  std::uint16_t port = 0;
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  tracker::event event = event::none;
  bool compact = true;                ///< sent as compact=1 or compact=0
  int numwant = 50;                   ///< -1 omits the parameter
  std::optional<std::uint32_t> key;   ///< sent as 8 upper-case hex digits
  std::string trackerid;              ///< omitted when empty
  std::optional<std::string> ip;      ///< optional "ip" parameter
};

/// Percent-encodes every byte except the RFC 3986 unreserved characters
/// (A-Z a-z 0-9 - . _ ~), as %XX with upper-case hex.
std::string url_encode(std::string_view bytes);

/// The announce URL with the request's query appended, in this order:
/// info_hash, peer_id, port, uploaded, downloaded, left, event (unless none),
/// compact, numwant (unless -1), key, trackerid, ip. An existing query string is
/// kept (the parameters follow an '&'); a fragment is dropped. Errors: a scheme
/// other than http:// or https:// (case-insensitive), no host, a byte outside
/// 0x21..0x7e in the URL, numwant below -1.
result<std::string> build_announce_url(std::string_view announce_url,
                                       const announce_request& req);

/// BEP 48: the scrape URL for an announce URL, made by replacing "announce" at
/// the start of the last path component with "scrape" (".../announce.php?x=1" ->
/// ".../scrape.php?x=1"). An error when the tracker has no scrape convention.
result<std::string> scrape_url(std::string_view announce_url);

/// scrape_url() plus one info_hash parameter per hash (none: scrape everything).
result<std::string> build_scrape_url(std::string_view announce_url,
                                     const std::vector<sha1_hash>& info_hashes);

struct announce_response {
  std::optional<std::string> failure_reason;
  std::optional<std::string> warning_message;
  std::optional<std::uint32_t> interval;      ///< seconds
  std::optional<std::uint32_t> min_interval;  ///< seconds
  std::optional<std::string> tracker_id;
  std::optional<std::uint64_t> complete;      ///< seeders
  std::optional<std::uint64_t> incomplete;    ///< leechers
  std::optional<peer_endpoint> external_ip;   ///< BEP 24 "external ip" (port 0)
  /// IPv4 and IPv6 peers: "peers" (compact or dictionary form) first, then "peers6".
  std::vector<peer_endpoint> peers;
  /// The "peer id" of dictionary-form peers that had a 20-byte one.
  std::vector<std::pair<peer_endpoint, sha1_hash>> peer_ids;
  /// Peer entries not returned (see the decisions at the top of this file).
  std::size_t ignored_peers = 0;

  bool operator==(const announce_response&) const = default;
};

result<announce_response> parse_announce_response(std::string_view body,
                                                  std::size_t max_peers = default_max_peers);

/// A bencoded announce response, as a tracker would send it: peers in compact
/// form ("peers" for IPv4, "peers6" for IPv6); `peer_ids` and `ignored_peers`
/// are not encoded. With `failure_reason` set only the failure is encoded.
std::string encode_announce_response(const announce_response& r);

struct scrape_stats {
  std::uint64_t complete = 0;    ///< seeders
  std::uint64_t downloaded = 0;  ///< completed downloads
  std::uint64_t incomplete = 0;  ///< leechers
  std::optional<std::string> name;

  bool operator==(const scrape_stats&) const = default;
};

struct scrape_response {
  std::optional<std::string> failure_reason;
  std::map<sha1_hash, scrape_stats> files;
  std::optional<std::uint32_t> min_request_interval; ///< "flags" -> "min_request_interval"

  bool operator==(const scrape_response&) const = default;
};

/// Parses a scrape response. Missing counters read as 0; negative ones, keys of
/// "files" that are not 20 bytes long and non-dictionary entries are errors.
/// A failure reason is returned like in parse_announce_response.
result<scrape_response> parse_scrape_response(std::string_view body);

std::string encode_scrape_response(const scrape_response& r);

} // namespace actorrent::tracker
