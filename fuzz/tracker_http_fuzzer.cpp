// libFuzzer target for the HTTP tracker codec (protocol/tracker_http.hpp).
//
// The input is parsed as an announce response (default and tight peer caps) and
// as a scrape response; every accepted response is re-encoded and parsed again,
// which must give the same response (peers reordered IPv4 first, since the
// encoder writes "peers" then "peers6") and the same bytes on a second encoding.
// The input is also used as an announce URL and as the bytes of the info-hash /
// peer id, checking that the query is appended correctly and that the
// percent-encoding decodes back to the raw bytes. Any broken invariant calls
// abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/peer_address.hpp"
#include "protocol/sha1.hpp"
#include "protocol/tracker_http.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace actorrent;

namespace {

bool valid_endpoint(const peer_endpoint& p) {
  if (p.port == 0)
    return false;
  if (!p.v6)
    for (std::size_t i = 4; i < 16; ++i)
      if (p.addr[i] != 0)
        return false;
  return true;
}

void check_announce(std::string_view body, std::size_t max_peers) {
  auto r = tracker::parse_announce_response(body, max_peers);
  if (!r)
    return;
  if (r->failure_reason) {
    FUZZ_CHECK(r->peers.empty() && !r->interval && r->ignored_peers == 0);
  }
  FUZZ_CHECK(r->peers.size() <= max_peers);
  FUZZ_CHECK(r->peer_ids.size() <= r->peers.size());
  for (const auto& p : r->peers)
    FUZZ_CHECK(valid_endpoint(p));
  std::set<peer_endpoint> known(r->peers.begin(), r->peers.end());
  for (const auto& [ep, id] : r->peer_ids)
    FUZZ_CHECK(known.count(ep) == 1);
  // Round trip through the encoder.
  auto enc = tracker::encode_announce_response(*r);
  auto back = tracker::parse_announce_response(enc, max_peers);
  FUZZ_CHECK(back.ok());
  auto expected = *r;
  std::stable_partition(expected.peers.begin(), expected.peers.end(),
                        [](const peer_endpoint& p) { return !p.v6; });
  expected.peer_ids.clear();
  expected.ignored_peers = 0;
  FUZZ_CHECK(*back == expected);
  FUZZ_CHECK(tracker::encode_announce_response(*back) == enc);
}

void check_scrape(std::string_view body) {
  auto r = tracker::parse_scrape_response(body);
  if (!r)
    return;
  if (r->failure_reason)
    FUZZ_CHECK(r->files.empty() && !r->min_request_interval);
  auto enc = tracker::encode_scrape_response(*r);
  auto back = tracker::parse_scrape_response(enc);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *r);
  FUZZ_CHECK(tracker::encode_scrape_response(*back) == enc);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1; // the encoder only writes upper-case hex
}

// Decodes a value written by url_encode; aborts on anything it cannot produce.
std::string strict_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      auto c = static_cast<unsigned char>(s[i]);
      FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '-' || c == '.' || c == '_' || c == '~');
      out.push_back(s[i]);
      continue;
    }
    FUZZ_CHECK(i + 2 < s.size());
    auto hi = hex_value(s[i + 1]);
    auto lo = hex_value(s[i + 2]);
    FUZZ_CHECK(hi >= 0 && lo >= 0);
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

// The value of `key=` in the query part of `url` (first occurrence after '?').
std::string_view query_value(std::string_view url, std::string_view key, std::size_t from) {
  auto pos = url.find(key, from);
  FUZZ_CHECK(pos != std::string_view::npos);
  pos += key.size();
  auto end = url.find('&', pos);
  return url.substr(pos, end == std::string_view::npos ? url.size() - pos : end - pos);
}

void check_urls(std::string_view text) {
  tracker::announce_request req;
  if (text.size() >= 40) {
    req.info_hash = *sha1_hash::from_bytes(text.substr(0, 20));
    req.peer_id = *sha1_hash::from_bytes(text.substr(20, 20));
  }
  req.port = 6881;
  req.key = 0x1234ABCD;
  req.trackerid = std::string{text.substr(0, 64)};
  // 1) the input as an announce URL
  auto url = tracker::build_announce_url(text, req);
  if (url) {
    auto base = text.substr(0, text.find('#'));
    FUZZ_CHECK(url->compare(0, base.size(), base) == 0);
    FUZZ_CHECK(url->find('#') == std::string::npos);
    for (unsigned char c : *url)
      FUZZ_CHECK(c > 0x20 && c < 0x7f);
    auto q = base.size();
    FUZZ_CHECK(strict_decode(query_value(*url, "info_hash=", q)) == req.info_hash.view());
    FUZZ_CHECK(strict_decode(query_value(*url, "peer_id=", q)) == req.peer_id.view());
    FUZZ_CHECK(query_value(*url, "&key=", q) == "1234ABCD");
    if (!req.trackerid.empty())
      FUZZ_CHECK(strict_decode(query_value(*url, "&trackerid=", q)) == req.trackerid);
  }
  // 2) a fixed URL with the input's bytes as hashes and tracker id
  auto fixed = tracker::build_announce_url("http://t.example/announce?a=b", req);
  FUZZ_CHECK(fixed.ok());
  constexpr std::size_t base_len = sizeof("http://t.example/announce?a=b") - 1;
  FUZZ_CHECK(fixed->compare(0, base_len + 11, "http://t.example/announce?a=b&info_hash=") == 0);
  FUZZ_CHECK(strict_decode(query_value(*fixed, "info_hash=", base_len)) == req.info_hash.view());
  FUZZ_CHECK(strict_decode(query_value(*fixed, "peer_id=", base_len)) == req.peer_id.view());
  // 3) scrape URLs: derived only when an http(s) announce URL is accepted
  auto s = tracker::scrape_url(text);
  if (s) {
    FUZZ_CHECK(url.ok());
    FUZZ_CHECK(s->find("scrape") != std::string::npos);
    FUZZ_CHECK(s->size() + 2 == text.substr(0, text.find('#')).size());
    auto with = tracker::build_scrape_url(text, {req.info_hash, req.peer_id});
    FUZZ_CHECK(with.ok());
    FUZZ_CHECK(with->compare(0, s->size(), *s) == 0);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_announce(input, tracker::default_max_peers);
  check_announce(input, 3);
  check_scrape(input);
  check_urls(input);
  return 0;
}
