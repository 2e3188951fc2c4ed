// UDP tracker protocol (BEP 15, with BEP 41 URL data): every packet in both
// directions, so the client, the tests and a fake tracker share one codec.
// All integers are big-endian. No I/O here.
//
// Decisions:
//  - Decoders accept trailing bytes after fixed-size packets (BEP 15 only says
//    "at least N bytes"); they are ignored, except that the bytes after a
//    98-byte announce request are read as BEP 41 options.
//  - The peers of an announce response are 6-byte IPv4 entries on an IPv4 socket
//    and 18-byte IPv6 entries on an IPv6 socket, so decoding takes the socket's
//    address family. Peers with port 0 are skipped, like in the HTTP parser.
//  - parse_response() turns an error packet (action 3) with the expected
//    transaction id into an error "tracker error: <message>".
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/result.hpp"
#include "protocol/sha1.hpp"
#include "protocol/tracker_http.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace actorrent::tracker::udp {

/// The magic connection id of a connect request.
inline constexpr std::uint64_t protocol_id = 0x41727101980ULL;
/// Most info-hashes one scrape request may carry.
inline constexpr std::size_t max_scrape_hashes = 74;
/// Sizes of the fixed parts.
inline constexpr std::size_t connect_request_size = 16;
inline constexpr std::size_t connect_response_size = 16;
inline constexpr std::size_t announce_request_size = 98;
inline constexpr std::size_t announce_response_header_size = 20;

enum class action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

/// "connect", "announce", "scrape", "error" or "unknown".
const char* to_string(action a);

// ---- client -> tracker ---------------------------------------------------------

struct connect_request {
  std::uint32_t transaction_id = 0;
  bool operator==(const connect_request&) const = default;
};

struct announce_request {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  sha1_hash info_hash;
  sha1_hash peer_id;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  std::uint64_t uploaded = 0;
  tracker::event event = event::none;
  std::uint32_t ip = 0;       ///< IPv4 address field as a big-endian number; 0 = sender
  std::uint32_t key = 0;
  std::int32_t num_want = -1; ///< -1 = tracker default
  std::uint16_t port = 0;
  std::string url_data;       ///< BEP 41 request string ("/announce?passkey=..."), may be empty
  bool operator==(const announce_request&) const = default;
};

struct scrape_request {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  std::vector<sha1_hash> info_hashes; ///< 1..74 when decoded
  bool operator==(const scrape_request&) const = default;
};

using request = std::variant<connect_request, announce_request, scrape_request>;

// ---- tracker -> client ---------------------------------------------------------

struct connect_response {
  std::uint32_t transaction_id = 0;
  std::uint64_t connection_id = 0;
  bool operator==(const connect_response&) const = default;
};

struct announce_response {
  std::uint32_t transaction_id = 0;
  std::uint32_t interval = 0; ///< seconds
  std::uint32_t leechers = 0;
  std::uint32_t seeders = 0;
  std::vector<peer_endpoint> peers;
  bool operator==(const announce_response&) const = default;
};

struct scrape_entry {
  std::uint32_t seeders = 0;
  std::uint32_t completed = 0;
  std::uint32_t leechers = 0;
  bool operator==(const scrape_entry&) const = default;
};

struct scrape_response {
  std::uint32_t transaction_id = 0;
  std::vector<scrape_entry> entries; ///< in the order of the request's info-hashes
  bool operator==(const scrape_response&) const = default;
};

struct error_response {
  std::uint32_t transaction_id = 0;
  std::string message;
  bool operator==(const error_response&) const = default;
};

using response = std::variant<connect_response, announce_response, scrape_response, error_response>;

// ---- encoding ------------------------------------------------------------------

std::string encode(const connect_request& r);
/// 98 bytes, plus BEP 41 URLData options (chunks of at most 255 bytes) when
/// `url_data` is not empty.
std::string encode(const announce_request& r);
/// Writes all hashes, even beyond 74 (a test may want to send a bad packet).
std::string encode(const scrape_request& r);
std::string encode(const request& r);

std::string encode(const connect_response& r);
/// Writes only the peers of `family` (6 or 18 bytes each); the others are left out
/// because a packet cannot mix them.
std::string encode(const announce_response& r, address_family family = address_family::v4);
std::string encode(const scrape_response& r);
std::string encode(const error_response& r);
std::string encode(const response& r, address_family family = address_family::v4);

// ---- decoding ------------------------------------------------------------------

/// Decodes a client -> tracker packet (what a tracker receives).
result<request> parse_request(std::string_view packet);

/// Decodes any tracker -> client packet, checking only its structure. `family`
/// is the address family of the socket it came from.
result<response> decode_response(std::string_view packet,
                                 address_family family = address_family::v4);

/// Decodes the answer to a request with `transaction_id` and `expected` action:
/// a packet with another transaction id, an error packet ("tracker error: ...")
/// and a packet with another action are errors. The result holds the alternative
/// of `expected` (error_response only if `expected` is action::error).
result<response> parse_response(std::string_view packet, action expected,
                                 std::uint32_t transaction_id,
                                 address_family family = address_family::v4);

/// Typed shorthands for parse_response().
result<connect_response> parse_connect_response(std::string_view packet,
                                                std::uint32_t transaction_id);
result<announce_response> parse_announce_response(std::string_view packet,
                                                  std::uint32_t transaction_id,
                                                  address_family family = address_family::v4);
result<scrape_response> parse_scrape_response(std::string_view packet,
                                              std::uint32_t transaction_id);

// ---- helpers -------------------------------------------------------------------

/// The UDP announce for an HTTP-style request: numwant -1 stays -1 (tracker
/// default), an absent key becomes 0, the ip field stays 0.
announce_request make_announce_request(const tracker::announce_request& r,
                                       std::uint64_t connection_id,
                                       std::uint32_t transaction_id,
                                       std::string url_data = {});

/// A parsed "udp://host:port[/path][?query]" tracker URL.
struct tracker_url {
  std::string host;           ///< DNS name or IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  std::string request_string; ///< path and query for BEP 41 (may be empty)
  bool operator==(const tracker_url&) const = default;
};

/// Parses a udp:// tracker URL (scheme case-insensitive). Errors: another scheme,
/// a missing host or port, a port outside 1..65535, bad characters in the host,
/// an unbracketed IPv6 address. A fragment is dropped.
result<tracker_url> parse_url(std::string_view url);

} // namespace actorrent::tracker::udp
