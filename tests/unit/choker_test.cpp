#define CAF_SUITE choker
#include <caf/test/unit_test.hpp>

#include "logic/choker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

using namespace actorrent::logic;
using namespace std::chrono_literals;
using ids = std::vector<std::uint32_t>;

namespace {

// Far from the clock's epoch so that "connected long ago" stays representable.
const choker_clock::time_point t0 = choker_clock::time_point{} + 24h;

choker_peer peer(std::uint32_t id, double down_rate = 0, double up_rate = 0) {
  choker_peer p;
  p.id = id;
  p.interested = true;
  p.down_rate = down_rate;
  p.up_rate = up_rate;
  p.connected_at = t0;
  return p;
}

// Interested peers 1..n with no rates.
std::vector<choker_peer> peers(std::uint32_t n) {
  std::vector<choker_peer> out;
  for (std::uint32_t id = 1; id <= n; ++id)
    out.push_back(peer(id));
  return out;
}

choker_config slots(std::uint32_t regular, std::uint32_t optimistic) {
  choker_config cfg;
  cfg.regular_slots = regular;
  cfg.optimistic_slots = optimistic;
  return cfg;
}

ids unchoked(const choker& c, const std::vector<choker_peer>& ps) {
  ids out;
  for (const auto& p : ps)
    if (c.is_unchoked(p.id))
      out.push_back(p.id);
  return out;
}

// The peers holding a regular slot (unchoked but not optimistic).
ids regular(const choker& c, const std::vector<choker_peer>& ps) {
  auto opt = c.optimistic();
  ids out;
  for (auto id : unchoked(c, ps))
    if (std::find(opt.begin(), opt.end(), id) == opt.end())
      out.push_back(id);
  return out;
}

bool contains(const ids& xs, std::uint32_t x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

CAF_TEST(leeching unchokes the four fastest interested peers) {
  std::vector<choker_peer> ps;
  double rates[] = {10, 80, 30, 70, 20, 60, 50, 40};
  for (std::uint32_t i = 0; i < 8; ++i)
    ps.push_back(peer(i + 1, rates[i]));
  choker only_regular{slots(4, 0)};
  auto d = only_regular.round(ps, false, t0);
  CAF_CHECK_EQUAL(d.unchoke, (ids{2, 4, 6, 7}));
  CAF_CHECK(d.choke.empty());
  CAF_CHECK_EQUAL(unchoked(only_regular, ps), (ids{2, 4, 6, 7}));
  // with the default optimistic slot: the same four, plus one other peer
  choker c;
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(regular(c, ps), (ids{2, 4, 6, 7}));
  CAF_REQUIRE_EQUAL(c.optimistic().size(), 1u);
  CAF_CHECK(!contains({2, 4, 6, 7}, c.optimistic()[0]));
  CAF_CHECK_EQUAL(c.unchoked_count(), 5u);
}

CAF_TEST(snubbed uninterested and seed peers get no regular slot) {
  auto snubbed = peer(1, 1000);
  snubbed.snubbed = true;
  auto uninterested = peer(2, 1000);
  uninterested.interested = false;
  auto seed = peer(3, 1000);
  seed.is_seed = true;
  std::vector<choker_peer> ps{snubbed, uninterested, seed, peer(4, 5), peer(5, 4),
                              peer(6, 3), peer(7, 2), peer(8, 1)};
  choker c{slots(4, 0)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{4, 5, 6, 7}));
  // slots stay free rather than go to them
  std::vector<choker_peer> few{snubbed, uninterested, seed, peer(4)};
  choker d{slots(4, 0)};
  d.round(few, false, t0);
  CAF_CHECK_EQUAL(unchoked(d, few), (ids{4}));
  // seeds and uninterested peers are not optimistic either; a snubbed one may be
  choker e{slots(1, 1)};
  std::vector<choker_peer> others{uninterested, seed, peer(4)};
  e.round(others, false, t0);
  CAF_CHECK_EQUAL(unchoked(e, others), (ids{4}));
  CAF_CHECK(e.optimistic().empty());
  others.push_back(snubbed);
  e.round(others, false, t0 + 10s);
  CAF_CHECK_EQUAL(e.optimistic(), (ids{1}));
}

CAF_TEST(a peer that becomes slower loses its slot at the next round) {
  std::vector<choker_peer> ps{peer(1, 50), peer(2, 40), peer(3, 30), peer(4, 20), peer(5, 10)};
  choker c{slots(4, 0)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1, 2, 3, 4}));
  ps[0].down_rate = 5;
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{5}));
  CAF_CHECK_EQUAL(d.choke, (ids{1}));
}

CAF_TEST(a snubbed peer loses its regular slot) {
  auto ps = peers(3);
  choker c{slots(2, 0)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1, 2}));
  ps[0].snubbed = true;
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(d.choke, (ids{1}));
  CAF_CHECK_EQUAL(d.unchoke, (ids{3}));
}

CAF_TEST(the optimistic unchoke rotates exactly every 30 s and never lands on a regular peer) {
  std::vector<choker_peer> ps{peer(1, 400), peer(2, 300), peer(3, 200), peer(4, 100),
                              peer(5), peer(6), peer(7), peer(8)};
  choker c;
  std::vector<std::uint32_t> history;
  for (int round = 0; round <= 12; ++round) {
    auto now = t0 + round * 10s;
    auto before = c.optimistic();
    auto d = c.round(ps, false, now);
    auto opt = c.optimistic();
    CAF_REQUIRE_EQUAL(opt.size(), 1u);
    CAF_CHECK(!contains({1, 2, 3, 4}, opt[0]));
    CAF_CHECK_EQUAL(regular(c, ps), (ids{1, 2, 3, 4}));
    if (round == 0) {
      history.push_back(opt[0]);
    } else if (round % 3 == 0) {
      CAF_CHECK_NOT_EQUAL(opt, before);
      CAF_CHECK_EQUAL(d.unchoke, opt);
      CAF_CHECK_EQUAL(d.choke, before);
      history.push_back(opt[0]);
    } else {
      CAF_CHECK_EQUAL(opt, before);
      CAF_CHECK(d.unchoke.empty() && d.choke.empty());
    }
  }
  // the longest waiting peer goes next: all four get their turn, in order
  CAF_CHECK_EQUAL(history, (ids{5, 6, 7, 8, 5}));
  // time decides, not the number of rounds: 29 s is too early, 30 s is not
  choker off_beat;
  off_beat.round(ps, false, t0);
  auto first = off_beat.optimistic();
  off_beat.round(ps, false, t0 + 29s);
  CAF_CHECK_EQUAL(off_beat.optimistic(), first);
  off_beat.round(ps, false, t0 + 30s);
  CAF_CHECK_NOT_EQUAL(off_beat.optimistic(), first);
}

CAF_TEST(an optimistic peer that earns a regular slot frees the optimistic slot) {
  std::vector<choker_peer> ps{peer(1, 100), peer(2, 90), peer(3), peer(4), peer(5)};
  choker c{slots(2, 1)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(regular(c, ps), (ids{1, 2}));
  CAF_CHECK_EQUAL(c.optimistic(), (ids{3}));
  ps[2].down_rate = 1000; // peer 3 reciprocates well
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(regular(c, ps), (ids{1, 3}));
  CAF_CHECK_EQUAL(c.optimistic(), (ids{4}));
  CAF_CHECK_EQUAL(d.unchoke, (ids{4}));
  CAF_CHECK_EQUAL(d.choke, (ids{2}));
}

CAF_TEST(the optimistic slot moves on when its peer loses interest or leaves) {
  std::vector<choker_peer> ps{peer(1, 100), peer(2), peer(3), peer(4)};
  choker c{slots(1, 1)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{2}));
  ps[1].interested = false;
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{3}));
  CAF_CHECK_EQUAL(d.choke, (ids{2}));
  ps.erase(ps.begin() + 2); // peer 3 disconnects
  d = c.round(ps, false, t0 + 20s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{4}));
  CAF_CHECK_EQUAL(d.unchoke, (ids{4}));
  CAF_CHECK(d.choke.empty()); // nobody to send a choke to
}

CAF_TEST(new peers are favoured for the optimistic slot) {
  auto ps = std::vector<choker_peer>{peer(1, 400), peer(2, 300), peer(3, 200), peer(4, 100),
                                     peer(5), peer(6)};
  for (auto& p : ps)
    p.connected_at = t0 - 10min;
  choker c;
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{5}));
  c.round(ps, false, t0 + 10s);
  c.round(ps, false, t0 + 20s);
  auto newcomer = peer(9);
  newcomer.connected_at = t0 + 25s;
  ps.push_back(newcomer);
  // peer 6 has waited ten minutes, but the newcomer has nothing to trade yet
  c.round(ps, false, t0 + 30s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{9}));
  // once served it is an ordinary peer: the long waiter comes next
  c.round(ps, false, t0 + 60s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{6}));
  // a peer connected long ago but never unchoked is not new
  auto late = peer(10);
  late.connected_at = t0 + 40s;
  ps.push_back(late);
  // 50 s after it connected: were it new it would go first, but peer 5 (choked
  // at 30 s) has waited longer than peer 10 (connected at 40 s)
  c.round(ps, false, t0 + 90s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{5}));
  auto fresh = peer(11);
  fresh.connected_at = t0 + 115s;
  ps.push_back(fresh);
  c.round(ps, false, t0 + 120s);
  CAF_CHECK_EQUAL(c.optimistic(), (ids{11}));
}

CAF_TEST(seeding rotates the regular slots round robin) {
  // peer 8 downloads fastest: fastest-upload would keep it unchoked forever
  std::vector<choker_peer> ps;
  for (std::uint32_t id = 1; id <= 8; ++id)
    ps.push_back(peer(id, 0, 1000.0 * id));
  choker c;
  std::map<std::uint32_t, choker_clock::time_point> holding_since;
  std::map<std::uint32_t, int> rounds_held;
  std::set<std::uint32_t> ever_unchoked;
  for (int round = 0; round <= 30; ++round) {
    auto now = t0 + round * 10s;
    c.round(ps, true, now);
    CAF_CHECK_EQUAL(c.unchoked_count(), 5u);
    auto reg = regular(c, ps);
    CAF_CHECK_EQUAL(reg.size(), 4u);
    for (auto it = holding_since.begin(); it != holding_since.end();)
      it = contains(reg, it->first) ? std::next(it) : holding_since.erase(it);
    for (auto id : reg) {
      holding_since.emplace(id, now);
      ++rounds_held[id];
      // three peers always wait here: nobody holds a slot past 30 s
      CAF_CHECK_LESS(now - holding_since[id], 30s);
    }
    for (auto id : unchoked(c, ps))
      ever_unchoked.insert(id);
    if (round == 3)
      CAF_CHECK_EQUAL(ever_unchoked.size(), 8u);
  }
  // fair shares: 31 rounds x 4 slots over 8 peers, about 15 each
  for (std::uint32_t id = 1; id <= 8; ++id) {
    CAF_CHECK_GREATER_OR_EQUAL(rounds_held[id], 12);
    CAF_CHECK_LESS_OR_EQUAL(rounds_held[id], 18);
  }
}

CAF_TEST(seeding hands freed slots to the longest waiting peers) {
  auto ps = peers(6);
  choker c{slots(2, 0)};
  auto d = c.round(ps, true, t0);
  CAF_CHECK_EQUAL(d.unchoke, (ids{1, 2})); // equal waits and rates: lower id
  c.round(ps, true, t0 + 10s);
  c.round(ps, true, t0 + 20s);
  d = c.round(ps, true, t0 + 30s);
  CAF_CHECK_EQUAL(d.choke, (ids{1, 2}));
  CAF_CHECK_EQUAL(d.unchoke, (ids{3, 4}));
  // 5 and 6 have waited since they connected, 1 and 2 only since 30 s
  d = c.round(ps, true, t0 + 60s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{5, 6}));
  d = c.round(ps, true, t0 + 90s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{1, 2}));
  // equal waits: the peer we upload to faster goes first, before a lower id
  ps[5].up_rate = 10;
  choker one{slots(1, 0)};
  auto two = std::vector<choker_peer>{ps[4], ps[5]};
  d = one.round(two, true, t0);
  CAF_CHECK_EQUAL(d.unchoke, (ids{6}));
}

CAF_TEST(seeding ends a slot early once the byte quota is given) {
  auto cfg = slots(1, 0);
  cfg.seed_slot_quota = 1 << 20;
  choker c{cfg};
  auto ps = peers(2);
  c.round(ps, true, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1}));
  ps[0].uploaded = 2 << 20;
  auto d = c.round(ps, true, t0 + 10s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{2}));
  CAF_CHECK_EQUAL(d.choke, (ids{1}));
  // peer 2 gets nothing: it keeps the slot for the full slot time
  c.round(ps, true, t0 + 20s);
  c.round(ps, true, t0 + 30s);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{2}));
  c.round(ps, true, t0 + 40s);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1}));
  // the quota counts from the start of the slot, not the connection
  c.round(ps, true, t0 + 50s);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1}));
}

CAF_TEST(with few interested peers all are unchoked and stay so) {
  for (bool seeding : {false, true}) {
    for (std::uint32_t n : {3u, 4u, 5u}) {
      auto ps = peers(n);
      choker c;
      auto d = c.round(ps, seeding, t0);
      CAF_CHECK_EQUAL(d.unchoke.size(), n);
      CAF_CHECK_EQUAL(c.unchoked_count(), n);
      for (int round = 1; round <= 12; ++round) {
        d = c.round(ps, seeding, t0 + round * 10s);
        CAF_CHECK(d.unchoke.empty() && d.choke.empty());
      }
    }
  }
}

CAF_TEST(an unchoked peer that loses interest is choked at the next round) {
  auto ps = peers(2);
  choker c;
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1, 2}));
  ps[0].interested = false;
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(d.choke, (ids{1}));
  CAF_CHECK(d.unchoke.empty());
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{2}));
}

CAF_TEST(on_interested unchokes at once only while a regular slot is free) {
  std::vector<choker_peer> ps{peer(1), peer(2), peer(3), peer(4)};
  for (auto& p : ps)
    p.interested = p.id == 1;
  choker c{slots(2, 1)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1}));
  CAF_CHECK(!c.on_interested(ps[0], t0 + 1s)); // already unchoked
  ps[1].interested = true;
  CAF_CHECK(c.on_interested(ps[1], t0 + 2s));
  CAF_CHECK(c.is_unchoked(2));
  ps[2].interested = true;
  CAF_CHECK(!c.on_interested(ps[2], t0 + 3s)); // both regular slots taken
  CAF_CHECK(!c.is_unchoked(3));
  // an uninterested peer, a seed or a snubbed peer never qualifies
  c.forget(1);
  CAF_CHECK(!c.on_interested(ps[3], t0 + 4s));
  ps[3].interested = true;
  ps[3].is_seed = true;
  CAF_CHECK(!c.on_interested(ps[3], t0 + 4s));
  ps[3].is_seed = false;
  ps[3].snubbed = true;
  CAF_CHECK(!c.on_interested(ps[3], t0 + 4s));
  // forget() freed peer 1's slot
  CAF_CHECK(c.on_interested(ps[2], t0 + 5s));
  CAF_CHECK_EQUAL(c.unchoked_count(), 2u);
}

CAF_TEST(forget frees a slot for the next round) {
  auto ps = peers(3);
  choker c{slots(2, 0)};
  c.round(ps, true, t0);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{1, 2}));
  c.forget(1);
  CAF_CHECK(!c.is_unchoked(1));
  CAF_CHECK_EQUAL(c.unchoked_count(), 1u);
  ps.erase(ps.begin());
  auto d = c.round(ps, true, t0 + 10s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{3}));
  CAF_CHECK(d.choke.empty());
}

CAF_TEST(peers missing from a round are forgotten without a choke) {
  auto ps = peers(3);
  choker c{slots(2, 0)};
  c.round(ps, false, t0);
  ps.erase(ps.begin());
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(d.unchoke, (ids{3}));
  CAF_CHECK(d.choke.empty());
  CAF_CHECK(!c.is_unchoked(1));
  CAF_CHECK_EQUAL(c.unchoked_count(), 2u);
}

CAF_TEST(decisions hold only changes) {
  for (bool seeding : {false, true}) {
    std::vector<choker_peer> ps;
    for (std::uint32_t id = 1; id <= 8; ++id)
      ps.push_back(peer(id, 10.0 * id, 10.0 * id));
    choker c;
    auto d = c.round(ps, seeding, t0);
    CAF_CHECK_EQUAL(d.unchoke.size(), 5u);
    d = c.round(ps, seeding, t0);
    CAF_CHECK(d.unchoke.empty() && d.choke.empty());
    // also right after a rotation (optimistic, and seeding's regular slots)
    d = c.round(ps, seeding, t0 + 30s);
    CAF_CHECK(!d.unchoke.empty() && !d.choke.empty());
    d = c.round(ps, seeding, t0 + 30s);
    CAF_CHECK(d.unchoke.empty() && d.choke.empty());
  }
}

CAF_TEST(the configured slot counts are respected) {
  auto ps = peers(6);
  choker only_optimistic{slots(0, 1)};
  only_optimistic.round(ps, false, t0);
  CAF_CHECK_EQUAL(only_optimistic.unchoked_count(), 1u);
  CAF_CHECK_EQUAL(only_optimistic.optimistic(), (ids{1}));
  CAF_CHECK(!only_optimistic.on_interested(peer(7), t0 + 1s));
  choker two{slots(2, 0)};
  two.round(ps, true, t0);
  CAF_CHECK_EQUAL(two.unchoked_count(), 2u);
  CAF_CHECK(two.optimistic().empty());
  choker wide{slots(3, 2)};
  wide.round(ps, false, t0);
  CAF_CHECK_EQUAL(wide.unchoked_count(), 5u);
  CAF_CHECK_EQUAL(wide.optimistic().size(), 2u);
}

CAF_TEST(fewer slots set between rounds choke the extra peers at the next round) {
  // the daemon's limits.unchoke_slots shares the slots out among torrents
  std::vector<choker_peer> ps;
  for (std::uint32_t i = 1; i <= 8; ++i)
    ps.push_back(peer(i, 10.0 * i)); // peer 8 is the fastest
  choker c{slots(4, 1)};
  c.round(ps, false, t0);
  CAF_CHECK_EQUAL(c.unchoked_count(), 5u);
  c.set_slots(1, 0);
  CAF_CHECK_EQUAL(c.config().regular_slots, 1u);
  auto d = c.round(ps, false, t0 + 10s);
  CAF_CHECK_EQUAL(c.unchoked_count(), 1u);
  CAF_CHECK_EQUAL(unchoked(c, ps), (ids{8}));
  CAF_CHECK_EQUAL(d.choke.size(), 4u);
  CAF_CHECK(c.optimistic().empty()); // the optimistic peer lost its slot although its period was not over
  // no slot at all: nobody is unchoked, not even on interest
  c.set_slots(0, 0);
  c.round(ps, false, t0 + 20s);
  CAF_CHECK_EQUAL(c.unchoked_count(), 0u);
  CAF_CHECK(!c.on_interested(peer(9), t0 + 21s));
  // slots back: handed out at once to an interested peer, and at the round
  c.set_slots(4, 1);
  CAF_CHECK(c.on_interested(peer(9), t0 + 22s));
  c.round(ps, false, t0 + 30s);
  CAF_CHECK_EQUAL(c.unchoked_count(), 5u);
}
