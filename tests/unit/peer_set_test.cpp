#define CAF_SUITE peer_set
#include <caf/test/unit_test.hpp>

#include "logic/peer_set.hpp"

#include <chrono>

using namespace actorrent;
using namespace actorrent::logic;
using namespace std::chrono_literals;

namespace {

const peer_set::time_point t0 = peer_set::time_point{} + 24h;

peer_endpoint ep(std::uint8_t n, std::uint16_t port = 6881) { return peer_endpoint::v4(10, 0, 0, n, port); }

sha1_hash id(std::uint8_t n) {
  sha1_hash h;
  h.bytes.fill(n);
  return h;
}

peer_set_config small(std::uint32_t max_peers, std::uint32_t max_half_open) {
  peer_set_config c;
  c.max_peers = max_peers;
  c.max_half_open = max_half_open;
  return c;
}

// Dials one candidate and completes its TCP connect; returns its index.
peer_set::index dial_one(peer_set& ps, peer_set::time_point now) {
  auto d = ps.dial(now);
  CAF_REQUIRE_EQUAL(d.size(), 1u);
  CAF_REQUIRE(ps.connected(d[0].first, now));
  return d[0].first;
}

} // namespace

CAF_TEST(candidates are dialled within the half-open and peer limits) {
  peer_set ps{small(3, 2)};
  CAF_CHECK_EQUAL(ps.add_candidates({ep(1), ep(2), ep(3), ep(4), ep(1), ep(5, 0)}), 4u); // dup, port 0
  auto d = ps.dial(t0);
  CAF_CHECK_EQUAL(d.size(), 2u); // half-open limit
  CAF_CHECK_EQUAL(ps.half_open(), 2u);
  CAF_CHECK(ps.dial(t0).empty());
  CAF_CHECK(ps.connected(d[0].first, t0));
  CAF_CHECK(!ps.connected(d[0].first, t0)); // only once
  CAF_CHECK_EQUAL(ps.half_open(), 1u);
  CAF_CHECK_EQUAL(ps.dial(t0).size(), 1u); // peer limit: 3 connections
  CAF_CHECK_EQUAL(ps.size(), 3u);
  CAF_CHECK(ps.dial(t0).empty());
}

CAF_TEST(failed connects back off doubling and a handshake resets them) {
  peer_set ps;
  ps.add_candidates({ep(1)});
  auto d = ps.dial(t0);
  ps.connect_failed(d[0].first, t0);
  CAF_CHECK_EQUAL(ps.half_open(), 0u);
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 10s);
  CAF_CHECK(ps.dial(t0 + 9s).empty());
  d = ps.dial(t0 + 10s);
  CAF_REQUIRE_EQUAL(d.size(), 1u);
  ps.connect_failed(d[0].first, t0 + 10s);
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 30s); // 20 s
  // many failures: capped at five minutes
  auto now = t0 + 30s;
  for (int i = 0; i < 10; ++i) {
    d = ps.dial(now);
    CAF_REQUIRE_EQUAL(d.size(), 1u);
    ps.connect_failed(d[0].first, now);
    now = *ps.next_attempt(ep(1));
  }
  d = ps.dial(now);
  ps.connect_failed(d[0].first, now);
  CAF_CHECK(*ps.next_attempt(ep(1)) == now + 300s);
  // a handshake, then a connection that lasted: the first back-off again
  now += 300s;
  auto idx = dial_one(ps, now);
  CAF_CHECK(ps.handshake(idx, id(1)).keep);
  ps.closed(idx, now + 60s);
  CAF_CHECK(*ps.next_attempt(ep(1)) == now + 70s);
}

CAF_TEST(a dial is due for a fresh candidate and not for one backing off beyond the horizon) {
  peer_set ps;
  CAF_CHECK(!ps.dial_due(t0, 30s)); // nobody known
  ps.add_candidates({ep(1)});
  CAF_CHECK(ps.dial_due(t0, 30s));
  auto d = ps.dial(t0);
  CAF_CHECK(!ps.dial_due(t0, 30s)); // connecting: not a candidate to dial
  ps.connect_failed(d[0].first, t0); // back-off 10 s
  CAF_CHECK(ps.dial_due(t0, 30s));
  CAF_CHECK(!ps.dial_due(t0, 5s));
  CAF_CHECK(ps.dial_due(t0 + 10s, 0s));
}

CAF_TEST(a peer that closes early is retried sooner with growing back-off) {
  peer_set ps;
  ps.add_candidates({ep(1)});
  auto idx = dial_one(ps, t0);
  ps.closed(idx, t0 + 200ms); // hung up at once (transmission just after its start)
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 200ms + 1s);
  CAF_CHECK(ps.dial(t0 + 1s).empty());
  idx = dial_one(ps, t0 + 2s);
  ps.closed(idx, t0 + 2s); // again: 2 s
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 4s);
  idx = dial_one(ps, t0 + 4s);
  ps.closed(idx, t0 + 4s); // 4 s
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 8s);
  // this time it stays a while: a normal close afterwards, the early count starts over
  idx = dial_one(ps, t0 + 8s);
  ps.closed(idx, t0 + 60s);
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 70s);
  idx = dial_one(ps, t0 + 70s);
  ps.closed(idx, t0 + 70s);
  CAF_CHECK(*ps.next_attempt(ep(1)) == t0 + 71s);
}

CAF_TEST(closing a connection ourselves frees the candidate without back-off) {
  peer_set ps;
  ps.add_candidates({ep(1)});
  auto idx = dial_one(ps, t0);
  ps.closed(idx, t0, false);
  CAF_CHECK_EQUAL(ps.size(), 0u);
  CAF_CHECK_EQUAL(ps.dial(t0).size(), 1u);
}

CAF_TEST(incoming peers count against the limit and are refused by banned address) {
  peer_set ps{small(2, 8)};
  peer_set::index a = 0, b = 0, c = 0;
  CAF_CHECK(ps.accept(ep(1, 50000), t0, a) == peer_set::refusal::none);
  CAF_CHECK(ps.accept(ep(2, 50001), t0, b) == peer_set::refusal::none);
  CAF_CHECK(a != b);
  CAF_CHECK(ps.accept(ep(3, 50002), t0, c) == peer_set::refusal::limit);
  ps.closed(b, t0);
  // banned after it is gone (a hash failure judged later): by address for incoming
  auto banned = ps.ban(b);
  CAF_REQUIRE(banned);
  CAF_CHECK(*banned == ep(2, 50001));
  CAF_CHECK_EQUAL(ps.banned_count(), 1u);
  CAF_CHECK(ps.accept(ep(2, 40000), t0, c) == peer_set::refusal::banned);
  CAF_CHECK(ps.accept(ep(3, 40000), t0, c) == peer_set::refusal::none);
  CAF_CHECK(!ps.ban(999));
}

CAF_TEST(banned endpoints are never dialled) {
  peer_set ps;
  ps.add_candidates({ep(1), ep(2)});
  auto d = ps.dial(t0);
  CAF_REQUIRE_EQUAL(d.size(), 2u);
  ps.connected(d[0].first, t0);
  ps.ban(d[0].first);
  ps.closed(d[0].first, t0 + 1h);
  ps.connect_failed(d[1].first, t0);
  CAF_CHECK_EQUAL(ps.add_candidates({d[0].second}), 0u);
  auto again = ps.dial(t0 + 2h);
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK(again[0].second == d[1].second);
}

CAF_TEST(duplicate connections keep the one whose initiator has the lower id) {
  // we are id 5; the remote is id 9: a connection we initiated (5) beats one it initiated (9)
  peer_set ps{peer_set_config{}, id(5)};
  ps.add_candidates({ep(1)});
  peer_set::index in = 0;
  CAF_REQUIRE(ps.accept(ep(1, 50000), t0, in) == peer_set::refusal::none);
  CAF_CHECK(ps.handshake(in, id(9)).keep);
  auto out = dial_one(ps, t0);
  auto r = ps.handshake(out, id(9));
  CAF_CHECK(r.keep);
  CAF_REQUIRE(r.drop);
  CAF_CHECK_EQUAL(*r.drop, in);
  CAF_CHECK(!ps.find(in)->handshaken);
  // the remote id 2 is lower than ours: its connection to us wins over ours to it
  peer_set ps2{peer_set_config{}, id(5)};
  ps2.add_candidates({ep(1)});
  CAF_REQUIRE(ps2.accept(ep(1, 50000), t0, in) == peer_set::refusal::none);
  CAF_CHECK(ps2.handshake(in, id(2)).keep);
  out = dial_one(ps2, t0);
  r = ps2.handshake(out, id(2));
  CAF_CHECK(!r.keep);
  CAF_REQUIRE(r.drop);
  CAF_CHECK_EQUAL(*r.drop, out);
  // the loser closes at once, but it backs off as after a failure, not an early close
  ps2.closed(out, t0 + 100ms);
  CAF_CHECK(*ps2.next_attempt(ep(1)) == t0 + 100ms + 10s);
}

CAF_TEST(a drop recorded before the handle arrives is handed out on attach) {
  peer_set ps;
  peer_set::index in = 0;
  CAF_REQUIRE(ps.accept(ep(1), t0, in) == peer_set::refusal::none);
  ps.drop_on_attach(in, "duplicate");
  CAF_CHECK_EQUAL(ps.attach(in), "duplicate");
  peer_set::index in2 = 0;
  CAF_REQUIRE(ps.accept(ep(2), t0, in2) == peer_set::refusal::none);
  CAF_CHECK_EQUAL(ps.attach(in2), "");
}

CAF_TEST(accepted incoming peers whose connection never came expire) {
  peer_set ps;
  peer_set::index a = 0, b = 0;
  ps.accept(ep(1), t0, a);
  ps.accept(ep(2), t0 + 20s, b);
  ps.attach(b);
  CAF_CHECK(ps.expire_unattached(t0 + 29s).empty());
  CAF_CHECK_EQUAL(ps.expire_unattached(t0 + 30s), std::vector<peer_set::index>{a});
  CAF_CHECK_EQUAL(ps.size(), 1u);
  CAF_CHECK(ps.expire_unattached(t0 + 1h).empty()); // b is attached
}

CAF_TEST(clearing the connections keeps candidates and bans) {
  peer_set ps;
  ps.add_candidates({ep(1), ep(2)});
  auto d = ps.dial(t0);
  CAF_REQUIRE_EQUAL(d.size(), 2u);
  ps.connected(d[0].first, t0);
  ps.ban(d[0].first);
  ps.clear_connections();
  CAF_CHECK_EQUAL(ps.size(), 0u);
  CAF_CHECK_EQUAL(ps.half_open(), 0u);
  CAF_CHECK_EQUAL(ps.banned_count(), 1u);
  auto again = ps.dial(t0);
  CAF_REQUIRE_EQUAL(again.size(), 1u);
  CAF_CHECK(again[0].second == d[1].second);
  // late news of a connection that was cleared changes nothing
  CAF_CHECK(!ps.connected(d[1].first, t0));
  ps.connect_failed(d[1].first, t0);
  CAF_CHECK_EQUAL(ps.half_open(), 1u);
}
