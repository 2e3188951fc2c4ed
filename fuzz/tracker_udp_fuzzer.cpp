// libFuzzer target for the UDP tracker codec (protocol/tracker_udp.hpp).
//
// The input is decoded in both directions: as a client -> tracker packet and as a
// tracker -> client packet on an IPv4 and on an IPv6 socket. Every accepted
// packet is re-encoded and decoded again (same value), and the re-encoding must
// reproduce the bytes the decoder consumed. parse_response() is checked against
// decode_response() for every expected action, and the input is also parsed as
// a udp:// URL whose pieces must rebuild an equal URL. Any broken invariant calls
// abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/peer_address.hpp"
#include "protocol/tracker_udp.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

using namespace actorrent;
using namespace actorrent::tracker;

namespace {

void check_request(std::string_view in) {
  auto r = udp::parse_request(in);
  if (!r)
    return;
  auto enc = udp::encode(*r);
  auto back = udp::parse_request(enc);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *r);
  FUZZ_CHECK(udp::encode(*back) == enc);
  if (std::holds_alternative<udp::connect_request>(*r)) {
    FUZZ_CHECK(enc == in.substr(0, udp::connect_request_size));
  } else if (auto* a = std::get_if<udp::announce_request>(&*r)) {
    FUZZ_CHECK(enc.compare(0, udp::announce_request_size, in.substr(0, 98)) == 0);
    FUZZ_CHECK(a->url_data.size() <= in.size() - udp::announce_request_size);
    FUZZ_CHECK(static_cast<std::uint32_t>(a->event) <= 3);
  } else {
    const auto& s = std::get<udp::scrape_request>(*r);
    FUZZ_CHECK(!s.info_hashes.empty() && s.info_hashes.size() <= udp::max_scrape_hashes);
    FUZZ_CHECK(enc == in);
  }
}

void check_response(std::string_view in, address_family family) {
  auto r = udp::decode_response(in, family);
  // parse_response agrees with decode_response for every expectation.
  if (in.size() >= 8) {
    auto act = static_cast<std::uint32_t>(static_cast<unsigned char>(in[0])) << 24
               | static_cast<std::uint32_t>(static_cast<unsigned char>(in[1])) << 16
               | static_cast<std::uint32_t>(static_cast<unsigned char>(in[2])) << 8
               | static_cast<std::uint32_t>(static_cast<unsigned char>(in[3]));
    auto txid = static_cast<std::uint32_t>(static_cast<unsigned char>(in[4])) << 24
                | static_cast<std::uint32_t>(static_cast<unsigned char>(in[5])) << 16
                | static_cast<std::uint32_t>(static_cast<unsigned char>(in[6])) << 8
                | static_cast<std::uint32_t>(static_cast<unsigned char>(in[7]));
    for (auto expected : {udp::action::connect, udp::action::announce, udp::action::scrape}) {
      auto p = udp::parse_response(in, expected, txid, family);
      if (act == static_cast<std::uint32_t>(udp::action::error)) {
        FUZZ_CHECK(!p);
        FUZZ_CHECK(p.error().message.rfind("tracker error: ", 0) == 0);
        FUZZ_CHECK(p.error().message.size() <= 15 + 203);
      } else if (act == static_cast<std::uint32_t>(expected)) {
        FUZZ_CHECK(p.ok() == r.ok());
        if (p)
          FUZZ_CHECK(*p == *r);
      } else {
        FUZZ_CHECK(!p);
      }
      auto wrong = udp::parse_response(in, expected, txid + 1, family);
      FUZZ_CHECK(!wrong);
      FUZZ_CHECK(wrong.error().message.rfind("transaction id mismatch", 0) == 0);
    }
    if (act == static_cast<std::uint32_t>(udp::action::announce)) {
      auto typed = udp::parse_announce_response(in, txid, family);
      FUZZ_CHECK(typed.ok() == r.ok());
    }
  }
  if (!r)
    return;
  auto enc = udp::encode(*r, family);
  auto back = udp::decode_response(enc, family);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *r);
  FUZZ_CHECK(udp::encode(*back, family) == enc);
  if (std::holds_alternative<udp::connect_response>(*r)) {
    FUZZ_CHECK(enc == in.substr(0, udp::connect_response_size));
  } else if (auto* a = std::get_if<udp::announce_response>(&*r)) {
    FUZZ_CHECK(enc.compare(0, 20, in.substr(0, 20)) == 0);
    auto stride = peer_endpoint::compact_size(family);
    FUZZ_CHECK(a->peers.size() <= (in.size() - 20) / stride);
    for (const auto& p : a->peers)
      FUZZ_CHECK(p.port != 0 && p.family() == family);
  } else {
    // scrape and error responses are encoded back byte for byte
    FUZZ_CHECK(enc == in);
  }
}

void check_url(std::string_view in) {
  auto u = udp::parse_url(in);
  if (!u)
    return;
  FUZZ_CHECK(u->port != 0 && !u->host.empty());
  auto rebuilt = "udp://" + host_port{u->host, u->port}.to_string() + u->request_string;
  auto back = udp::parse_url(rebuilt);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *u);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_request(input);
  check_response(input, address_family::v4);
  check_response(input, address_family::v6);
  check_url(input);
  return 0;
}
