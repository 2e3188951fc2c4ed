// libFuzzer target for magnet URIs (protocol/magnet.hpp) and the address
// parsers they use (protocol/peer_address.hpp).
//
// Every accepted magnet link must satisfy the documented invariants (no empty or
// duplicate trackers, no duplicate peers, ports non-zero) and survive
// to_magnet_uri -> parse_magnet unchanged, with a stable re-encoding. The input
// is also parsed as "host:port" and as a numeric endpoint, whose printed forms
// must parse back to the same value, and as compact peer entries. Any broken
// invariant calls abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/magnet.hpp"
#include "protocol/peer_address.hpp"

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

void check_magnet(std::string_view in) {
  auto m = parse_magnet(in);
  if (!m)
    return;
  std::set<std::string> trackers;
  for (const auto& t : m->trackers) {
    FUZZ_CHECK(!t.empty());
    FUZZ_CHECK(trackers.insert(t).second);
  }
  std::set<host_port> peers;
  for (const auto& p : m->peers) {
    FUZZ_CHECK(p.port != 0 && !p.host.empty());
    FUZZ_CHECK(peers.insert(p).second);
  }
  auto uri = to_magnet_uri(*m);
  auto back = parse_magnet(uri);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *m);
  FUZZ_CHECK(to_magnet_uri(*back) == uri);
}

void check_addresses(std::string_view in) {
  if (auto hp = parse_host_port(in)) {
    FUZZ_CHECK(hp->port != 0 && !hp->host.empty());
    auto back = parse_host_port(hp->to_string());
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(*back == *hp);
  }
  if (auto ep = peer_endpoint::parse(in)) {
    FUZZ_CHECK(ep->port != 0);
    auto back = peer_endpoint::parse(ep->to_string());
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(*back == *ep);
    FUZZ_CHECK(peer_endpoint::from_compact(ep->compact()) == *ep);
  }
  for (auto family : {address_family::v4, address_family::v6}) {
    std::vector<peer_endpoint> out;
    auto stride = peer_endpoint::compact_size(family);
    auto usable = in.substr(0, in.size() - in.size() % stride);
    auto skipped = parse_compact_peers(usable, family, out, 1000);
    FUZZ_CHECK(skipped.ok());
    FUZZ_CHECK(out.size() + *skipped == usable.size() / stride);
    std::string again;
    for (const auto& p : out) {
      FUZZ_CHECK(p.family() == family && p.port != 0);
      auto text = peer_endpoint::parse(p.to_string());
      FUZZ_CHECK(text.ok() && *text == p);
      p.append_compact(again);
    }
    if (*skipped == 0)
      FUZZ_CHECK(again == usable);
    if (usable.size() != in.size())
      FUZZ_CHECK(!parse_compact_peers(in, family, out));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_magnet(input);
  check_addresses(input);
  return 0;
}
