#include "protocol/tracker_http.hpp"

#include "protocol/bencode.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace actorrent::tracker {

namespace {

using text::starts_with_nocase;

using peer_address_detail::quote;

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}



struct http_url {
  std::string_view text;      ///< the URL without any fragment
  std::size_t path_start = 0; ///< index of the first byte after the authority
};

// Validates an http(s) tracker URL and strips its fragment.
result<http_url> check_http_url(std::string_view url) {
  std::size_t scheme_len;
  if (starts_with_nocase(url, "http://"))
    scheme_len = 7;
  else if (starts_with_nocase(url, "https://"))
    scheme_len = 8;
  else
    return make_error("not an http:// or https:// url: " + quote(url));
  for (std::size_t i = 0; i < url.size(); ++i) {
    auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%02x", c);
      return make_error(std::string{"invalid character "} + buf + " in tracker url", i);
    }
  }
  if (auto hash = url.find('#'); hash != std::string_view::npos)
    url = url.substr(0, hash);
  auto path_start = url.find_first_of("/?", scheme_len);
  if (path_start == std::string_view::npos)
    path_start = url.size();
  if (path_start == scheme_len)
    return make_error("tracker url has no host");
  return http_url{url, path_start};
}

void append_query_separator(std::string& out) {
  if (out.find('?') == std::string::npos)
    out.push_back('?');
  else if (out.back() != '?' && out.back() != '&')
    out.push_back('&');
}

// ---- response parsing helpers -------------------------------------------------

error_info type_error(std::string_view key, const char* what, const bencode::node& n) {
  return make_error("'" + std::string{key} + "' is not " + what, n.offset());
}

// Reads an optional string field.
status get_string(const bencode::node& dict, std::string_view key,
                  std::optional<std::string>& out) {
  auto n = dict.find(key);
  if (!n)
    return {};
  if (!n.is_string())
    return type_error(key, "a string", n);
  out = std::string{n.string_value()};
  return {};
}

// Reads an optional integer field in [0, max].
template <class T>
status get_uint(const bencode::node& dict, std::string_view key, std::optional<T>& out) {
  auto n = dict.find(key);
  if (!n)
    return {};
  if (!n.is_int())
    return type_error(key, "an integer", n);
  auto v = n.int_value();
  if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())
    return make_error("'" + std::string{key} + "' value " + std::to_string(v) + " out of range",
                      n.offset());
  out = static_cast<T>(v);
  return {};
}

template <class T>
status get_uint(const bencode::node& dict, std::string_view key, T& out) {
  std::optional<T> tmp;
  if (auto st = get_uint(dict, key, tmp); !st)
    return st;
  if (tmp)
    out = *tmp;
  return {};
}

std::string_view trim_trailing_space(std::string_view s) {
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

result<bencode::document> decode_dict(std::string_view body, const char* what) {
  auto doc = bencode::decode(trim_trailing_space(body));
  if (!doc)
    return make_error("bencode: " + doc.error().message, doc.error().offset);
  if (!doc->root().is_dict())
    return make_error(std::string{what} + " is not a dictionary", 0);
  return std::move(*doc);
}

// Parses the dictionary form of "peers": a list of {ip, port, peer id}.
status parse_peer_dicts(const bencode::node& list, std::size_t max_peers,
                        announce_response& out) {
  auto entries = list.elements();
  auto room = out.peers.size() < max_peers ? max_peers - out.peers.size() : 0;
  out.peers.reserve(out.peers.size() + std::min(entries.size(), room));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!e.is_dict())
      return make_error("peer entry " + std::to_string(i) + " is not a dictionary", e.offset());
    auto ip = e.find_string("ip");
    auto port = e.find_int("port");
    if (!ip || !port || *port <= 0 || *port > 65535 || out.peers.size() >= max_peers) {
      ++out.ignored_peers;
      continue;
    }
    auto ep = peer_endpoint::from_ip(*ip, static_cast<std::uint16_t>(*port));
    if (!ep) { // a DNS name or garbage: we only hand out numeric endpoints
      ++out.ignored_peers;
      continue;
    }
    out.peers.push_back(*ep);
    if (auto id = e.find_string("peer id"))
      if (auto h = sha1_hash::from_bytes(*id))
        out.peer_ids.emplace_back(*ep, *h);
  }
  return {};
}

status parse_compact(const bencode::node& n, std::string_view key, address_family family,
                     std::size_t max_peers, announce_response& out) {
  auto skipped = parse_compact_peers(n.string_value(), family, out.peers, max_peers);
  if (!skipped)
    return make_error("'" + std::string{key} + "' length " + std::to_string(n.string_value().size())
                        + " is not a multiple of "
                        + std::to_string(peer_endpoint::compact_size(family)),
                      n.offset());
  out.ignored_peers += *skipped;
  return {};
}

#define HTTP_TRACKER_TRY(expr)                                                                        \
  do {                                                                                             \
    if (auto st_ = (expr); !st_)                                                                   \
      return st_.error();                                                                          \
  } while (false)

} // namespace

const char* to_string(event e) {
  switch (e) {
    case event::none:
      return "none";
    case event::completed:
      return "completed";
    case event::started:
      return "started";
    case event::stopped:
      return "stopped";
  }
  return "invalid";
}

std::string url_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (unsigned char c : bytes) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
  return out;
}

result<std::string> build_announce_url(std::string_view announce_url,
                                       const announce_request& req) {
  auto url = check_http_url(announce_url);
  if (!url)
    return url.error();
  if (req.numwant < -1)
    return make_error("numwant " + std::to_string(req.numwant) + " is negative");
  std::string out{url->text};
  append_query_separator(out);
  out += "info_hash=";
  out += url_encode(req.info_hash.view());
  out += "&peer_id=";
  out += url_encode(req.peer_id.view());
  out += "&port=" + std::to_string(req.port);
  out += "&uploaded=" + std::to_string(req.uploaded);
  out += "&downloaded=" + std::to_string(req.downloaded);
  out += "&left=" + std::to_string(req.left);
  if (req.event != event::none) {
    out += "&event=";
    out += to_string(req.event);
  }
  out += req.compact ? "&compact=1" : "&compact=0";
  if (req.numwant >= 0)
    out += "&numwant=" + std::to_string(req.numwant);
  if (req.key) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08X", static_cast<unsigned>(*req.key));
    out += "&key=";
    out += buf;
  }
  if (!req.trackerid.empty())
    out += "&trackerid=" + url_encode(req.trackerid);
  if (req.ip)
    out += "&ip=" + url_encode(*req.ip);
  return out;
}

result<std::string> scrape_url(std::string_view announce_url) {
  auto url = check_http_url(announce_url);
  if (!url)
    return url.error();
  auto text = url->text;
  auto query = text.find('?', url->path_start);
  auto path_end = query == std::string_view::npos ? text.size() : query;
  auto slash = text.rfind('/', path_end == 0 ? 0 : path_end - 1);
  if (slash == std::string_view::npos || slash < url->path_start
      || text.substr(slash + 1, path_end - slash - 1).substr(0, 8) != "announce")
    return make_error("cannot derive a scrape url: the last path component of "
                      + quote(announce_url) + " does not start with 'announce'");
  std::string out{text.substr(0, slash + 1)};
  out += "scrape";
  out += text.substr(slash + 1 + 8);
  return out;
}

result<std::string> build_scrape_url(std::string_view announce_url,
                                     const std::vector<sha1_hash>& info_hashes) {
  auto out = scrape_url(announce_url);
  if (!out)
    return out;
  for (const auto& h : info_hashes) {
    append_query_separator(*out);
    *out += "info_hash=";
    *out += url_encode(h.view());
  }
  return out;
}

result<announce_response> parse_announce_response(std::string_view body,
                                                  std::size_t max_peers) {
  auto doc = decode_dict(body, "tracker response");
  if (!doc)
    return doc.error();
  auto root = doc->root();
  announce_response out;
  HTTP_TRACKER_TRY(get_string(root, "failure reason", out.failure_reason));
  if (out.failure_reason)
    return out;
  HTTP_TRACKER_TRY(get_string(root, "warning message", out.warning_message));
  HTTP_TRACKER_TRY(get_uint(root, "interval", out.interval));
  HTTP_TRACKER_TRY(get_uint(root, "min interval", out.min_interval));
  HTTP_TRACKER_TRY(get_string(root, "tracker id", out.tracker_id));
  HTTP_TRACKER_TRY(get_uint(root, "complete", out.complete));
  HTTP_TRACKER_TRY(get_uint(root, "incomplete", out.incomplete));
  if (auto n = root.find("external ip")) {
    if (!n.is_string())
      return type_error("external ip", "a string", n);
    auto raw = n.string_value();
    peer_endpoint ep;
    if (raw.size() == 4) {
      std::memcpy(ep.addr.data(), raw.data(), 4);
    } else if (raw.size() == 16) {
      std::memcpy(ep.addr.data(), raw.data(), 16);
      ep.v6 = true;
    } else {
      return make_error("'external ip' has length " + std::to_string(raw.size())
                          + ", expected 4 or 16",
                        n.offset());
    }
    out.external_ip = ep;
  }
  if (auto n = root.find("peers")) {
    if (n.is_string())
      HTTP_TRACKER_TRY(parse_compact(n, "peers", address_family::v4, max_peers, out));
    else if (n.is_list())
      HTTP_TRACKER_TRY(parse_peer_dicts(n, max_peers, out));
    else
      return type_error("peers", "a string or a list", n);
  }
  if (auto n = root.find("peers6")) {
    if (!n.is_string())
      return type_error("peers6", "a string", n);
    HTTP_TRACKER_TRY(parse_compact(n, "peers6", address_family::v6, max_peers, out));
  }
  return out;
}

std::string encode_announce_response(const announce_response& r) {
  bencode::dict d;
  if (r.failure_reason) {
    d["failure reason"] = *r.failure_reason;
    return bencode::encode(d);
  }
  if (r.warning_message)
    d["warning message"] = *r.warning_message;
  if (r.interval)
    d["interval"] = static_cast<std::int64_t>(*r.interval);
  if (r.min_interval)
    d["min interval"] = static_cast<std::int64_t>(*r.min_interval);
  if (r.tracker_id)
    d["tracker id"] = *r.tracker_id;
  // Counts above INT64_MAX cannot be bencoded; clamp (never produced by parsing).
  auto clamp = [](std::uint64_t v) {
    return static_cast<std::int64_t>(
      std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
  };
  if (r.complete)
    d["complete"] = clamp(*r.complete);
  if (r.incomplete)
    d["incomplete"] = clamp(*r.incomplete);
  if (r.external_ip)
    d["external ip"] = std::string{reinterpret_cast<const char*>(r.external_ip->addr.data()),
                                   r.external_ip->v6 ? 16u : 4u};
  std::string v4;
  std::string v6;
  for (const auto& p : r.peers)
    p.append_compact(p.v6 ? v6 : v4);
  d["peers"] = std::move(v4);
  if (!v6.empty())
    d["peers6"] = std::move(v6);
  return bencode::encode(d);
}

result<scrape_response> parse_scrape_response(std::string_view body) {
  auto doc = decode_dict(body, "scrape response");
  if (!doc)
    return doc.error();
  auto root = doc->root();
  scrape_response out;
  HTTP_TRACKER_TRY(get_string(root, "failure reason", out.failure_reason));
  if (out.failure_reason)
    return out;
  if (auto flags = root.find("flags")) {
    if (!flags.is_dict())
      return type_error("flags", "a dictionary", flags);
    HTTP_TRACKER_TRY(get_uint(flags, "min_request_interval", out.min_request_interval));
  }
  auto files = root.find("files");
  if (!files)
    return out;
  if (!files.is_dict())
    return type_error("files", "a dictionary", files);
  for (const auto& [key, value] : files.items()) {
    auto hash = sha1_hash::from_bytes(key);
    if (!hash)
      return make_error("'files' key of length " + std::to_string(key.size())
                          + " is not a 20-byte info-hash",
                        value.offset());
    if (!value.is_dict())
      return make_error("'files' entry for " + hash->hex() + " is not a dictionary",
                        value.offset());
    scrape_stats s;
    HTTP_TRACKER_TRY(get_uint(value, "complete", s.complete));
    HTTP_TRACKER_TRY(get_uint(value, "downloaded", s.downloaded));
    HTTP_TRACKER_TRY(get_uint(value, "incomplete", s.incomplete));
    HTTP_TRACKER_TRY(get_string(value, "name", s.name));
    out.files[*hash] = std::move(s);
  }
  return out;
}

std::string encode_scrape_response(const scrape_response& r) {
  bencode::dict d;
  if (r.failure_reason) {
    d["failure reason"] = *r.failure_reason;
    return bencode::encode(d);
  }
  auto clamp = [](std::uint64_t v) {
    return static_cast<std::int64_t>(
      std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
  };
  bencode::dict files;
  for (const auto& [hash, s] : r.files) {
    bencode::dict e;
    e["complete"] = clamp(s.complete);
    e["downloaded"] = clamp(s.downloaded);
    e["incomplete"] = clamp(s.incomplete);
    if (s.name)
      e["name"] = *s.name;
    files[std::string{hash.view()}] = std::move(e);
  }
  d["files"] = std::move(files);
  if (r.min_request_interval)
    d["flags"] = bencode::dict{{"min_request_interval",
                                static_cast<std::int64_t>(*r.min_request_interval)}};
  return bencode::encode(d);
}

} // namespace actorrent::tracker

#undef HTTP_TRACKER_TRY
