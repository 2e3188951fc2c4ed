// Magnet URIs (BEP 9): "magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>&x.pe=<peer>".
//
// Decisions:
//  - The "magnet:?" prefix is matched case-insensitively; parameter keys are
//    case-sensitive. "xt.1", "tr.1", ... are accepted like "xt" and "tr".
//  - Values are percent-decoded (RFC 3986); '+' is kept literally, not read as a
//    space, because BEP 9 values are URI-encoded, not form-encoded. A malformed
//    escape ("%zz", a truncated "%4") is an error pointing at the '%'.
//  - The info-hash is 40 hex digits or 32 RFC 4648 base32 characters (no
//    padding), either case. Several btih xt's must agree. "urn:btmh:" (v2) is
//    skipped when a btih is present and an error otherwise; other xt URNs are
//    ignored when a btih is present.
//  - "tr" values keep their order; empty ones and exact duplicates are dropped.
//    They are not validated here (the tracker codecs do that).
//  - "x.pe" must be "host:port", "a.b.c.d:port" or "[v6]:port" (see
//    parse_host_port); a malformed one is an error. Duplicates are dropped.
//  - The first "dn" wins. Parameters without '=' and unknown keys are ignored.
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace actorrent {

struct magnet_link {
  sha1_hash info_hash;
  std::string display_name;          ///< empty when absent
  std::vector<std::string> trackers; ///< "tr", in order, without duplicates
  std::vector<host_port> peers;      ///< "x.pe", in order, without duplicates

  bool operator==(const magnet_link&) const = default;
};

result<magnet_link> parse_magnet(std::string_view uri);

/// "magnet:?xt=urn:btih:<40 lower-case hex>" followed by "&dn=" (when the name is
/// not empty), one "&tr=" per tracker and one "&x.pe=" per peer. Values are
/// percent-encoded except for RFC 3986 unreserved characters, so
/// parse_magnet(to_magnet_uri(m)) == m for every link parse_magnet can return.
std::string to_magnet_uri(const magnet_link& m);

} // namespace actorrent
