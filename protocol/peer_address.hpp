// Peer and tracker addresses shared by the tracker codecs, magnet links and the
// rest of the client: a numeric IPv4/IPv6 endpoint (`peer_endpoint`), the BEP 23 /
// BEP 7 compact encodings, and a textual "host:port" (`host_port`) that may also
// name a DNS host.
//
// Header-only on purpose: it is a small vocabulary type. IP literals are parsed
// and printed with inet_pton/inet_ntop, so "1.2.3.4" (no leading zeros, exactly
// four parts) and every RFC 4291 IPv6 text form (including "::ffff:1.2.3.4") are
// accepted; zone ids ("fe80::1%eth0") are not.
#pragma once

#include "protocol/result.hpp"
#include "protocol/text.hpp"

#include <arpa/inet.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent {

enum class address_family : std::uint8_t { v4, v6 };

inline const char* to_string(address_family f) {
  return f == address_family::v4 ? "ipv4" : "ipv6";
}

namespace peer_address_detail {

/// Untrusted text for an error message: at most 64 bytes, non-printable bytes
/// as \xNN, wrapped in single quotes.
using text::quote;

inline std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5)
    return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

inline bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '-' || c == '.' || c == '_';
}

} // namespace peer_address_detail

/// A numeric peer address: IPv4 or IPv6 plus a port. IPv4 addresses use the
/// first 4 bytes of `addr`; the remaining 12 bytes are always zero (so the
/// defaulted comparisons are meaningful). All bytes are in network order.
struct peer_endpoint {
  std::array<std::uint8_t, 16> addr{};
  bool v6 = false;
  std::uint16_t port = 0;

  /// Bytes of one compact entry: 6 for IPv4 (BEP 23), 18 for IPv6 (BEP 7).
  static constexpr std::size_t compact_size(address_family f) {
    return f == address_family::v4 ? 6 : 18;
  }

  address_family family() const noexcept {
    return v6 ? address_family::v6 : address_family::v4;
  }

  /// IPv4 from four bytes a.b.c.d.
  static peer_endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port) {
    peer_endpoint e;
    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    e.port = port;
    return e;
  }

  /// Parses an IP literal without brackets ("1.2.3.4", "::1"); nullopt if the
  /// text is not a numeric IPv4 or IPv6 address.
  static std::optional<peer_endpoint> from_ip(std::string_view ip, std::uint16_t port) {
    char buf[INET6_ADDRSTRLEN + 1];
    if (ip.empty() || ip.size() >= sizeof(buf))
      return std::nullopt;
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    peer_endpoint e;
    e.port = port;
    if (ip.find(':') == std::string_view::npos) {
      if (inet_pton(AF_INET, buf, e.addr.data()) != 1)
        return std::nullopt;
    } else {
      if (inet_pton(AF_INET6, buf, e.addr.data()) != 1)
        return std::nullopt;
      e.v6 = true;
    }
    return e;
  }

  /// Decodes one compact entry: 6 bytes (IPv4) or 18 bytes (IPv6), address then
  /// port, network order. nullopt on any other length.
  static std::optional<peer_endpoint> from_compact(std::string_view bytes) {
    peer_endpoint e;
    std::size_t n;
    if (bytes.size() == 6) {
      n = 4;
    } else if (bytes.size() == 18) {
      n = 16;
      e.v6 = true;
    } else {
      return std::nullopt;
    }
    std::memcpy(e.addr.data(), bytes.data(), n);
    e.port = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[n]) << 8
                                        | static_cast<unsigned char>(bytes[n + 1]));
    return e;
  }

  /// Appends the compact form (6 or 18 bytes) to `out`.
  void append_compact(std::string& out) const {
    out.append(reinterpret_cast<const char*>(addr.data()), v6 ? 16 : 4);
    out.push_back(static_cast<char>(port >> 8));
    out.push_back(static_cast<char>(port & 0xff));
  }

  std::string compact() const {
    std::string out;
    append_compact(out);
    return out;
  }

  /// "1.2.3.4" or "2001:db8::1" (inet_ntop's canonical form).
  std::string ip_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof(buf)) == nullptr)
      return "?";
    return buf;
  }

  /// "1.2.3.4:6881" or "[2001:db8::1]:6881".
  std::string to_string() const {
    auto ip = ip_string();
    auto p = std::to_string(port);
    return v6 ? "[" + ip + "]:" + p : ip + ":" + p;
  }

  /// Parses "1.2.3.4:6881" or "[::1]:6881"; host names are rejected.
  static result<peer_endpoint> parse(std::string_view text);

  friend auto operator<=>(const peer_endpoint&, const peer_endpoint&) = default;
};

/// Decodes a compact peer string (BEP 23 for IPv4, BEP 7 "peers6" for IPv6)
/// and appends the entries to `out`. Entries with port 0 are skipped, and so is
/// every entry once `out` holds `max_total` peers. Returns the number of skipped
/// entries, or an error if the length is not a multiple of the entry size. Never
/// reserves more than the input or `max_total` allows.
inline result<std::size_t> parse_compact_peers(std::string_view bytes, address_family family,
                                               std::vector<peer_endpoint>& out,
                                               std::size_t max_total = SIZE_MAX) {
  auto stride = peer_endpoint::compact_size(family);
  if (bytes.size() % stride != 0)
    return make_error("compact " + std::string{to_string(family)} + " peers length "
                      + std::to_string(bytes.size()) + " is not a multiple of "
                      + std::to_string(stride));
  auto count = bytes.size() / stride;
  auto room = out.size() < max_total ? max_total - out.size() : 0;
  out.reserve(out.size() + (count < room ? count : room));
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < count; ++i) {
    auto e = peer_endpoint::from_compact(bytes.substr(i * stride, stride));
    if (!e || e->port == 0 || out.size() >= max_total)
      ++skipped;
    else
      out.push_back(*e);
  }
  return skipped;
}

/// A textual address as found in magnet links (x.pe) and udp:// tracker URLs:
/// a DNS name or an IP literal plus a port. `host` never has brackets.
struct host_port {
  std::string host;
  std::uint16_t port = 0;

  /// "example.org:80", "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const {
    auto p = std::to_string(port);
    if (host.find(':') != std::string::npos)
      return "[" + host + "]:" + p;
    return host + ":" + p;
  }

  /// The numeric endpoint when `host` is an IP literal, nullopt for DNS names.
  std::optional<peer_endpoint> endpoint() const { return peer_endpoint::from_ip(host, port); }

  friend auto operator<=>(const host_port&, const host_port&) = default;
};

/// Parses "host:port", "a.b.c.d:port" or "[ipv6]:port". The port must be in
/// 1..65535. Host names may contain letters, digits, '-', '.' and '_' (at most
/// 253 bytes); a host made only of digits and dots must be a valid IPv4 address,
/// and an IPv6 address must be bracketed. Error messages quote the input.
inline result<host_port> parse_host_port(std::string_view text) {
  using peer_address_detail::quote;
  if (text.empty())
    return make_error("empty address");
  host_port out;
  std::string_view port_text;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return make_error("missing ']' in address " + quote(text));
    auto ip = text.substr(1, close - 1);
    auto ep = peer_endpoint::from_ip(ip, 1);
    if (!ep || !ep->v6)
      return make_error("invalid ipv6 address " + quote(ip));
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("missing port in address " + quote(text));
    out.host = std::string{ip};
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return make_error("missing port in address " + quote(text));
    if (text.find(':') != colon)
      return make_error("ipv6 address without brackets in " + quote(text));
    auto host = text.substr(0, colon);
    if (host.empty())
      return make_error("empty host in address " + quote(text));
    if (host.size() > 253)
      return make_error("host name longer than 253 bytes");
    bool numeric = true;
    for (char c : host) {
      if (!peer_address_detail::is_hostname_char(c))
        return make_error("invalid character in host " + quote(host));
      if (c != '.' && (c < '0' || c > '9'))
        numeric = false;
    }
    if (numeric && !peer_endpoint::from_ip(host, 1))
      return make_error("invalid ipv4 address " + quote(host));
    out.host = std::string{host};
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty())
    return make_error("missing port in address " + quote(text));
  auto port = peer_address_detail::parse_port(port_text);
  if (!port)
    return make_error("invalid port " + quote(port_text));
  out.port = *port;
  return out;
}

inline result<peer_endpoint> peer_endpoint::parse(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp)
    return hp.error();
  auto ep = hp->endpoint();
  if (!ep)
    return make_error("not an ip address: " + peer_address_detail::quote(hp->host));
  return *ep;
}

} // namespace actorrent
