#include "protocol/tracker_udp.hpp"

#include <cstdio>
#include <cstring>
#include <type_traits>

namespace actorrent::tracker::udp {

namespace {

using peer_address_detail::quote;

// ---- big-endian primitives -------------------------------------------------------

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_hash(std::string& out, const sha1_hash& h) {
  out.append(h.view());
}

// Reads fixed-width big-endian integers; the caller has checked the length.
template <class T>
T get_be(std::string_view p, std::size_t pos) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<T>(v << 8 | static_cast<unsigned char>(p[pos + i]));
  return v;
}

sha1_hash get_hash(std::string_view p, std::size_t pos) {
  sha1_hash h;
  std::memcpy(h.bytes.data(), p.data() + pos, 20);
  return h;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", static_cast<unsigned>(v));
  return buf;
}

std::string action_text(std::uint32_t a) {
  auto s = std::to_string(a);
  if (a <= 3)
    s += std::string{" ("} + to_string(static_cast<action>(a)) + ")";
  return s;
}

error_info too_short(const char* what, std::size_t have, std::size_t need) {
  return make_error(std::string{what} + " too short: " + std::to_string(have)
                    + " bytes, need at least " + std::to_string(need));
}

// The tracker's error message, made safe to show: trailing NULs dropped, control
// bytes replaced by '?', at most 200 bytes.
std::string sanitize_message(std::string_view msg) {
  while (!msg.empty() && msg.back() == '\0')
    msg.remove_suffix(1);
  constexpr std::size_t max_len = 200;
  std::string out;
  for (std::size_t i = 0; i < msg.size() && i < max_len; ++i) {
    auto c = static_cast<unsigned char>(msg[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (msg.size() > max_len)
    out += "...";
  return out;
}

// BEP 41 options after the fixed announce request: 0 ends them, 1 is a one-byte
// NOP, every other type has a length byte; URLData (2) chunks are concatenated.
result<std::string> parse_options(std::string_view p, std::size_t pos) {
  std::string url;
  while (pos < p.size()) {
    auto type = static_cast<unsigned char>(p[pos]);
    if (type == 0)
      break;
    if (type == 1) {
      ++pos;
      continue;
    }
    if (pos + 1 >= p.size())
      return make_error("bep 41 option " + std::to_string(type) + " without length", pos);
    auto len = static_cast<unsigned char>(p[pos + 1]);
    if (pos + 2 + len > p.size())
      return make_error("bep 41 option " + std::to_string(type) + " of length "
                          + std::to_string(len) + " exceeds the packet",
                        pos);
    if (type == 2)
      url.append(p.substr(pos + 2, len));
    pos += 2 + len;
  }
  return url;
}

} // namespace

const char* to_string(action a) {
  switch (a) {
    case action::connect:
      return "connect";
    case action::announce:
      return "announce";
    case action::scrape:
      return "scrape";
    case action::error:
      return "error";
  }
  return "unknown";
}

// ---- encoding --------------------------------------------------------------------

std::string encode(const connect_request& r) {
  std::string out;
  out.reserve(connect_request_size);
  put_u64(out, protocol_id);
  put_u32(out, static_cast<std::uint32_t>(action::connect));
  put_u32(out, r.transaction_id);
  return out;
}

std::string encode(const announce_request& r) {
  std::string out;
  out.reserve(announce_request_size + r.url_data.size() + 2 * (r.url_data.size() / 255 + 1));
  put_u64(out, r.connection_id);
  put_u32(out, static_cast<std::uint32_t>(action::announce));
  put_u32(out, r.transaction_id);
  put_hash(out, r.info_hash);
  put_hash(out, r.peer_id);
  put_u64(out, r.downloaded);
  put_u64(out, r.left);
  put_u64(out, r.uploaded);
  put_u32(out, static_cast<std::uint32_t>(r.event));
  put_u32(out, r.ip);
  put_u32(out, r.key);
  put_u32(out, static_cast<std::uint32_t>(r.num_want));
  put_u16(out, r.port);
  std::string_view rest = r.url_data;
  while (!rest.empty()) {
    auto n = rest.size() < 255 ? rest.size() : std::size_t{255};
    out.push_back(2);
    out.push_back(static_cast<char>(n));
    out.append(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  return out;
}

std::string encode(const scrape_request& r) {
  std::string out;
  out.reserve(16 + 20 * r.info_hashes.size());
  put_u64(out, r.connection_id);
  put_u32(out, static_cast<std::uint32_t>(action::scrape));
  put_u32(out, r.transaction_id);
  for (const auto& h : r.info_hashes)
    put_hash(out, h);
  return out;
}

std::string encode(const request& r) {
  return std::visit([](const auto& x) { return encode(x); }, r);
}

std::string encode(const connect_response& r) {
  std::string out;
  out.reserve(connect_response_size);
  put_u32(out, static_cast<std::uint32_t>(action::connect));
  put_u32(out, r.transaction_id);
  put_u64(out, r.connection_id);
  return out;
}

std::string encode(const announce_response& r, address_family family) {
  std::string out;
  out.reserve(announce_response_header_size
              + r.peers.size() * peer_endpoint::compact_size(family));
  put_u32(out, static_cast<std::uint32_t>(action::announce));
  put_u32(out, r.transaction_id);
  put_u32(out, r.interval);
  put_u32(out, r.leechers);
  put_u32(out, r.seeders);
  for (const auto& p : r.peers)
    if (p.family() == family)
      p.append_compact(out);
  return out;
}

std::string encode(const scrape_response& r) {
  std::string out;
  out.reserve(8 + 12 * r.entries.size());
  put_u32(out, static_cast<std::uint32_t>(action::scrape));
  put_u32(out, r.transaction_id);
  for (const auto& e : r.entries) {
    put_u32(out, e.seeders);
    put_u32(out, e.completed);
    put_u32(out, e.leechers);
  }
  return out;
}

std::string encode(const error_response& r) {
  std::string out;
  out.reserve(8 + r.message.size());
  put_u32(out, static_cast<std::uint32_t>(action::error));
  put_u32(out, r.transaction_id);
  out += r.message;
  return out;
}

std::string encode(const response& r, address_family family) {
  return std::visit(
    [family](const auto& x) {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, announce_response>)
        return encode(x, family);
      else
        return encode(x);
    },
    r);
}

// ---- decoding --------------------------------------------------------------------

result<request> parse_request(std::string_view p) {
  if (p.size() < 16)
    return too_short("request", p.size(), 16);
  auto connection_id = get_be<std::uint64_t>(p, 0);
  auto act = get_be<std::uint32_t>(p, 8);
  auto txid = get_be<std::uint32_t>(p, 12);
  switch (act) {
    case static_cast<std::uint32_t>(action::connect): {
      if (connection_id != protocol_id) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(connection_id));
        return make_error(std::string{"connect request with wrong protocol id "} + buf, 0);
      }
      return request{connect_request{txid}};
    }
    case static_cast<std::uint32_t>(action::announce): {
      if (p.size() < announce_request_size)
        return too_short("announce request", p.size(), announce_request_size);
      announce_request r;
      r.connection_id = connection_id;
      r.transaction_id = txid;
      r.info_hash = get_hash(p, 16);
      r.peer_id = get_hash(p, 36);
      r.downloaded = get_be<std::uint64_t>(p, 56);
      r.left = get_be<std::uint64_t>(p, 64);
      r.uploaded = get_be<std::uint64_t>(p, 72);
      auto ev = get_be<std::uint32_t>(p, 80);
      if (ev > 3)
        return make_error("invalid announce event " + std::to_string(ev), 80);
      r.event = static_cast<event>(ev);
      r.ip = get_be<std::uint32_t>(p, 84);
      r.key = get_be<std::uint32_t>(p, 88);
      r.num_want = static_cast<std::int32_t>(get_be<std::uint32_t>(p, 92));
      r.port = get_be<std::uint16_t>(p, 96);
      auto url = parse_options(p, announce_request_size);
      if (!url)
        return url.error();
      r.url_data = std::move(*url);
      return request{std::move(r)};
    }
    case static_cast<std::uint32_t>(action::scrape): {
      auto payload = p.size() - 16;
      if (payload % 20 != 0)
        return make_error("scrape request info-hash bytes " + std::to_string(payload)
                            + " are not a multiple of 20",
                          16);
      auto n = payload / 20;
      if (n == 0)
        return make_error("scrape request without info-hashes", 16);
      if (n > max_scrape_hashes)
        return make_error("scrape request with " + std::to_string(n)
                            + " info-hashes exceeds the limit of "
                            + std::to_string(max_scrape_hashes),
                          16);
      scrape_request r;
      r.connection_id = connection_id;
      r.transaction_id = txid;
      r.info_hashes.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        r.info_hashes.push_back(get_hash(p, 16 + 20 * i));
      return request{std::move(r)};
    }
    default:
      return make_error("unexpected action " + action_text(act) + " in a request", 8);
  }
}

result<response> decode_response(std::string_view p, address_family family) {
  if (p.size() < 8)
    return too_short("response", p.size(), 8);
  auto act = get_be<std::uint32_t>(p, 0);
  auto txid = get_be<std::uint32_t>(p, 4);
  switch (act) {
    case static_cast<std::uint32_t>(action::connect): {
      if (p.size() < connect_response_size)
        return too_short("connect response", p.size(), connect_response_size);
      return response{connect_response{txid, get_be<std::uint64_t>(p, 8)}};
    }
    case static_cast<std::uint32_t>(action::announce): {
      if (p.size() < announce_response_header_size)
        return too_short("announce response", p.size(), announce_response_header_size);
      announce_response r;
      r.transaction_id = txid;
      r.interval = get_be<std::uint32_t>(p, 8);
      r.leechers = get_be<std::uint32_t>(p, 12);
      r.seeders = get_be<std::uint32_t>(p, 16);
      auto peers = p.substr(announce_response_header_size);
      auto stride = peer_endpoint::compact_size(family);
      if (peers.size() % stride != 0)
        return make_error("announce response peers length " + std::to_string(peers.size())
                            + " is not a multiple of " + std::to_string(stride) + " ("
                            + to_string(family) + ")",
                          announce_response_header_size);
      auto skipped = parse_compact_peers(peers, family, r.peers);
      if (!skipped) // unreachable: the length was checked above
        return skipped.error();
      return response{std::move(r)};
    }
    case static_cast<std::uint32_t>(action::scrape): {
      auto payload = p.size() - 8;
      if (payload % 12 != 0)
        return make_error("scrape response payload length " + std::to_string(payload)
                            + " is not a multiple of 12",
                          8);
      scrape_response r;
      r.transaction_id = txid;
      r.entries.reserve(payload / 12);
      for (std::size_t pos = 8; pos < p.size(); pos += 12)
        r.entries.push_back(scrape_entry{get_be<std::uint32_t>(p, pos),
                                         get_be<std::uint32_t>(p, pos + 4),
                                         get_be<std::uint32_t>(p, pos + 8)});
      return response{std::move(r)};
    }
    case static_cast<std::uint32_t>(action::error):
      return response{error_response{txid, std::string{p.substr(8)}}};
    default:
      return make_error("unknown action " + std::to_string(act), 0);
  }
}

result<response> parse_response(std::string_view p, action expected,
                                 std::uint32_t transaction_id, address_family family) {
  if (p.size() < 8)
    return too_short("response", p.size(), 8);
  auto act = get_be<std::uint32_t>(p, 0);
  auto txid = get_be<std::uint32_t>(p, 4);
  if (txid != transaction_id)
    return make_error("transaction id mismatch: expected " + hex32(transaction_id) + ", got "
                        + hex32(txid),
                      4);
  if (act == static_cast<std::uint32_t>(action::error) && expected != action::error)
    return make_error("tracker error: " + sanitize_message(p.substr(8)));
  if (act != static_cast<std::uint32_t>(expected))
    return make_error("unexpected action " + action_text(act) + ", expected "
                        + action_text(static_cast<std::uint32_t>(expected)),
                      0);
  return decode_response(p, family);
}

result<connect_response> parse_connect_response(std::string_view packet,
                                                std::uint32_t transaction_id) {
  auto r = parse_response(packet, action::connect, transaction_id);
  if (!r)
    return r.error();
  return std::get<connect_response>(std::move(*r));
}

result<announce_response> parse_announce_response(std::string_view packet,
                                                  std::uint32_t transaction_id,
                                                  address_family family) {
  auto r = parse_response(packet, action::announce, transaction_id, family);
  if (!r)
    return r.error();
  return std::get<announce_response>(std::move(*r));
}

result<scrape_response> parse_scrape_response(std::string_view packet,
                                              std::uint32_t transaction_id) {
  auto r = parse_response(packet, action::scrape, transaction_id);
  if (!r)
    return r.error();
  return std::get<scrape_response>(std::move(*r));
}

// ---- helpers ---------------------------------------------------------------------

announce_request make_announce_request(const tracker::announce_request& r,
                                       std::uint64_t connection_id,
                                       std::uint32_t transaction_id, std::string url_data) {
  announce_request out;
  out.connection_id = connection_id;
  out.transaction_id = transaction_id;
  out.info_hash = r.info_hash;
  out.peer_id = r.peer_id;
  out.downloaded = r.downloaded;
  out.left = r.left;
  out.uploaded = r.uploaded;
  out.event = r.event;
  out.key = r.key.value_or(0);
  out.num_want = r.numwant < 0 ? -1 : static_cast<std::int32_t>(r.numwant);
  out.port = r.port;
  out.url_data = std::move(url_data);
  return out;
}

result<tracker_url> parse_url(std::string_view url) {
  constexpr std::string_view scheme = "udp://";
  bool ok = url.size() >= scheme.size();
  for (std::size_t i = 0; ok && i < scheme.size(); ++i) {
    auto c = url[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    ok = c == scheme[i];
  }
  if (!ok)
    return make_error("not a udp:// url: " + quote(url));
  auto rest = url.substr(scheme.size());
  if (auto hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  auto end = rest.find_first_of("/?");
  auto authority = rest.substr(0, end);
  if (authority.empty())
    return make_error("udp tracker url has no host: " + quote(url));
  auto hp = parse_host_port(authority);
  if (!hp)
    return make_error("udp tracker url: " + hp.error().message);
  tracker_url out;
  out.host = std::move(hp->host);
  out.port = hp->port;
  if (end != std::string_view::npos)
    out.request_string = std::string{rest.substr(end)};
  return out;
}

} // namespace actorrent::tracker::udp
