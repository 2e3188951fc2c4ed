// Peer ids (BEP 20 / Azureus style): generating ours and recognising the
// client behind somebody else's, for logs.
#pragma once

#include "protocol/sha1.hpp"

#include <string>
#include <string_view>

namespace actorrent {

/// Our Azureus-style client tag: "-AT" + four version characters + "-".
inline constexpr std::string_view peer_id_prefix = "-AT0001-";

/// Characters used for the random part of generated peer ids: ASCII letters and
/// digits, so the id is printable and needs no escaping in tracker URLs.
inline constexpr std::string_view peer_id_alphabet =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh peer id: `prefix` (at most 20 bytes; a longer one is cut) followed by
/// random characters from peer_id_alphabet drawn uniformly from the kernel's
/// CSPRNG (getrandom(2), falling back to std::random_device). With the default
/// prefix that is "-AT0001-" + 12 random characters (~71 bits of entropy).
sha1_hash generate_peer_id(std::string_view prefix = peer_id_prefix);

/// 64 random bits from the same source (a seed; one getrandom call, where a
/// std::random_device is constructed, parsed and opened each time).
std::uint64_t random_seed();

/// The client behind a peer id, as far as its prefix tells.
struct client_info {
  /// Human-readable client name, e.g. "libtorrent", "Transmission", "aria2",
  /// or "unknown".
  std::string_view name = "unknown";
  /// Version decoded from the prefix, e.g. "2.0.9"; empty when not decodable.
  std::string version;
  /// The raw Azureus-style two-letter code (e.g. "LT"), empty for other styles.
  std::string code;
};

/// Recognises Azureus-style ids ("-XXvvvv-": AT actorrent, LT libtorrent,
/// lt libtorrent (rakshasa), TR Transmission, qB qBittorrent, UT uTorrent,
/// DE Deluge, and more), aria2's "A2-<major>-<minor>-<patch>-" and mainline
/// "M<major>-<minor>-<patch>-" ids. Anything else is "unknown".
client_info identify_client(const sha1_hash& peer_id);

/// One line for logs: "libtorrent 2.0.9", "unknown client -XY1234-" for an
/// unrecognised Azureus code, or "unknown".
std::string describe_client(const sha1_hash& peer_id);

} // namespace actorrent
