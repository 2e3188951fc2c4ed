#define CAF_SUITE magnet
#include <caf/test/unit_test.hpp>

#include "protocol/magnet.hpp"

#include <string>

using namespace actorrent;
using namespace std::literals;

namespace {

const char* ubuntu_hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

std::string error_of(std::string_view uri) {
  auto r = parse_magnet(uri);
  return r ? "ok" : r.error().to_string();
}

} // namespace

CAF_TEST(hex info hash and all fields) {
  auto uri = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
             "&dn=Ubuntu+22.04%20ISO"
             "&tr=udp%3A%2F%2Ftracker.example%3A1337"
             "&tr=http://t2/announce"
             "&tr=udp%3a%2f%2ftracker.example%3a1337" // duplicate once decoded
             "&tr="                                   // empty: dropped
             "&x.pe=1.2.3.4:6881"
             "&x.pe=%5B::1%5D:80"
             "&x.pe=peer.example:51413"
             "&x.pe=1.2.3.4:6881" // duplicate
             "&foo=bar&&novalue&dn=second";
  auto r = parse_magnet(uri);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->info_hash.hex(), ubuntu_hex);
  CAF_CHECK_EQUAL(r->display_name, "Ubuntu+22.04 ISO"); // '+' stays literal, first dn wins
  CAF_REQUIRE_EQUAL(r->trackers.size(), 2u);
  CAF_CHECK_EQUAL(r->trackers[0], "udp://tracker.example:1337");
  CAF_CHECK_EQUAL(r->trackers[1], "http://t2/announce");
  CAF_REQUIRE_EQUAL(r->peers.size(), 3u);
  CAF_CHECK_EQUAL(r->peers[0].to_string(), "1.2.3.4:6881");
  CAF_CHECK_EQUAL(r->peers[1].host, "::1");
  CAF_CHECK_EQUAL(r->peers[1].port, 80);
  CAF_CHECK_EQUAL(r->peers[2].host, "peer.example");
  CAF_CHECK(!r->peers[2].endpoint());
  CAF_CHECK(r->peers[1].endpoint()->v6);
}

CAF_TEST(base32 info hash) {
  auto upper = parse_magnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");
  CAF_REQUIRE(upper);
  CAF_CHECK_EQUAL(upper->info_hash.hex(), ubuntu_hex);
  auto lower = parse_magnet("MAGNET:?xt=URN:BTIH:yex6dqdlxisuvhoj6um3gnnkpqjwpkek");
  CAF_REQUIRE(lower);
  CAF_CHECK_EQUAL(lower->info_hash.hex(), ubuntu_hex);
  auto counting = parse_magnet("magnet:?xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT");
  CAF_REQUIRE(counting);
  CAF_CHECK_EQUAL(counting->info_hash.hex(), "000102030405060708090a0b0c0d0e0f10111213");
  auto hex_upper = parse_magnet("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
  CAF_REQUIRE(hex_upper);
  CAF_CHECK_EQUAL(hex_upper->info_hash.hex(), ubuntu_hex);
  CAF_CHECK(hex_upper->display_name.empty());
  CAF_CHECK(hex_upper->trackers.empty());
  CAF_CHECK(hex_upper->peers.empty());
}

CAF_TEST(several xt parameters) {
  // the same hash in hex and base32, numbered keys, a btmh and an unknown urn
  auto r = parse_magnet("magnet:?xt.1=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"
                        "&xt.2=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
                        "&xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e"
                        "&xt=urn:sha1:XYZ&tr.1=http://a/announce&xt.x=ignored");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->info_hash.hex(), ubuntu_hex);
  CAF_REQUIRE_EQUAL(r->trackers.size(), 1u);
  CAF_CHECK_EQUAL(r->trackers[0], "http://a/announce");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
                           "&xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT"),
                  "conflicting btih info-hashes c12fe1c06bba254a9dc9f519b335aa7c1367a88a and "
                  "000102030405060708090a0b0c0d0e0f10111213 (at byte 64)");
}

CAF_TEST(errors) {
  CAF_CHECK_EQUAL(error_of(""), "not a magnet uri (expected 'magnet:?') (at byte 0)");
  CAF_CHECK_EQUAL(error_of("magnet:xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"),
                  "not a magnet uri (expected 'magnet:?') (at byte 0)");
  CAF_CHECK_EQUAL(error_of("http://x/?xt=1"), "not a magnet uri (expected 'magnet:?') (at byte 0)");
  CAF_CHECK_EQUAL(error_of("magnet:?"), "missing xt parameter");
  CAF_CHECK_EQUAL(error_of("magnet:?dn=x&tr=http://a/announce&xt"), "missing xt parameter");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:abc"),
                  "btih info-hash has 3 characters, expected 40 (hex) or 32 (base32) (at byte 11)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:"),
                  "btih info-hash has 0 characters, expected 40 (hex) or 32 (base32) (at byte 11)");
  CAF_CHECK_EQUAL(error_of("magnet:?dn=a&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88g"),
                  "invalid character 'g' in hex info-hash (at byte 16)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1"),
                  "invalid character '1' in base32 info-hash (at byte 11)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE="),
                  "invalid character '=' in base32 info-hash (at byte 11)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f61"
                           "05232b28ad099f3a302e&dn=v2"),
                  "v2 magnet links (btmh) are not supported yet");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:ed2k:abc&xt=urn:sha1:def"),
                  "unsupported xt 'urn:ed2k:abc' (expected urn:btih:)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn%3Abtih%3AYEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=%zz"),
                  "invalid percent escape '%zz' (at byte 60)");
  CAF_CHECK_EQUAL(error_of("magnet:?dn=ab%4"), "truncated percent escape '%4' (at byte 13)");
  CAF_CHECK_EQUAL(error_of("magnet:?dn=ab%"), "truncated percent escape '%' (at byte 13)");
  CAF_CHECK_EQUAL(error_of("magnet:?tr=%G0"), "invalid percent escape '%G0' (at byte 11)");
  // unknown keys are not decoded, so a bad escape there is harmless
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&ws=%zz"), "ok");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&x.pe=1.2.3.4"),
                  "invalid x.pe: missing port in address '1.2.3.4' (at byte 58)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&x.pe=::1:80"),
                  "invalid x.pe: ipv6 address without brackets in '::1:80' (at byte 58)");
  CAF_CHECK_EQUAL(error_of("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&x.pe=h:0"),
                  "invalid x.pe: invalid port '0' (at byte 58)");
}

CAF_TEST(encoding and round trip) {
  magnet_link m;
  m.info_hash = *sha1_hash::from_hex(ubuntu_hex);
  m.display_name = "Ubuntu 22.04 (x86_64) ~ä&=";
  m.trackers = {"udp://tracker.example:1337/announce", "http://t/a?x=1&y=2"};
  m.peers = {host_port{"1.2.3.4", 6881}, host_port{"::1", 80}, host_port{"peer.example", 1}};
  auto uri = to_magnet_uri(m);
  CAF_CHECK_EQUAL(uri, "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
                       "&dn=Ubuntu%2022.04%20%28x86_64%29%20~%C3%A4%26%3D"
                       "&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce"
                       "&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1%26y%3D2"
                       "&x.pe=1.2.3.4%3A6881&x.pe=%5B%3A%3A1%5D%3A80&x.pe=peer.example%3A1");
  auto back = parse_magnet(uri);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == m);
  magnet_link bare;
  bare.info_hash = *sha1_hash::from_hex("000102030405060708090a0b0c0d0e0f10111213");
  CAF_CHECK_EQUAL(to_magnet_uri(bare),
                  "magnet:?xt=urn:btih:000102030405060708090a0b0c0d0e0f10111213");
  auto bare_back = parse_magnet(to_magnet_uri(bare));
  CAF_REQUIRE(bare_back);
  CAF_CHECK(*bare_back == bare);
  // binary bytes in the name survive
  m.display_name = "\0\xff\n"s;
  auto bin = parse_magnet(to_magnet_uri(m));
  CAF_REQUIRE(bin);
  CAF_CHECK_EQUAL(bin->display_name, "\0\xff\n"s);
}
