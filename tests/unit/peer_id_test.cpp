#define CAF_SUITE peer_id
#include <caf/test/unit_test.hpp>

#include "protocol/peer_id.hpp"

#include <set>
#include <string>

using namespace actorrent;
using namespace std::literals;

namespace {

sha1_hash id_of(std::string_view s) {
  sha1_hash h;
  std::copy_n(s.begin(), std::min(s.size(), h.bytes.size()), h.bytes.begin());
  return h;
}

std::string describe(std::string_view s) { return describe_client(id_of(s)); }

} // namespace

CAF_TEST(generated ids carry our prefix and random alphanumerics) {
  auto id = generate_peer_id();
  auto v = id.view();
  CAF_CHECK_EQUAL(v.substr(0, 8), "-AT0001-"sv);
  for (auto c : v.substr(8))
    CAF_CHECK(peer_id_alphabet.find(c) != std::string_view::npos);
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i)
    seen.emplace(generate_peer_id().view());
  CAF_CHECK_EQUAL(seen.size(), 2000u);
  // every alphabet position shows up (uniform-ish draw, not a constant tail)
  std::set<char> chars;
  for (auto& s : seen)
    chars.insert(s.begin() + 8, s.end());
  CAF_CHECK_EQUAL(chars.size(), peer_id_alphabet.size());
  auto info = identify_client(id);
  CAF_CHECK_EQUAL(info.name, "actorrent"sv);
  CAF_CHECK_EQUAL(info.code, "AT");
}

CAF_TEST(custom prefixes) {
  auto id = generate_peer_id("-XX1234-");
  CAF_CHECK_EQUAL(id.view().substr(0, 8), "-XX1234-"sv);
  auto longer = generate_peer_id("0123456789abcdefghijKLMN");
  CAF_CHECK_EQUAL(longer.view(), "0123456789abcdefghij"sv);
  auto none = generate_peer_id("");
  for (auto c : none.view())
    CAF_CHECK(peer_id_alphabet.find(c) != std::string_view::npos);
}

CAF_TEST(azureus style clients) {
  CAF_CHECK_EQUAL(describe("-LT2090-abcdefghijkl"), "libtorrent 2.0.9");
  CAF_CHECK_EQUAL(describe("-LT1214-abcdefghijkl"), "libtorrent 1.2.1.4");
  CAF_CHECK_EQUAL(describe("-lt0D60-abcdefghijkl"), "libtorrent (rakshasa) 0.13.6");
  CAF_CHECK_EQUAL(describe("-TR400B-abcdefghijkl"), "Transmission 4.0.0");
  CAF_CHECK_EQUAL(describe("-TR4A00-abcdefghijkl"), "Transmission 4.10.0");
  CAF_CHECK_EQUAL(describe("-TR2940-abcdefghijkl"), "Transmission 2.94");
  CAF_CHECK_EQUAL(describe("-qB4250-abcdefghijkl"), "qBittorrent 4.2.5");
  CAF_CHECK_EQUAL(describe("-UT355W-abcdefghijkl"), "uTorrent 3.5.5");
  CAF_CHECK_EQUAL(describe("-DE13F0-abcdefghijkl"), "Deluge 1.3.15");
  CAF_CHECK_EQUAL(describe("-AT0001-abcdefghijkl"), "actorrent 0.0.0.1");
  CAF_CHECK_EQUAL(describe("-AZ5750-abcdefghijkl"), "Vuze 5.7.5");
  CAF_CHECK_EQUAL(describe("-BI3000-abcdefghijkl"), "BiglyBT 3.0.0");
  CAF_CHECK_EQUAL(describe("-KT5100-abcdefghijkl"), "KTorrent 5.1.0");
  auto info = identify_client(id_of("-qB4250-abcdefghijkl"));
  CAF_CHECK_EQUAL(info.name, "qBittorrent"sv);
  CAF_CHECK_EQUAL(info.version, "4.2.5");
  CAF_CHECK_EQUAL(info.code, "qB");
}

CAF_TEST(aria2 and mainline styles) {
  CAF_CHECK_EQUAL(describe("A2-1-36-0-abcdefghij"), "aria2 1.36.0");
  CAF_CHECK_EQUAL(describe("A2-1-37-0-\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"sv),
                  "aria2 1.37.0");
  CAF_CHECK_EQUAL(describe("A2-x-36-0-abcdefghij"), "unknown");
  CAF_CHECK_EQUAL(describe("M4-3-6--abcdefghijkl"), "BitTorrent (mainline) 4.3.6");
  CAF_CHECK_EQUAL(describe("M7-10-3-abcdefghijkl"), "BitTorrent (mainline) 7.10.3");
  auto info = identify_client(id_of("A2-1-36-0-abcdefghij"));
  CAF_CHECK_EQUAL(info.name, "aria2"sv);
  CAF_CHECK_EQUAL(info.version, "1.36.0");
  CAF_CHECK(info.code.empty());
}

CAF_TEST(unknown clients) {
  CAF_CHECK_EQUAL(describe("-XY1234-abcdefghijkl"), "unknown client -XY1234-");
  auto info = identify_client(id_of("-XY1234-abcdefghijkl"));
  CAF_CHECK_EQUAL(info.name, "unknown"sv);
  CAF_CHECK_EQUAL(info.code, "XY");
  CAF_CHECK(info.version.empty());
  CAF_CHECK_EQUAL(describe(""), "unknown"); // all zero bytes
  CAF_CHECK_EQUAL(describe("-LT20\x01" "0-abcdefghijkl"sv), "unknown");
  CAF_CHECK_EQUAL(describe("-LT2090xabcdefghijkl"), "unknown");
  CAF_CHECK_EQUAL(describe("ABCDEFGHIJKLMNOPQRST"), "unknown");
  // non-alphanumeric version characters: not an Azureus-style id at all
  CAF_CHECK_EQUAL(describe("-TR-.,0-abcdefghijkl"), "unknown");
}

CAF_TEST(random seeds differ and use every byte) {
  std::set<std::uint64_t> seen;
  std::uint64_t any = 0; // every bit that was set in some seed
  for (int i = 0; i < 64; ++i) {
    auto s = random_seed();
    seen.insert(s);
    any |= s;
  }
  CAF_CHECK_EQUAL(seen.size(), 64u);
  for (int byte = 0; byte < 8; ++byte) // each of the 8 bytes is filled in some seed
    CAF_CHECK_NOT_EQUAL((any >> (8 * byte)) & 0xff, 0u);
}
