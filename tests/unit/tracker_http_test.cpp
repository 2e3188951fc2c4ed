#define CAF_SUITE tracker_http
#include <caf/test/unit_test.hpp>

#include "protocol/peer_address.hpp"
#include "protocol/tracker_http.hpp"

#include <string>

using namespace actorrent;
using namespace std::literals;

namespace {

sha1_hash counting_hash() { // bytes 0x00 .. 0x13
  sha1_hash h;
  for (std::size_t i = 0; i < 20; ++i)
    h.bytes[i] = static_cast<std::uint8_t>(i);
  return h;
}

sha1_hash hash_of(std::string_view raw) {
  return *sha1_hash::from_bytes(raw);
}

tracker::announce_request sample_request() {
  tracker::announce_request req;
  req.info_hash = counting_hash();
  req.peer_id = hash_of("-AT0001-123456789012");
  req.port = 6881;
  req.uploaded = 0;
  req.downloaded = 0;
  req.left = 1000;
  req.event = tracker::event::started;
  req.numwant = 50;
  req.key = 0xBEEF;
  return req;
}

const std::string counting_hash_encoded =
  "%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13";

std::string url_error(std::string_view url, const tracker::announce_request& req) {
  auto r = tracker::build_announce_url(url, req);
  return r ? "ok" : r.error().to_string();
}

std::string response_error(std::string_view body) {
  auto r = tracker::parse_announce_response(body);
  return r ? "ok" : r.error().to_string();
}

std::string scrape_error(std::string_view body) {
  auto r = tracker::parse_scrape_response(body);
  return r ? "ok" : r.error().to_string();
}

std::string host_port_error(std::string_view text) {
  auto r = parse_host_port(text);
  return r ? "ok" : r.error().message;
}

} // namespace

// ---- peer_address.hpp ------------------------------------------------------------

CAF_TEST(peer endpoints parse and print) {
  auto a = peer_endpoint::from_ip("1.2.3.4", 6881);
  CAF_REQUIRE(a);
  CAF_CHECK(!a->v6);
  CAF_CHECK(*a == peer_endpoint::v4(1, 2, 3, 4, 6881));
  CAF_CHECK_EQUAL(a->to_string(), "1.2.3.4:6881");
  CAF_CHECK_EQUAL(a->compact(), "\x01\x02\x03\x04\x1a\xe1"s);
  auto b = peer_endpoint::from_ip("2001:DB8::1", 80);
  CAF_REQUIRE(b);
  CAF_CHECK(b->v6);
  CAF_CHECK_EQUAL(b->addr[0], 0x20);
  CAF_CHECK_EQUAL(b->addr[1], 0x01);
  CAF_CHECK_EQUAL(b->addr[15], 0x01);
  CAF_CHECK_EQUAL(b->to_string(), "[2001:db8::1]:80");
  CAF_CHECK_EQUAL(b->compact().size(), 18u);
  CAF_CHECK(peer_endpoint::from_compact(b->compact()) == b);
  CAF_CHECK(peer_endpoint::from_compact(a->compact()) == a);
  CAF_CHECK(!peer_endpoint::from_compact("12345"));
  CAF_CHECK(!peer_endpoint::from_ip("1.2.3", 1));
  CAF_CHECK(!peer_endpoint::from_ip("1.2.3.256", 1));
  CAF_CHECK(!peer_endpoint::from_ip("01.2.3.4", 1));
  CAF_CHECK(!peer_endpoint::from_ip("example.com", 1));
  CAF_CHECK(!peer_endpoint::from_ip("fe80::1%eth0", 1));
  CAF_CHECK(!peer_endpoint::from_ip("", 1));
  CAF_CHECK(!peer_endpoint::from_ip(std::string(100, '1'), 1));
  CAF_CHECK(peer_endpoint::from_ip("::ffff:1.2.3.4", 1)->v6);
  auto p = peer_endpoint::parse("[::1]:443");
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->to_string(), "[::1]:443");
  auto named = peer_endpoint::parse("example.com:80");
  CAF_REQUIRE(!named);
  CAF_CHECK_EQUAL(named.error().message, "not an ip address: 'example.com'");
}

CAF_TEST(host and port parsing) {
  auto hp = parse_host_port("tracker.example-1.org:6969");
  CAF_REQUIRE(hp);
  CAF_CHECK_EQUAL(hp->host, "tracker.example-1.org");
  CAF_CHECK_EQUAL(hp->port, 6969);
  CAF_CHECK(!hp->endpoint());
  auto v6 = parse_host_port("[2001:db8::2]:1");
  CAF_REQUIRE(v6);
  CAF_CHECK_EQUAL(v6->host, "2001:db8::2");
  CAF_CHECK_EQUAL(v6->to_string(), "[2001:db8::2]:1");
  CAF_CHECK(v6->endpoint()->v6);
  auto zeros = parse_host_port("1.2.3.4:00080");
  CAF_REQUIRE(zeros);
  CAF_CHECK_EQUAL(zeros->port, 80);
  CAF_CHECK_EQUAL(host_port_error("1.2.3.4:065535"), "invalid port '065535'");
  CAF_CHECK_EQUAL(host_port_error(""), "empty address");
  CAF_CHECK_EQUAL(host_port_error("example.com"), "missing port in address 'example.com'");
  CAF_CHECK_EQUAL(host_port_error("example.com:"), "missing port in address 'example.com:'");
  CAF_CHECK_EQUAL(host_port_error(":80"), "empty host in address ':80'");
  CAF_CHECK_EQUAL(host_port_error("a:0"), "invalid port '0'");
  CAF_CHECK_EQUAL(host_port_error("a:65536"), "invalid port '65536'");
  CAF_CHECK_EQUAL(host_port_error("a:-1"), "invalid port '-1'");
  CAF_CHECK_EQUAL(host_port_error("a:1x"), "invalid port '1x'");
  CAF_CHECK_EQUAL(host_port_error("a:123456"), "invalid port '123456'");
  CAF_CHECK_EQUAL(host_port_error("::1:80"), "ipv6 address without brackets in '::1:80'");
  CAF_CHECK_EQUAL(host_port_error("[::1:80"), "missing ']' in address '[::1:80'");
  CAF_CHECK_EQUAL(host_port_error("[::1]"), "missing port in address '[::1]'");
  CAF_CHECK_EQUAL(host_port_error("[::1]80"), "missing port in address '[::1]80'");
  CAF_CHECK_EQUAL(host_port_error("[1.2.3.4]:80"), "invalid ipv6 address '1.2.3.4'");
  CAF_CHECK_EQUAL(host_port_error("[zz]:80"), "invalid ipv6 address 'zz'");
  CAF_CHECK_EQUAL(host_port_error("1.2.3.256:80"), "invalid ipv4 address '1.2.3.256'");
  CAF_CHECK_EQUAL(host_port_error("us er@host:80"), "invalid character in host 'us er@host'");
  CAF_CHECK_EQUAL(host_port_error("a\x01:80"), "invalid character in host 'a\\x01'");
  CAF_CHECK_EQUAL(host_port_error(std::string(254, 'a') + ":1"), "host name longer than 253 bytes");
  // long inputs are cut in messages
  CAF_CHECK_EQUAL(host_port_error(std::string(70, 'b')),
                  "missing port in address '" + std::string(64, 'b') + "...'");
}

CAF_TEST(compact peer lists) {
  std::vector<peer_endpoint> out;
  auto r = parse_compact_peers("\x01\x02\x03\x04\x1a\xe1\x05\x06\x07\x08\x00\x00"
                               "\x09\x09\x09\x09\x00\x50"sv,
                               address_family::v4, out, 2);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(*r, 1u); // port 0 skipped
  CAF_REQUIRE_EQUAL(out.size(), 2u);
  CAF_CHECK_EQUAL(out[1].to_string(), "9.9.9.9:80");
  auto over = parse_compact_peers("\x01\x02\x03\x04\x1a\xe1"sv, address_family::v4, out, 2);
  CAF_CHECK_EQUAL(*over, 1u); // over the cap
  CAF_CHECK_EQUAL(out.size(), 2u);
  auto bad = parse_compact_peers("1234567", address_family::v4, out);
  CAF_REQUIRE(!bad);
  CAF_CHECK_EQUAL(bad.error().message, "compact ipv4 peers length 7 is not a multiple of 6");
  auto bad6 = parse_compact_peers(std::string(6, 'x'), address_family::v6, out);
  CAF_CHECK_EQUAL(bad6.error().message, "compact ipv6 peers length 6 is not a multiple of 18");
}

// ---- announce URLs -----------------------------------------------------------------

CAF_TEST(announce url known vector) {
  auto r = tracker::build_announce_url("http://tracker.example.com:8080/announce",
                                       sample_request());
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(*r, "http://tracker.example.com:8080/announce?info_hash="
                        + counting_hash_encoded
                        + "&peer_id=-AT0001-123456789012&port=6881&uploaded=0&downloaded=0"
                          "&left=1000&event=started&compact=1&numwant=50&key=0000BEEF");
}

CAF_TEST(announce url encoding of every byte class) {
  auto req = sample_request();
  // unreserved bytes stay literal, everything else is %XX upper-case
  req.info_hash = hash_of("ab~.-_Z9 /+%&=?\xff\x80\x7f:\x01"sv);
  req.peer_id = hash_of("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                        "AAAAAAAAAA"sv);
  req.event = tracker::event::none;
  req.compact = false;
  req.numwant = -1;
  req.key.reset();
  req.uploaded = 18446744073709551615ull;
  req.downloaded = 5;
  req.left = 0;
  req.port = 0;
  req.trackerid = "id 1&2";
  req.ip = "::1";
  auto r = tracker::build_announce_url("https://t.example/announce.php?passkey=abc", req);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(*r, "https://t.example/announce.php?passkey=abc"
                      "&info_hash=ab~.-_Z9%20%2F%2B%25%26%3D%3F%FF%80%7F%3A%01"
                      "&peer_id=%00%00%00%00%00%00%00%00%00%00AAAAAAAAAA"
                      "&port=0&uploaded=18446744073709551615&downloaded=5&left=0"
                      "&compact=0&trackerid=id%201%262&ip=%3A%3A1");
}

CAF_TEST(announce url events and query joining) {
  auto req = sample_request();
  req.key = 0xFFFFFFFF;
  req.event = tracker::event::completed;
  auto r = tracker::build_announce_url("HTTP://t/announce?", req);
  CAF_REQUIRE(r);
  CAF_CHECK(r->starts_with("HTTP://t/announce?info_hash=%00"));
  CAF_CHECK(r->ends_with("&event=completed&compact=1&numwant=50&key=FFFFFFFF"));
  req.event = tracker::event::stopped;
  req.key = 0;
  r = tracker::build_announce_url("http://t/announce?a=1&", req);
  CAF_REQUIRE(r);
  CAF_CHECK(r->starts_with("http://t/announce?a=1&info_hash=%00"));
  CAF_CHECK(r->ends_with("&event=stopped&compact=1&numwant=50&key=00000000"));
  // a fragment is not sent
  r = tracker::build_announce_url("http://t/announce#frag", req);
  CAF_REQUIRE(r);
  CAF_CHECK(r->starts_with("http://t/announce?info_hash=%00"));
  CAF_CHECK_EQUAL(r->find('#'), std::string::npos);
  req.numwant = 0;
  CAF_CHECK(tracker::build_announce_url("http://t/a", req)->ends_with("&numwant=0&key=00000000"));
  CAF_CHECK_EQUAL(tracker::to_string(tracker::event::none), "none"s);
}

CAF_TEST(announce url errors) {
  auto req = sample_request();
  CAF_CHECK_EQUAL(url_error("udp://t:80/announce", req),
                  "not an http:// or https:// url: 'udp://t:80/announce'");
  CAF_CHECK_EQUAL(url_error("", req), "not an http:// or https:// url: ''");
  CAF_CHECK_EQUAL(url_error("httpx://t/", req), "not an http:// or https:// url: 'httpx://t/'");
  CAF_CHECK_EQUAL(url_error("http:///announce", req), "tracker url has no host");
  CAF_CHECK_EQUAL(url_error("https://", req), "tracker url has no host");
  CAF_CHECK_EQUAL(url_error("http://?x", req), "tracker url has no host");
  CAF_CHECK_EQUAL(url_error("http://a b/announce", req),
                  "invalid character 0x20 in tracker url (at byte 8)");
  CAF_CHECK_EQUAL(url_error("http://a/\xc3\xa9", req),
                  "invalid character 0xc3 in tracker url (at byte 9)");
  CAF_CHECK_EQUAL(url_error("http://a/\n", req),
                  "invalid character 0x0a in tracker url (at byte 9)");
  req.numwant = -2;
  CAF_CHECK_EQUAL(url_error("http://a/announce", req), "numwant -2 is negative");
}

// ---- scrape URLs -------------------------------------------------------------------

CAF_TEST(scrape urls per bep 48) {
  auto s = [](std::string_view url) {
    auto r = tracker::scrape_url(url);
    return r ? *r : "error: " + r.error().message;
  };
  CAF_CHECK_EQUAL(s("http://example.com/announce"), "http://example.com/scrape");
  CAF_CHECK_EQUAL(s("http://example.com/x/announce"), "http://example.com/x/scrape");
  CAF_CHECK_EQUAL(s("http://example.com/announce.php"), "http://example.com/scrape.php");
  CAF_CHECK_EQUAL(s("http://example.com/a/announce?x2%0644"),
                  "http://example.com/a/scrape?x2%0644");
  CAF_CHECK_EQUAL(s("https://example.com:443/announce?k=/announce#f"),
                  "https://example.com:443/scrape?k=/announce");
  CAF_CHECK_EQUAL(s("http://example.com/a"),
                  "error: cannot derive a scrape url: the last path component of "
                  "'http://example.com/a' does not start with 'announce'");
  CAF_CHECK_EQUAL(s("http://example.com/announce/x"),
                  "error: cannot derive a scrape url: the last path component of "
                  "'http://example.com/announce/x' does not start with 'announce'");
  CAF_CHECK_EQUAL(s("http://example.com/x%064announce"),
                  "error: cannot derive a scrape url: the last path component of "
                  "'http://example.com/x%064announce' does not start with 'announce'");
  CAF_CHECK_EQUAL(s("http://announce"),
                  "error: cannot derive a scrape url: the last path component of "
                  "'http://announce' does not start with 'announce'");
  CAF_CHECK_EQUAL(s("http://example.com?announce"),
                  "error: cannot derive a scrape url: the last path component of "
                  "'http://example.com?announce' does not start with 'announce'");
  CAF_CHECK_EQUAL(s("ftp://example.com/announce"),
                  "error: not an http:// or https:// url: 'ftp://example.com/announce'");
  auto full = tracker::build_scrape_url("http://example.com/announce?pk=1",
                                        {counting_hash(), hash_of("AAAAAAAAAAAAAAAAAAAA")});
  CAF_REQUIRE(full);
  CAF_CHECK_EQUAL(*full, "http://example.com/scrape?pk=1&info_hash=" + counting_hash_encoded
                           + "&info_hash=AAAAAAAAAAAAAAAAAAAA");
  auto one = tracker::build_scrape_url("http://example.com/announce", {counting_hash()});
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL(*one, "http://example.com/scrape?info_hash=" + counting_hash_encoded);
  auto none = tracker::build_scrape_url("http://example.com/announce", {});
  CAF_REQUIRE(none);
  CAF_CHECK_EQUAL(*none, "http://example.com/scrape");
}

// ---- announce responses ------------------------------------------------------------

CAF_TEST(compact announce response) {
  auto body = "d8:completei5e10:incompletei3e8:intervali1800e12:min intervali60e"
              "5:peers12:\x01\x02\x03\x04\x1a\xe1\x0a\x00\x00\x01\x00\x50"
              "6:peers618:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1"
              "10:tracker id3:xyz15:warning message4:caree"s;
  auto r = tracker::parse_announce_response(body);
  CAF_REQUIRE(r);
  CAF_CHECK(!r->failure_reason);
  CAF_CHECK_EQUAL(r->warning_message, std::optional<std::string>{"care"});
  CAF_CHECK_EQUAL(r->interval, std::optional<std::uint32_t>{1800});
  CAF_CHECK_EQUAL(r->min_interval, std::optional<std::uint32_t>{60});
  CAF_CHECK_EQUAL(r->tracker_id, std::optional<std::string>{"xyz"});
  CAF_CHECK_EQUAL(r->complete, std::optional<std::uint64_t>{5});
  CAF_CHECK_EQUAL(r->incomplete, std::optional<std::uint64_t>{3});
  CAF_REQUIRE_EQUAL(r->peers.size(), 3u);
  CAF_CHECK_EQUAL(r->peers[0].to_string(), "1.2.3.4:6881");
  CAF_CHECK_EQUAL(r->peers[1].to_string(), "10.0.0.1:80");
  CAF_CHECK_EQUAL(r->peers[2].to_string(), "[2001:db8::1]:6881");
  CAF_CHECK_EQUAL(r->ignored_peers, 0u);
  CAF_CHECK(r->peer_ids.empty());
  // re-encoding gives the canonical form of the same bytes (keys were sorted)
  CAF_CHECK_EQUAL(tracker::encode_announce_response(*r), body);
}

CAF_TEST(dictionary announce response) {
  auto body = "d8:intervali900e5:peers"
              "ld2:ip7:1.2.3.47:peer id20:-AT0001-1234567890124:porti6881ee"
              "d2:ip3:::14:porti80ee"
              "d2:ip11:example.com4:porti80ee"
              "d2:ip7:5.6.7.84:porti0ee"
              "d2:ip7:5.6.7.84:porti65536ee"
              "d4:porti1ee"
              "d2:ipi1e4:porti1ee"
              "d2:ip7:5.6.7.84:port1:1e"
              "d2:ip7:9.9.9.97:peer id3:abc4:porti9ee"
              "ee"s;
  auto r = tracker::parse_announce_response(body);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->interval, std::optional<std::uint32_t>{900});
  CAF_REQUIRE_EQUAL(r->peers.size(), 3u);
  CAF_CHECK_EQUAL(r->peers[0].to_string(), "1.2.3.4:6881");
  CAF_CHECK_EQUAL(r->peers[1].to_string(), "[::1]:80");
  CAF_CHECK_EQUAL(r->peers[2].to_string(), "9.9.9.9:9");
  CAF_CHECK_EQUAL(r->ignored_peers, 6u);
  CAF_REQUIRE_EQUAL(r->peer_ids.size(), 1u);
  CAF_CHECK(r->peer_ids[0].first == r->peers[0]);
  CAF_CHECK(r->peer_ids[0].second == hash_of("-AT0001-123456789012"));
}

CAF_TEST(failure reason is a response) {
  // the rest of the dictionary is not looked at
  auto r = tracker::parse_announce_response(
    "d14:failure reason12:invalid hash8:intervali-5e5:peersi1ee");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->failure_reason, std::optional<std::string>{"invalid hash"});
  CAF_CHECK(!r->interval);
  CAF_CHECK(r->peers.empty());
  CAF_CHECK_EQUAL(tracker::encode_announce_response(*r), "d14:failure reason12:invalid hashe");
  CAF_CHECK_EQUAL(response_error("d14:failure reasoni1ee"),
                  "'failure reason' is not a string (at byte 18)");
}

CAF_TEST(optional fields and external ip) {
  auto r = tracker::parse_announce_response("de");
  CAF_REQUIRE(r);
  CAF_CHECK(!r->interval);
  CAF_CHECK(r->peers.empty());
  CAF_CHECK(!r->external_ip);
  r = tracker::parse_announce_response("d11:external ip4:\x7f\x00\x00\x01"
                                       "8:intervali4294967295ee\r\n \t"s);
  CAF_REQUIRE(r);
  CAF_REQUIRE(r->external_ip);
  CAF_CHECK_EQUAL(r->external_ip->ip_string(), "127.0.0.1");
  CAF_CHECK_EQUAL(r->interval, std::optional<std::uint32_t>{4294967295u});
  r = tracker::parse_announce_response("d11:external ip16:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "e"s);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->external_ip->ip_string(), "::1");
  CAF_CHECK_EQUAL(response_error("d11:external ip3:abce"),
                  "'external ip' has length 3, expected 4 or 16 (at byte 15)");
  CAF_CHECK_EQUAL(response_error("d11:external ipi3ee"),
                  "'external ip' is not a string (at byte 15)");
}

CAF_TEST(malformed announce responses) {
  CAF_CHECK_EQUAL(response_error(""), "bencode: empty input (at byte 0)");
  CAF_CHECK_EQUAL(response_error("d8:interval"), "bencode: unexpected end of input (at byte 11)");
  CAF_CHECK_EQUAL(response_error("d8:intervali1eex"),
                  "bencode: trailing data after value (at byte 15)");
  CAF_CHECK_EQUAL(response_error("le"), "tracker response is not a dictionary (at byte 0)");
  CAF_CHECK_EQUAL(response_error("i1e"), "tracker response is not a dictionary (at byte 0)");
  CAF_CHECK_EQUAL(response_error("d8:intervali-1ee"),
                  "'interval' value -1 out of range (at byte 11)");
  CAF_CHECK_EQUAL(response_error("d8:intervali4294967296ee"),
                  "'interval' value 4294967296 out of range (at byte 11)");
  CAF_CHECK_EQUAL(response_error("d8:interval3:abce"), "'interval' is not an integer (at byte 11)");
  CAF_CHECK_EQUAL(response_error("d12:min intervali-60ee"),
                  "'min interval' value -60 out of range (at byte 16)");
  CAF_CHECK_EQUAL(response_error("d8:completei-1ee"),
                  "'complete' value -1 out of range (at byte 11)");
  CAF_CHECK_EQUAL(response_error("d10:incompleteli1eee"),
                  "'incomplete' is not an integer (at byte 14)");
  CAF_CHECK_EQUAL(response_error("d10:tracker idi1ee"), "'tracker id' is not a string (at byte 14)");
  CAF_CHECK_EQUAL(response_error("d15:warning messagei1ee"),
                  "'warning message' is not a string (at byte 19)");
  CAF_CHECK_EQUAL(response_error("d5:peers7:abcdefge"),
                  "'peers' length 7 is not a multiple of 6 (at byte 8)");
  CAF_CHECK_EQUAL(response_error("d6:peers66:abcdefe"),
                  "'peers6' length 6 is not a multiple of 18 (at byte 9)");
  CAF_CHECK_EQUAL(response_error("d5:peersi1ee"), "'peers' is not a string or a list (at byte 8)");
  CAF_CHECK_EQUAL(response_error("d5:peersdee"), "'peers' is not a string or a list (at byte 8)");
  CAF_CHECK_EQUAL(response_error("d6:peers6lee"), "'peers6' is not a string (at byte 9)");
  CAF_CHECK_EQUAL(response_error("d5:peersld2:ip7:1.2.3.44:porti1eei1eee"),
                  "peer entry 1 is not a dictionary (at byte 33)");
}

CAF_TEST(peer cap) {
  std::string compact;
  for (std::uint8_t i = 1; i <= 5; ++i)
    peer_endpoint::v4(10, 0, 0, i, 1000).append_compact(compact);
  std::string v6;
  peer_endpoint::from_ip("::2", 7)->append_compact(v6);
  auto body = "d5:peers" + std::to_string(compact.size()) + ":" + compact + "6:peers6"
              + std::to_string(v6.size()) + ":" + v6 + "e";
  auto r = tracker::parse_announce_response(body, 3);
  CAF_REQUIRE(r);
  CAF_REQUIRE_EQUAL(r->peers.size(), 3u);
  CAF_CHECK_EQUAL(r->peers[2].to_string(), "10.0.0.3:1000");
  CAF_CHECK_EQUAL(r->ignored_peers, 3u);
  CAF_CHECK_LESS_OR_EQUAL(r->peers.capacity(), 3u);
  r = tracker::parse_announce_response(body);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->peers.size(), 6u);
  CAF_CHECK_EQUAL(r->peers[5].to_string(), "[::2]:7");
  // the dictionary form is capped too
  auto dicts = "d5:peersld2:ip7:1.1.1.14:porti1eed2:ip7:2.2.2.24:porti2eeee"s;
  r = tracker::parse_announce_response(dicts, 1);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->peers.size(), 1u);
  CAF_CHECK_EQUAL(r->ignored_peers, 1u);
  r = tracker::parse_announce_response(dicts, 0);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->peers.size(), 0u);
  CAF_CHECK_EQUAL(r->ignored_peers, 2u);
}

CAF_TEST(announce response encoding round trip) {
  tracker::announce_response r;
  r.interval = 1800;
  r.complete = 5;
  r.incomplete = 3;
  r.peers.push_back(peer_endpoint::v4(1, 2, 3, 4, 6881));
  r.peers.push_back(*peer_endpoint::from_ip("::1", 80));
  auto body = tracker::encode_announce_response(r);
  CAF_CHECK_EQUAL(body, "d8:completei5e10:incompletei3e8:intervali1800e"
                        "5:peers6:\x01\x02\x03\x04\x1a\xe1"
                        "6:peers618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50" "e"s);
  auto back = tracker::parse_announce_response(body);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == r);
}

// ---- scrape responses --------------------------------------------------------------

CAF_TEST(scrape responses) {
  auto body = "d5:filesd20:" + std::string{counting_hash().view()}
              + "d8:completei5e10:downloadedi50e10:incompletei10e4:name3:abce"
                "20:AAAAAAAAAAAAAAAAAAAAdee"
                "5:flagsd20:min_request_intervali900eee";
  auto r = tracker::parse_scrape_response(body);
  CAF_REQUIRE(r);
  CAF_CHECK(!r->failure_reason);
  CAF_CHECK_EQUAL(r->min_request_interval, std::optional<std::uint32_t>{900});
  CAF_REQUIRE_EQUAL(r->files.size(), 2u);
  const auto& a = r->files.at(counting_hash());
  CAF_CHECK_EQUAL(a.complete, 5u);
  CAF_CHECK_EQUAL(a.downloaded, 50u);
  CAF_CHECK_EQUAL(a.incomplete, 10u);
  CAF_CHECK_EQUAL(a.name, std::optional<std::string>{"abc"});
  const auto& b = r->files.at(hash_of("AAAAAAAAAAAAAAAAAAAA"));
  CAF_CHECK_EQUAL(b.complete, 0u);
  CAF_CHECK(!b.name);
  auto enc = tracker::encode_scrape_response(*r);
  auto back = tracker::parse_scrape_response(enc);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == *r);
  CAF_CHECK_EQUAL(tracker::encode_scrape_response(*back), enc);
  auto f = tracker::parse_scrape_response("d14:failure reason4:nopee");
  CAF_REQUIRE(f);
  CAF_CHECK_EQUAL(f->failure_reason, std::optional<std::string>{"nope"});
  CAF_CHECK(tracker::parse_scrape_response("de")->files.empty());
}

CAF_TEST(malformed scrape responses) {
  CAF_CHECK_EQUAL(scrape_error("li1ee"), "scrape response is not a dictionary (at byte 0)");
  CAF_CHECK_EQUAL(scrape_error("d5:fileslee"), "'files' is not a dictionary (at byte 8)");
  CAF_CHECK_EQUAL(scrape_error("d5:filesd5:abcdedeee"),
                  "'files' key of length 5 is not a 20-byte info-hash (at byte 16)");
  CAF_CHECK_EQUAL(scrape_error("d5:filesd20:AAAAAAAAAAAAAAAAAAAAi1eee"),
                  "'files' entry for 4141414141414141414141414141414141414141 is not a "
                  "dictionary (at byte 32)");
  CAF_CHECK_EQUAL(scrape_error("d5:filesd20:AAAAAAAAAAAAAAAAAAAAd8:completei-1eeee"),
                  "'complete' value -1 out of range (at byte 43)");
  CAF_CHECK_EQUAL(scrape_error("d5:filesd20:AAAAAAAAAAAAAAAAAAAAd4:namei1eeee"),
                  "'name' is not a string (at byte 39)");
  CAF_CHECK_EQUAL(scrape_error("d5:flagsi1ee"), "'flags' is not a dictionary (at byte 8)");
  CAF_CHECK_EQUAL(scrape_error("d5:flagsd20:min_request_intervali-1eee"),
                  "'min_request_interval' value -1 out of range (at byte 32)");
  CAF_CHECK_EQUAL(scrape_error("d5:files"), "bencode: unexpected end of input (at byte 8)");
}
