#define CAF_SUITE tracker_udp
#include <caf/test/unit_test.hpp>

#include "protocol/tracker_udp.hpp"

#include <string>

using namespace actorrent;
using namespace actorrent::tracker;
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

const std::string counting_bytes = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
                                   "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"s;

// The BEP 15 announce request of sample_announce(), written out by hand.
const std::string announce_bytes = "\x01\x02\x03\x04\x05\x06\x07\x08" // connection id
                                   "\x00\x00\x00\x01"                 // action: announce
                                   "\xaa\xbb\xcc\xdd"s                // transaction id
                                   + counting_bytes                   // info hash
                                   + "-AT0001-123456789012"           // peer id
                                   + "\0\0\0\0\0\0\0\x10"             // downloaded
                                     "\0\0\0\0\0\0\0\x20"             // left
                                     "\0\0\0\0\0\0\0\x30"             // uploaded
                                     "\0\0\0\x02"                     // event: started
                                     "\0\0\0\0"                       // ip
                                     "\xde\xad\xbe\xef"               // key
                                     "\xff\xff\xff\xff"               // num_want -1
                                     "\x1a\xe1"s;                     // port 6881

udp::announce_request sample_announce() {
  udp::announce_request r;
  r.connection_id = 0x0102030405060708ull;
  r.transaction_id = 0xAABBCCDD;
  r.info_hash = counting_hash();
  r.peer_id = hash_of("-AT0001-123456789012");
  r.downloaded = 0x10;
  r.left = 0x20;
  r.uploaded = 0x30;
  r.event = event::started;
  r.key = 0xDEADBEEF;
  r.num_want = -1;
  r.port = 6881;
  return r;
}

std::string request_error(std::string_view packet) {
  auto r = udp::parse_request(packet);
  return r ? "ok" : r.error().to_string();
}

std::string response_error(std::string_view packet,
                           address_family family = address_family::v4) {
  auto r = udp::decode_response(packet, family);
  return r ? "ok" : r.error().to_string();
}

std::string expect_error(std::string_view packet, udp::action a, std::uint32_t txid) {
  auto r = udp::parse_response(packet, a, txid);
  return r ? "ok" : r.error().to_string();
}

std::string url_error(std::string_view url) {
  auto r = udp::parse_url(url);
  return r ? "ok" : r.error().message;
}

} // namespace

CAF_TEST(connect packets) {
  auto bytes = "\x00\x00\x04\x17\x27\x10\x19\x80"
               "\x00\x00\x00\x00"
               "\x12\x34\x56\x78"s;
  CAF_CHECK_EQUAL(udp::encode(udp::connect_request{0x12345678}), bytes);
  auto req = udp::parse_request(bytes);
  CAF_REQUIRE(req);
  CAF_REQUIRE(std::holds_alternative<udp::connect_request>(*req));
  CAF_CHECK_EQUAL(std::get<udp::connect_request>(*req).transaction_id, 0x12345678u);

  auto resp = "\x00\x00\x00\x00"
              "\x12\x34\x56\x78"
              "\x01\x02\x03\x04\x05\x06\x07\x08"s;
  CAF_CHECK_EQUAL(udp::encode(udp::connect_response{0x12345678, 0x0102030405060708ull}), resp);
  auto c = udp::parse_connect_response(resp, 0x12345678);
  CAF_REQUIRE(c);
  CAF_CHECK_EQUAL(c->transaction_id, 0x12345678u);
  CAF_CHECK_EQUAL(c->connection_id, 0x0102030405060708ull);
  // trailing bytes are ignored
  CAF_CHECK(udp::parse_connect_response(resp + "xyz", 0x12345678));
}

CAF_TEST(announce request) {
  CAF_REQUIRE_EQUAL(announce_bytes.size(), 98u);
  CAF_CHECK_EQUAL(udp::encode(sample_announce()), announce_bytes);
  auto r = udp::parse_request(announce_bytes);
  CAF_REQUIRE(r);
  CAF_REQUIRE(std::holds_alternative<udp::announce_request>(*r));
  CAF_CHECK(std::get<udp::announce_request>(*r) == sample_announce());
  const auto& a = std::get<udp::announce_request>(*r);
  CAF_CHECK_EQUAL(a.num_want, -1);
  CAF_CHECK_EQUAL(a.port, 6881);
  CAF_CHECK_EQUAL(a.key, 0xDEADBEEFu);
  CAF_CHECK(a.event == event::started);
}

CAF_TEST(announce request with bep 41 url data) {
  auto req = sample_announce();
  req.url_data = "/announce?passkey=x";
  auto bytes = udp::encode(req);
  CAF_CHECK_EQUAL(bytes, announce_bytes + "\x02\x13/announce?passkey=x");
  auto back = udp::parse_request(bytes);
  CAF_REQUIRE(back);
  CAF_CHECK(std::get<udp::announce_request>(*back) == req);
  // long data is split into 255-byte URLData options
  req.url_data = "/" + std::string(299, 'a');
  bytes = udp::encode(req);
  CAF_REQUIRE_EQUAL(bytes.size(), 98u + 2 + 255 + 2 + 45);
  CAF_CHECK_EQUAL(bytes.substr(98, 3), "\x02\xff/");
  CAF_CHECK_EQUAL(bytes.substr(98 + 257, 3), "\x02\x2d" "a");
  back = udp::parse_request(bytes);
  CAF_REQUIRE(back);
  CAF_CHECK(std::get<udp::announce_request>(*back) == req);
  // NOP, two URLData chunks, an unknown option, EndOfOptions, then ignored bytes
  auto manual = announce_bytes + "\x01\x02\x03" "abc" "\x01\x02\x02" "de" "\x07\x01z" "\x00junk"s;
  back = udp::parse_request(manual);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(std::get<udp::announce_request>(*back).url_data, "abcde");
  CAF_CHECK_EQUAL(request_error(announce_bytes + "\x02"),
                  "bep 41 option 2 without length (at byte 98)");
  CAF_CHECK_EQUAL(request_error(announce_bytes + "\x01\x02\x05" "abc"),
                  "bep 41 option 2 of length 5 exceeds the packet (at byte 99)");
}

CAF_TEST(announce responses) {
  auto v4 = "\x00\x00\x00\x01"
            "\xaa\xbb\xcc\xdd"
            "\x00\x00\x07\x08" // interval 1800
            "\x00\x00\x00\x02" // leechers
            "\x00\x00\x00\x03" // seeders
            "\x01\x02\x03\x04\x1a\xe1"
            "\x0a\x00\x00\x01\x00\x50"s;
  auto r = udp::parse_announce_response(v4, 0xAABBCCDD);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->interval, 1800u);
  CAF_CHECK_EQUAL(r->leechers, 2u);
  CAF_CHECK_EQUAL(r->seeders, 3u);
  CAF_REQUIRE_EQUAL(r->peers.size(), 2u);
  CAF_CHECK_EQUAL(r->peers[0].to_string(), "1.2.3.4:6881");
  CAF_CHECK_EQUAL(r->peers[1].to_string(), "10.0.0.1:80");
  CAF_CHECK_EQUAL(udp::encode(*r), v4);
  // the same bytes on an IPv6 socket: 12 bytes of peers is not a multiple of 18
  CAF_CHECK_EQUAL(expect_error(v4, udp::action::announce, 0xAABBCCDD),
                  "ok");
  auto r6 = udp::parse_announce_response(v4, 0xAABBCCDD, address_family::v6);
  CAF_REQUIRE(!r6);
  CAF_CHECK_EQUAL(r6.error().to_string(),
                  "announce response peers length 12 is not a multiple of 18 (ipv6) (at byte 20)");

  auto v6 = v4.substr(0, 20) + "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1"s;
  r6 = udp::parse_announce_response(v6, 0xAABBCCDD, address_family::v6);
  CAF_REQUIRE(r6);
  CAF_REQUIRE_EQUAL(r6->peers.size(), 1u);
  CAF_CHECK_EQUAL(r6->peers[0].to_string(), "[2001:db8::1]:6881");
  CAF_CHECK_EQUAL(udp::encode(*r6, address_family::v6), v6);
  // encoding keeps only the socket's family
  auto mixed = *r;
  mixed.peers.push_back(r6->peers[0]);
  CAF_CHECK_EQUAL(udp::encode(mixed, address_family::v4), v4);
  CAF_CHECK_EQUAL(udp::encode(mixed, address_family::v6).size(), 20u + 18);
  // port 0 peers are skipped; no peers at all is fine
  auto zero = v4.substr(0, 20) + "\x01\x01\x01\x01\x00\x00"s;
  r = udp::parse_announce_response(zero, 0xAABBCCDD);
  CAF_REQUIRE(r);
  CAF_CHECK(r->peers.empty());
  r = udp::parse_announce_response(v4.substr(0, 20), 0xAABBCCDD);
  CAF_REQUIRE(r);
  CAF_CHECK(r->peers.empty());
}

CAF_TEST(scrape packets) {
  udp::scrape_request req{0x0102030405060708ull, 7, {counting_hash(), hash_of("BBBBBBBBBBBBBBBBBBBB")}};
  auto bytes = "\x01\x02\x03\x04\x05\x06\x07\x08"
               "\x00\x00\x00\x02"
               "\x00\x00\x00\x07"s
               + counting_bytes + "BBBBBBBBBBBBBBBBBBBB";
  CAF_CHECK_EQUAL(udp::encode(req), bytes);
  auto back = udp::parse_request(bytes);
  CAF_REQUIRE(back);
  CAF_CHECK(std::get<udp::scrape_request>(*back) == req);

  auto resp = "\x00\x00\x00\x02"
              "\x00\x00\x00\x07"
              "\x00\x00\x00\x05\x00\x00\x00\x32\x00\x00\x00\x0a"
              "\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x01"s;
  auto s = udp::parse_scrape_response(resp, 7);
  CAF_REQUIRE(s);
  CAF_REQUIRE_EQUAL(s->entries.size(), 2u);
  CAF_CHECK(s->entries[0] == (udp::scrape_entry{5, 50, 10}));
  CAF_CHECK(s->entries[1] == (udp::scrape_entry{0xFFFFFFFF, 0, 1}));
  CAF_CHECK_EQUAL(udp::encode(*s), resp);
  // 74 hashes are allowed
  req.info_hashes.assign(74, counting_hash());
  CAF_CHECK(udp::parse_request(udp::encode(req)));
  req.info_hashes.push_back(counting_hash());
  CAF_CHECK_EQUAL(request_error(udp::encode(req)),
                  "scrape request with 75 info-hashes exceeds the limit of 74 (at byte 16)");
}

CAF_TEST(error responses) {
  auto bytes = "\x00\x00\x00\x03"
               "\x00\x00\x00\x09"
               "bad info hash\0"s;
  auto any = udp::decode_response(bytes);
  CAF_REQUIRE(any);
  auto& e = std::get<udp::error_response>(*any);
  CAF_CHECK_EQUAL(e.transaction_id, 9u);
  CAF_CHECK_EQUAL(e.message, "bad info hash\0"s);
  CAF_CHECK_EQUAL(udp::encode(e), bytes);
  // surfaced for every expected action, trailing NUL dropped
  CAF_CHECK_EQUAL(expect_error(bytes, udp::action::announce, 9), "tracker error: bad info hash");
  CAF_CHECK_EQUAL(expect_error(bytes, udp::action::connect, 9), "tracker error: bad info hash");
  auto s = udp::parse_scrape_response(bytes, 9);
  CAF_REQUIRE(!s);
  CAF_CHECK_EQUAL(s.error().message, "tracker error: bad info hash");
  // control bytes are neutralised and long messages cut
  auto ctl = "\x00\x00\x00\x03\x00\x00\x00\x09" "a\nb\x1b" "c"s + std::string(300, 'x');
  CAF_CHECK_EQUAL(expect_error(ctl, udp::action::announce, 9),
                  "tracker error: a?b?c" + std::string(195, 'x') + "...");
  // an empty message
  CAF_CHECK_EQUAL(expect_error(bytes.substr(0, 8), udp::action::announce, 9), "tracker error: ");
  // with another transaction id it is a mismatch, not the tracker's error
  CAF_CHECK_EQUAL(expect_error(bytes, udp::action::announce, 10),
                  "transaction id mismatch: expected 0x0000000a, got 0x00000009 (at byte 4)");
}

CAF_TEST(malformed requests) {
  CAF_CHECK_EQUAL(request_error(""), "request too short: 0 bytes, need at least 16");
  CAF_CHECK_EQUAL(request_error(std::string(15, '\0')),
                  "request too short: 15 bytes, need at least 16");
  CAF_CHECK_EQUAL(request_error("\x00\x00\x04\x17\x27\x10\x19\x81"
                                "\x00\x00\x00\x00"
                                "\x12\x34\x56\x78"s),
                  "connect request with wrong protocol id 0x41727101981 (at byte 0)");
  CAF_CHECK_EQUAL(request_error(announce_bytes.substr(0, 97)),
                  "announce request too short: 97 bytes, need at least 98");
  auto bad_event = announce_bytes;
  bad_event[83] = 4;
  CAF_CHECK_EQUAL(request_error(bad_event), "invalid announce event 4 (at byte 80)");
  auto scrape_head = "\0\0\0\0\0\0\0\x01\0\0\0\x02\0\0\0\x01"s;
  CAF_CHECK_EQUAL(request_error(scrape_head), "scrape request without info-hashes (at byte 16)");
  CAF_CHECK_EQUAL(request_error(scrape_head + std::string(21, 'a')),
                  "scrape request info-hash bytes 21 are not a multiple of 20 (at byte 16)");
  CAF_CHECK_EQUAL(request_error("\0\0\0\0\0\0\0\x01\0\0\0\x03\0\0\0\x01"s),
                  "unexpected action 3 (error) in a request (at byte 8)");
  CAF_CHECK_EQUAL(request_error("\0\0\0\0\0\0\0\x01\xff\xff\xff\xff\0\0\0\x01"s),
                  "unexpected action 4294967295 in a request (at byte 8)");
}

CAF_TEST(malformed responses) {
  CAF_CHECK_EQUAL(response_error("\0\0\0\0\0\0\0"s), "response too short: 7 bytes, need at least 8");
  CAF_CHECK_EQUAL(response_error(std::string(15, '\0')),
                  "connect response too short: 15 bytes, need at least 16");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x01"s + std::string(15, '\0')),
                  "announce response too short: 19 bytes, need at least 20");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x01"s + std::string(16 + 7, '\0')),
                  "announce response peers length 7 is not a multiple of 6 (ipv4) (at byte 20)");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x01"s + std::string(16 + 6, '\0'), address_family::v6),
                  "announce response peers length 6 is not a multiple of 18 (ipv6) (at byte 20)");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x02"s + std::string(4 + 13, '\0')),
                  "scrape response payload length 13 is not a multiple of 12 (at byte 8)");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x04"s + std::string(4, '\0')),
                  "unknown action 4 (at byte 0)");
  CAF_CHECK_EQUAL(response_error("\0\0\0\x02"s + std::string(4, '\0')), "ok"); // empty scrape
  // expectations
  auto connect = udp::encode(udp::connect_response{5, 6});
  CAF_CHECK_EQUAL(expect_error(connect, udp::action::connect, 5), "ok");
  CAF_CHECK_EQUAL(expect_error(connect, udp::action::announce, 5),
                  "unexpected action 0 (connect), expected 1 (announce) (at byte 0)");
  CAF_CHECK_EQUAL(expect_error(connect, udp::action::connect, 6),
                  "transaction id mismatch: expected 0x00000006, got 0x00000005 (at byte 4)");
  CAF_CHECK_EQUAL(expect_error(connect.substr(0, 7), udp::action::connect, 5),
                  "response too short: 7 bytes, need at least 8");
  CAF_CHECK_EQUAL(expect_error(connect.substr(0, 12), udp::action::connect, 5),
                  "connect response too short: 12 bytes, need at least 16");
  auto bad = "\0\0\0\x09\0\0\0\x05"s;
  CAF_CHECK_EQUAL(expect_error(bad, udp::action::scrape, 5),
                  "unexpected action 9, expected 2 (scrape) (at byte 0)");
  auto ann = udp::parse_announce_response(connect, 5);
  CAF_REQUIRE(!ann);
  CAF_CHECK_EQUAL(ann.error().message,
                  "unexpected action 0 (connect), expected 1 (announce)");
}

CAF_TEST(round trips of every packet) {
  std::vector<udp::request> requests;
  requests.emplace_back(udp::connect_request{0});
  requests.emplace_back(udp::connect_request{0xFFFFFFFF});
  requests.emplace_back(sample_announce());
  auto a = sample_announce();
  a.event = event::stopped;
  a.num_want = 200;
  a.ip = 0x7F000001;
  a.url_data = "/x?y=z";
  requests.emplace_back(a);
  requests.emplace_back(udp::scrape_request{1, 2, {counting_hash()}});
  for (const auto& r : requests) {
    auto back = udp::parse_request(udp::encode(r));
    CAF_REQUIRE(back);
    CAF_CHECK(*back == r);
  }
  std::vector<udp::response> responses;
  responses.emplace_back(udp::connect_response{1, 0xFFFFFFFFFFFFFFFFull});
  responses.emplace_back(udp::announce_response{2, 60, 1, 2, {peer_endpoint::v4(1, 2, 3, 4, 5)}});
  responses.emplace_back(udp::announce_response{3, 0, 0, 0, {}});
  responses.emplace_back(udp::scrape_response{4, {{1, 2, 3}, {4, 5, 6}}});
  responses.emplace_back(udp::scrape_response{4, {}});
  responses.emplace_back(udp::error_response{5, "nope"});
  for (const auto& r : responses) {
    auto back = udp::decode_response(udp::encode(r));
    CAF_REQUIRE(back);
    CAF_CHECK(*back == r);
  }
  udp::response v6 = udp::announce_response{
    6, 1, 2, 3, {*peer_endpoint::from_ip("::1", 1), *peer_endpoint::from_ip("fe80::2", 65535)}};
  auto back = udp::decode_response(udp::encode(v6, address_family::v6), address_family::v6);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == v6);
}

CAF_TEST(announce request from the http form) {
  tracker::announce_request h;
  h.info_hash = counting_hash();
  h.peer_id = hash_of("-AT0001-123456789012");
  h.port = 6881;
  h.downloaded = 0x10;
  h.left = 0x20;
  h.uploaded = 0x30;
  h.event = event::started;
  h.key = 0xDEADBEEF;
  h.numwant = -1;
  auto u = udp::make_announce_request(h, 0x0102030405060708ull, 0xAABBCCDD);
  CAF_CHECK_EQUAL(udp::encode(u), announce_bytes);
  h.numwant = 50;
  h.key.reset();
  u = udp::make_announce_request(h, 1, 2, "/announce");
  CAF_CHECK_EQUAL(u.num_want, 50);
  CAF_CHECK_EQUAL(u.key, 0u);
  CAF_CHECK_EQUAL(u.url_data, "/announce");
}

CAF_TEST(udp tracker urls) {
  auto u = udp::parse_url("udp://tracker.opentrackr.org:1337/announce");
  CAF_REQUIRE(u);
  CAF_CHECK_EQUAL(u->host, "tracker.opentrackr.org");
  CAF_CHECK_EQUAL(u->port, 1337);
  CAF_CHECK_EQUAL(u->request_string, "/announce");
  u = udp::parse_url("UDP://[2001:db8::1]:6969");
  CAF_REQUIRE(u);
  CAF_CHECK_EQUAL(u->host, "2001:db8::1");
  CAF_CHECK_EQUAL(u->port, 6969);
  CAF_CHECK_EQUAL(u->request_string, "");
  u = udp::parse_url("udp://1.2.3.4:80?passkey=a/b#frag");
  CAF_REQUIRE(u);
  CAF_CHECK_EQUAL(u->host, "1.2.3.4");
  CAF_CHECK_EQUAL(u->request_string, "?passkey=a/b");
  CAF_CHECK_EQUAL(url_error("http://t:80/announce"), "not a udp:// url: 'http://t:80/announce'");
  CAF_CHECK_EQUAL(url_error("udp:/t:80"), "not a udp:// url: 'udp:/t:80'");
  CAF_CHECK_EQUAL(url_error("udp://"), "udp tracker url has no host: 'udp://'");
  CAF_CHECK_EQUAL(url_error("udp:///announce"), "udp tracker url has no host: 'udp:///announce'");
  CAF_CHECK_EQUAL(url_error("udp://tracker.example.com/announce"),
                  "udp tracker url: missing port in address 'tracker.example.com'");
  CAF_CHECK_EQUAL(url_error("udp://t:/announce"), "udp tracker url: missing port in address 't:'");
  CAF_CHECK_EQUAL(url_error("udp://t:0"), "udp tracker url: invalid port '0'");
  CAF_CHECK_EQUAL(url_error("udp://t:70000/announce"), "udp tracker url: invalid port '70000'");
  CAF_CHECK_EQUAL(url_error("udp://t:8x"), "udp tracker url: invalid port '8x'");
  CAF_CHECK_EQUAL(url_error("udp://:80"), "udp tracker url: empty host in address ':80'");
  CAF_CHECK_EQUAL(url_error("udp://2001:db8::1:80"),
                  "udp tracker url: ipv6 address without brackets in '2001:db8::1:80'");
  CAF_CHECK_EQUAL(url_error("udp://user@t:80"),
                  "udp tracker url: invalid character in host 'user@t'");
}
