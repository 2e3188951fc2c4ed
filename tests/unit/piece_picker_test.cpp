#define CAF_SUITE piece_picker
#include <caf/test/unit_test.hpp>

#include "logic/piece_picker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::logic;

namespace {

constexpr std::uint32_t K16 = 16384;

struct opts {
  std::uint64_t seed = 1;
  std::uint32_t random_first = 0;
  std::uint32_t endgame = 2;
};

piece_picker make(std::uint64_t total, std::uint32_t piece_len, opts o = {}) {
  piece_picker_config cfg;
  cfg.total_size = total;
  cfg.piece_length = piece_len;
  cfg.seed = o.seed;
  cfg.random_first_pieces = o.random_first;
  cfg.endgame_max_requesters = o.endgame;
  auto r = piece_picker::create(cfg);
  CAF_REQUIRE(r.ok());
  return std::move(r).value();
}

std::string create_error(std::uint64_t total, std::uint32_t piece_len,
                         std::uint32_t endgame = 2) {
  piece_picker_config cfg;
  cfg.total_size = total;
  cfg.piece_length = piece_len;
  cfg.endgame_max_requesters = endgame;
  auto r = piece_picker::create(cfg);
  return r ? "ok" : r.error().message;
}

bitfield bits(std::size_t n, std::initializer_list<std::size_t> set) {
  bitfield bf(n);
  for (auto i : set)
    bf.set(i);
  return bf;
}

bitfield all_but(std::size_t n, std::initializer_list<std::size_t> unset) {
  bitfield bf(n, true);
  for (auto i : unset)
    bf.clear(i);
  return bf;
}

// "piece/offset/length" items separated by spaces: exact and readable.
std::string str(const std::vector<block_request>& v) {
  std::string out;
  for (auto& b : v) {
    if (!out.empty())
      out += ' ';
    out += std::to_string(b.piece) + '/' + std::to_string(b.offset) + '/'
           + std::to_string(b.length);
  }
  return out;
}

std::string str(const std::vector<block_cancel>& v) {
  std::string out;
  for (auto& c : v) {
    if (!out.empty())
      out += ' ';
    out += std::to_string(c.peer) + ':' + std::to_string(c.block.piece) + '/'
           + std::to_string(c.block.offset) + '/' + std::to_string(c.block.length);
  }
  return out;
}

std::string st(const block_result& r) {
  return to_string(r.status);
}

std::vector<std::uint32_t> pieces_of(const std::vector<block_request>& v) {
  std::vector<std::uint32_t> out;
  for (auto& b : v)
    if (std::find(out.begin(), out.end(), b.piece) == out.end())
      out.push_back(b.piece);
  return out;
}

block_request blk(std::uint32_t piece, std::uint32_t block, std::uint32_t len = K16) {
  return {piece, block * K16, len};
}

// Deterministic test randomness, independent of the picker's RNG.
struct lcg {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

} // namespace

CAF_TEST(create validates the config) {
  CAF_CHECK_EQUAL(create_error(100, 16384), "ok");
  CAF_CHECK_EQUAL(create_error(0, 16384), "total size 0 is invalid");
  CAF_CHECK_EQUAL(create_error(100, 0), "piece length 0 is invalid");
  CAF_CHECK_EQUAL(create_error(100, 300u * 1024 * 1024),
                  "piece length 314572800 exceeds limit 268435456");
  CAF_CHECK_EQUAL(create_error(std::uint64_t{1} << 45, 16384),
                  "2147483648 pieces exceeds limit 2147483647");
  CAF_CHECK_EQUAL(create_error(100, 16384, 0), "endgame max requesters 0 is outside 1..4");
  CAF_CHECK_EQUAL(create_error(100, 16384, 5), "endgame max requesters 5 is outside 1..4");
  CAF_CHECK_EQUAL(create_error(100, 16384, 4), "ok");
}

CAF_TEST(last piece and last block sizes) {
  // 40000-byte pieces (not a multiple of 16 KiB), 97000 bytes: 40000, 40000, 17000.
  auto pp = make(97000, 40000);
  CAF_CHECK_EQUAL(pp.num_pieces(), 3u);
  CAF_CHECK_EQUAL(pp.piece_size(0), 40000u);
  CAF_CHECK_EQUAL(pp.piece_size(2), 17000u);
  CAF_CHECK_EQUAL(pp.piece_size(3), 0u);
  CAF_CHECK_EQUAL(pp.blocks_in_piece(0), 3u);
  CAF_CHECK_EQUAL(pp.blocks_in_piece(2), 2u);
  pp.peer_have_all(1);
  auto reqs = pp.pick(1, 100);
  CAF_CHECK_EQUAL(reqs.size(), 8u);
  std::sort(reqs.begin(), reqs.end(), [](auto& x, auto& y) {
    return std::pair{x.piece, x.offset} < std::pair{y.piece, y.offset};
  });
  CAF_CHECK_EQUAL(str(reqs), "0/0/16384 0/16384/16384 0/32768/7232 "
                             "1/0/16384 1/16384/16384 1/32768/7232 "
                             "2/0/16384 2/16384/616");
  // Deliveries must name a block exactly.
  CAF_CHECK_EQUAL(st(pp.block_received(1, 3, 0, K16)), "invalid");       // no piece 3
  CAF_CHECK_EQUAL(st(pp.block_received(1, 2, 16384, K16)), "invalid");   // too long
  CAF_CHECK_EQUAL(st(pp.block_received(1, 2, 100, K16)), "invalid");     // unaligned
  CAF_CHECK_EQUAL(st(pp.block_received(1, 2, 32768, 100)), "invalid");   // past the end
  CAF_CHECK_EQUAL(st(pp.block_received(1, 0, 32768, 16384)), "invalid"); // wrong length
  CAF_CHECK(pp.block_received(1, 0, 0, K16).misbehaving() == false);
  CAF_CHECK(pp.block_received(1, 2, 0, 0).misbehaving());
  for (auto& r : reqs)
    pp.block_received(1, r);
  for (std::uint32_t p = 0; p < 3; ++p)
    CAF_CHECK(pp.piece_verified(p));
  CAF_CHECK(pp.is_complete());
  CAF_CHECK_EQUAL(pp.bytes_have(), 97000u);
  // A torrent smaller than one block.
  auto tiny = make(1000, 16384);
  CAF_CHECK_EQUAL(tiny.num_pieces(), 1u);
  tiny.peer_have(7, 0);
  CAF_CHECK_EQUAL(str(tiny.pick(7, 5)), "0/0/1000");
  auto r = tiny.block_received(7, 0, 0, 1000);
  CAF_CHECK_EQUAL(st(r), "accepted");
  CAF_CHECK(r.piece_complete);
  CAF_CHECK_EQUAL(tiny.self_check(), "");
}

CAF_TEST(availability bookkeeping) {
  auto pp = make(10 * K16, K16);
  CAF_CHECK(pp.peer_bitfield(1, bits(10, {0, 1, 2})));
  CAF_CHECK(pp.peer_have(2, 2));
  CAF_CHECK(pp.peer_have(2, 3));
  CAF_CHECK(pp.peer_have(2, 3)); // repeated have counts once
  pp.peer_have_all(3);
  CAF_CHECK_EQUAL(pp.num_seeds(), 1u);
  CAF_CHECK_EQUAL(pp.availability(2), 3u);
  CAF_CHECK_EQUAL(pp.availability(0), 2u);
  CAF_CHECK_EQUAL(pp.availability(3), 2u);
  CAF_CHECK_EQUAL(pp.availability(9), 1u);
  CAF_CHECK_EQUAL(pp.availability(10), 0u);
  CAF_CHECK(pp.peer_has(1, 0) && !pp.peer_has(1, 3) && pp.peer_has(3, 9));
  CAF_CHECK(pp.peer_have(3, 5)); // no-op for a seed
  CAF_CHECK_EQUAL(pp.availability(5), 1u);
  CAF_CHECK_EQUAL(pp.self_check(), "");
  // A new bitfield replaces what we knew.
  CAF_CHECK(pp.peer_bitfield(2, bits(10, {9})));
  CAF_CHECK_EQUAL(pp.availability(2), 2u);
  CAF_CHECK_EQUAL(pp.availability(3), 1u);
  CAF_CHECK_EQUAL(pp.availability(9), 2u);
  pp.peer_have_none(1);
  CAF_CHECK_EQUAL(pp.availability(0), 1u);
  CAF_CHECK(!pp.peer_has(1, 0));
  CAF_CHECK_EQUAL(pp.peer_left(3), 0u);
  CAF_CHECK_EQUAL(pp.num_seeds(), 0u);
  CAF_CHECK_EQUAL(pp.availability(0), 0u);
  CAF_CHECK_EQUAL(pp.availability(9), 1u);
  // Bad input is refused without change.
  CAF_CHECK(!pp.peer_bitfield(4, bitfield(11)));
  CAF_CHECK(!pp.peer_have(4, 10));
  CAF_CHECK_EQUAL(pp.availability(9), 1u);
  // A full bitfield makes a seed; a later bitfield turns it back.
  CAF_CHECK(pp.peer_bitfield(5, bitfield(10, true)));
  CAF_CHECK(pp.is_seed(5));
  CAF_CHECK_EQUAL(pp.availability(4), 1u);
  CAF_CHECK(pp.peer_bitfield(5, bits(10, {4})));
  CAF_CHECK(!pp.is_seed(5));
  CAF_CHECK_EQUAL(pp.num_seeds(), 0u);
  CAF_CHECK_EQUAL(pp.availability(4), 1u);
  CAF_CHECK_EQUAL(pp.availability(0), 0u);
  CAF_CHECK_EQUAL(pp.num_peers(), 3u); // 1, 2 and 5 (4 was refused)
  CAF_CHECK_EQUAL(pp.self_check(), "");
  // Incremental changes after the buckets exist keep them consistent.
  pp.peer_have_all(6);
  CAF_CHECK_EQUAL(pp.pick(6, 1).size(), 1u); // builds the buckets
  pp.peer_have(1, 7);
  pp.peer_have(2, 7);
  pp.peer_left(2);
  CAF_CHECK_EQUAL(pp.availability(7), 2u); // peers 1 and 6
  CAF_CHECK_EQUAL(pp.self_check(), "");
}

CAF_TEST(rarest first) {
  auto pp = make(8 * K16, K16);
  pp.peer_have_all(1);
  CAF_CHECK(pp.peer_bitfield(2, all_but(8, {5})));
  CAF_CHECK(pp.peer_bitfield(3, all_but(8, {3, 5})));
  // Piece 5: only the seed; piece 3: seed and peer 2; the rest: three peers.
  CAF_CHECK_EQUAL(str(pp.pick(1, 1)), "5/0/16384");
  CAF_CHECK_EQUAL(str(pp.pick(1, 1)), "3/0/16384");
  auto third = pp.pick(1, 1);
  CAF_REQUIRE_EQUAL(third.size(), 1u);
  CAF_CHECK(third[0].piece != 3 && third[0].piece != 5);
  // Peer 3 cannot have 3 or 5; it gets a common piece nobody downloads.
  auto p3 = pp.pick(3, 1);
  CAF_REQUIRE_EQUAL(p3.size(), 1u);
  CAF_CHECK(p3[0].piece != 3 && p3[0].piece != 5 && p3[0].piece != third[0].piece);
  CAF_CHECK_EQUAL(pp.self_check(), "");
}

CAF_TEST(rarest first ties are broken randomly and reproducibly) {
  // 64 pieces: 0..31 at two peers, 32..63 only at the seed: the eight picks
  // must all come from 32..63, in an order decided by the seed.
  auto run = [](std::uint64_t seed) {
    auto pp = make(64 * K16, K16, {.seed = seed});
    pp.peer_have_all(1);
    bitfield half(64);
    for (std::size_t i = 0; i < 32; ++i)
      half.set(i);
    pp.peer_bitfield(2, half);
    std::vector<std::uint32_t> order;
    for (int i = 0; i < 8; ++i) {
      auto r = pp.pick(1, 1);
      CAF_REQUIRE_EQUAL(r.size(), 1u);
      order.push_back(r[0].piece);
    }
    return order;
  };
  auto a = run(42);
  for (auto p : a)
    CAF_CHECK(p >= 32);
  CAF_CHECK_EQUAL(a, run(42));
  std::set<std::vector<std::uint32_t>> distinct;
  std::set<std::uint32_t> firsts;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    auto o = run(seed);
    distinct.insert(o);
    firsts.insert(o[0]);
    CAF_CHECK(!std::is_sorted(o.begin(), o.end()) || o.size() < 2);
  }
  CAF_CHECK_EQUAL(distinct.size(), 10u);
  CAF_CHECK(firsts.size() >= 5u);
}

CAF_TEST(random first pieces until four are complete) {
  // Piece 7 is the only one peer 2 lacks, so it is the rarest; during the
  // random-first phase it is not preferred.
  auto setup = [](std::uint32_t random_first) {
    auto pp = make(1000 * K16, K16, {.seed = 3, .random_first = random_first});
    pp.peer_have_all(1);
    pp.peer_bitfield(2, all_but(1000, {7}));
    return pp;
  };
  auto rarest = setup(0);
  CAF_CHECK_EQUAL(str(rarest.pick(1, 1)), "7/0/16384");
  auto pp = setup(4);
  std::vector<std::uint32_t> picked;
  for (int i = 0; i < 4; ++i) {
    auto r = pp.pick(1, 1);
    CAF_REQUIRE_EQUAL(r.size(), 1u);
    picked.push_back(r[0].piece);
    CAF_CHECK_EQUAL(st(pp.block_received(1, r[0])), "accepted");
    CAF_CHECK(pp.piece_verified(r[0].piece));
  }
  CAF_MESSAGE("random-first picks: " << picked[0] << ' ' << picked[1] << ' ' << picked[2]
                                     << ' ' << picked[3]);
  CAF_CHECK(std::find(picked.begin(), picked.end(), 7u) == picked.end());
  CAF_CHECK_EQUAL(std::set<std::uint32_t>(picked.begin(), picked.end()).size(), 4u);
  // Reproducible for the seed.
  auto again = setup(4);
  for (auto p : picked) {
    auto r = again.pick(1, 1);
    CAF_REQUIRE_EQUAL(r.size(), 1u);
    CAF_CHECK_EQUAL(r[0].piece, p);
    again.block_received(1, r[0]);
    again.piece_verified(p);
  }
  // Four complete: rarest first takes over.
  CAF_CHECK_EQUAL(pp.num_have(), 4u);
  CAF_CHECK_EQUAL(str(pp.pick(1, 1)), "7/0/16384");
  // A peer with few pieces still gets one of them in the random phase.
  auto sparse = make(100000 * K16, K16, {.seed = 9, .random_first = 4});
  sparse.peer_bitfield(5, bits(100000, {77777}));
  CAF_CHECK_EQUAL(str(sparse.pick(5, 3)), "77777/0/16384");
}

CAF_TEST(partial pieces are finished first) {
  // 8 pieces of 4 blocks.
  auto pp = make(8 * 4 * K16, 4 * K16);
  pp.peer_have_all(1);
  pp.peer_have_all(2);
  auto a = pp.pick(1, 2);
  CAF_REQUIRE_EQUAL(a.size(), 2u);
  auto x = a[0].piece;
  CAF_CHECK_EQUAL(str(a), str({blk(x, 0), blk(x, 1)}));
  // Same peer: continues its piece (whole-piece affinity) before a new one.
  auto b = pp.pick(1, 3);
  CAF_REQUIRE_EQUAL(b.size(), 3u);
  auto y = b[2].piece;
  CAF_CHECK(y != x);
  CAF_CHECK_EQUAL(str(b), str({blk(x, 2), blk(x, 3), blk(y, 0)}));
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 2u);
  // Two blocks of x arrive, then peer 1 chokes us: x keeps its two blocks,
  // y (nothing received) becomes an untouched piece again.
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(x, 0))), "accepted");
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(x, 1))), "accepted");
  CAF_CHECK_EQUAL(pp.peer_choked(1), 3u);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 1u);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 0u);
  // Peer 2 finishes x before starting anything new.
  auto c = pp.pick(2, 4);
  CAF_REQUIRE_EQUAL(c.size(), 4u);
  CAF_CHECK_EQUAL(str({c[0], c[1]}), str({blk(x, 2), blk(x, 3)}));
  CAF_CHECK(c[2].piece != x && c[2].offset == 0);
  // Among abandoned pieces the most complete comes first.
  auto pq = make(8 * 4 * K16, 4 * K16);
  pq.peer_have_all(1);
  pq.peer_have_all(2);
  auto first = pq.pick(1, 4);
  auto second = pq.pick(1, 4);
  auto p1 = first[0].piece, p2 = second[0].piece;
  pq.block_received(1, blk(p1, 0));
  pq.block_received(1, blk(p2, 0));
  pq.block_received(1, blk(p2, 1));
  pq.peer_choked(1);
  CAF_CHECK_EQUAL(str(pq.pick(2, 3)), str({blk(p2, 2), blk(p2, 3), blk(p1, 1)}));
  CAF_CHECK_EQUAL(pp.self_check(), "");
  CAF_CHECK_EQUAL(pq.self_check(), "");
}

CAF_TEST(peers do not share pieces when there are enough) {
  // 40 pieces of 4 blocks, 4 seeds asking 6 blocks at a time: each peer gets
  // its own pieces, in consecutive blocks, in the random-first phase and in
  // rarest-first alike.
  for (std::uint32_t random_first : {0u, 4u}) {
    auto pp = make(40 * 4 * K16, 4 * K16, {.seed = 5, .random_first = random_first});
    for (peer_id_t p = 1; p <= 4; ++p)
      pp.peer_have_all(p);
    std::map<peer_id_t, std::vector<block_request>> got;
    for (int round = 0; round < 2; ++round) {
      for (peer_id_t p = 1; p <= 4; ++p) {
        auto r = pp.pick(p, 6);
        CAF_REQUIRE_EQUAL(r.size(), 6u);
        got[p].insert(got[p].end(), r.begin(), r.end());
      }
    }
    std::map<std::uint32_t, peer_id_t> owner;
    for (auto& [p, reqs] : got) {
      // 12 blocks = 3 whole pieces, each requested block 0, 1, 2, 3 in order.
      auto ps = pieces_of(reqs);
      CAF_REQUIRE_EQUAL(ps.size(), 3u);
      CAF_CHECK_EQUAL(str(reqs), str({blk(ps[0], 0), blk(ps[0], 1), blk(ps[0], 2),
                                      blk(ps[0], 3), blk(ps[1], 0), blk(ps[1], 1),
                                      blk(ps[1], 2), blk(ps[1], 3), blk(ps[2], 0),
                                      blk(ps[2], 1), blk(ps[2], 2), blk(ps[2], 3)}));
      for (auto piece : ps)
        CAF_CHECK(owner.emplace(piece, p).second); // nobody else has it
    }
    CAF_CHECK_EQUAL(owner.size(), 12u);
    CAF_CHECK_EQUAL(pp.pieces_in_progress(), 12u);
    CAF_CHECK_EQUAL(pp.num_requested_blocks(), 48u);
    CAF_CHECK_EQUAL(pp.num_outstanding_requests(), 48u);
    CAF_CHECK_EQUAL(pp.self_check(), "");
  }
  // With a single piece there is nothing else to do: share it, then (all
  // blocks requested) endgame duplicates of the other peer's blocks.
  auto one = make(4 * K16, 4 * K16);
  one.peer_have_all(1);
  one.peer_have_all(2);
  CAF_CHECK_EQUAL(str(one.pick(1, 2)), str({blk(0, 0), blk(0, 1)}));
  CAF_CHECK_EQUAL(str(one.pick(2, 4)), str({blk(0, 2), blk(0, 3), blk(0, 0), blk(0, 1)}));
  CAF_CHECK_EQUAL(one.self_check(), "");
}

CAF_TEST(endgame duplicates and cancels) {
  auto pp = make(4 * K16, 4 * K16);
  for (peer_id_t p = 1; p <= 3; ++p)
    pp.peer_have_all(p);
  auto all4 = str({blk(0, 0), blk(0, 1), blk(0, 2), blk(0, 3)});
  CAF_CHECK_EQUAL(str(pp.pick(1, 4)), all4);
  CAF_CHECK_EQUAL(str(pp.pick(2, 4)), all4);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 4u);
  CAF_CHECK_EQUAL(pp.num_outstanding_requests(), 8u);
  CAF_CHECK(pp.pick(3, 4).empty()); // each block already at two peers
  CAF_CHECK(pp.pick(1, 4).empty()); // never twice from the same peer
  auto r = pp.block_received(1, blk(0, 0));
  CAF_CHECK_EQUAL(st(r), "accepted");
  CAF_CHECK_EQUAL(str(r.cancels), "2:0/0/16384");
  CAF_CHECK(!r.piece_complete);
  CAF_CHECK_EQUAL(str(pp.outstanding(2)), str({blk(0, 1), blk(0, 2), blk(0, 3)}));
  // The cancelled block arrives anyway: harmless duplicate.
  auto late = pp.block_received(2, blk(0, 0));
  CAF_CHECK_EQUAL(st(late), "duplicate");
  CAF_CHECK(!late.misbehaving() && !late.accepted());
  r = pp.block_received(2, blk(0, 1));
  CAF_CHECK_EQUAL(str(r.cancels), "1:0/16384/16384");
  // Peer 1 chokes: blocks 2 and 3 are now at peer 2 only, peer 3 can join.
  CAF_CHECK_EQUAL(pp.peer_choked(1), 2u);
  CAF_CHECK_EQUAL(str(pp.pick(3, 4)), str({blk(0, 2), blk(0, 3)}));
  r = pp.block_received(3, blk(0, 2));
  CAF_CHECK_EQUAL(str(r.cancels), "2:0/32768/16384");
  r = pp.block_received(2, blk(0, 3));
  CAF_CHECK_EQUAL(str(r.cancels), "3:0/49152/16384");
  CAF_CHECK(r.piece_complete);
  CAF_CHECK_EQUAL(pp.num_outstanding_requests(), 0u);
  CAF_CHECK_EQUAL(pp.block_senders(0), (std::vector<peer_id_t>{1, 2, 3, 2}));
  CAF_CHECK(pp.piece_verified(0));
  CAF_CHECK(pp.block_senders(0).empty());
  CAF_CHECK_EQUAL(pp.self_check(), "");

  // Three requesters allowed: the third peer also joins.
  auto three = make(4 * K16, 4 * K16, {.endgame = 3});
  for (peer_id_t p = 1; p <= 4; ++p)
    three.peer_have_all(p);
  three.pick(1, 4);
  three.pick(2, 4);
  CAF_CHECK_EQUAL(str(three.pick(3, 4)), all4);
  CAF_CHECK(three.pick(4, 4).empty());
  auto r3 = three.block_received(3, blk(0, 1));
  CAF_CHECK_EQUAL(str(r3.cancels), "1:0/16384/16384 2:0/16384/16384");

  // endgame_max_requesters = 1: no duplicates at all.
  auto none = make(4 * K16, 4 * K16, {.endgame = 1});
  none.peer_have_all(1);
  none.peer_have_all(2);
  none.pick(1, 4);
  CAF_CHECK(none.pick(2, 4).empty());

  // No endgame while a missing piece is not started yet (peer 3 alone has it).
  auto early = make(2 * K16, K16);
  early.peer_bitfield(1, bits(2, {0}));
  early.peer_bitfield(2, bits(2, {0}));
  early.peer_bitfield(3, bits(2, {1}));
  CAF_CHECK_EQUAL(str(early.pick(1, 4)), "0/0/16384");
  CAF_CHECK(early.pick(2, 4).empty());
  CAF_CHECK(!early.all_pieces_started());
  CAF_CHECK_EQUAL(str(early.pick(3, 4)), "1/0/16384");
  CAF_CHECK(early.all_pieces_started());
  CAF_CHECK_EQUAL(str(early.pick(2, 4)), "0/0/16384");
  CAF_CHECK_EQUAL(early.self_check(), "");
}

CAF_TEST(peer_left and choke hand blocks back) {
  // One piece of 4 blocks; peer 1 is a non-seed with the piece.
  auto pp = make(4 * K16, 4 * K16);
  pp.peer_bitfield(1, bits(1, {0}));
  pp.peer_have_all(2);
  CAF_CHECK_EQUAL(pp.pick(1, 4).size(), 4u);
  CAF_CHECK(pp.block_received(1, blk(0, 0)).accepted());
  CAF_CHECK_EQUAL(pp.availability(0), 2u);
  CAF_CHECK_EQUAL(pp.peer_left(1), 3u);
  CAF_CHECK_EQUAL(pp.availability(0), 1u);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 0u);
  CAF_CHECK(pp.outstanding(1).empty());
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 1u); // block 0 is kept
  CAF_CHECK_EQUAL(str(pp.pick(2, 4)), str({blk(0, 1), blk(0, 2), blk(0, 3)}));
  // The departed peer's data is no longer expected.
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(0, 1))), "unrequested");
  CAF_CHECK_EQUAL(pp.self_check(), "");

  // Choke: requests go back; data already in flight still counts.
  auto pc = make(4 * K16, 4 * K16);
  pc.peer_have_all(1);
  pc.peer_have_all(2);
  CAF_CHECK_EQUAL(pc.pick(1, 4).size(), 4u);
  CAF_CHECK_EQUAL(pc.peer_choked(1), 4u);
  CAF_CHECK_EQUAL(pc.pieces_in_progress(), 0u);
  CAF_CHECK_EQUAL(pc.peer_choked(1), 0u);
  CAF_CHECK_EQUAL(str(pc.pick(2, 2)), str({blk(0, 0), blk(0, 1)}));
  auto late = pc.block_received(1, blk(0, 0)); // sent before the choke
  CAF_CHECK_EQUAL(st(late), "accepted");
  CAF_CHECK_EQUAL(str(late.cancels), "2:0/0/16384");
  auto late3 = pc.block_received(1, blk(0, 3)); // nobody else asked yet
  CAF_CHECK_EQUAL(st(late3), "accepted");
  CAF_CHECK(late3.cancels.empty());
  CAF_CHECK_EQUAL(st(pc.block_received(1, blk(0, 3))), "unrequested"); // only once
  CAF_CHECK_EQUAL(st(pc.block_received(2, blk(0, 0))), "duplicate");  // was cancelled
  CAF_CHECK_EQUAL(str(pc.pick(2, 4)), str({blk(0, 2)}));
  CAF_CHECK_EQUAL(pc.self_check(), "");

  // Timeout: the block goes back, late data is still welcome.
  auto pt = make(4 * K16, 4 * K16);
  pt.peer_have_all(1);
  pt.peer_have_all(2);
  pt.pick(1, 2);
  CAF_CHECK(pt.request_timed_out(1, blk(0, 0)));
  CAF_CHECK(!pt.request_timed_out(1, blk(0, 0)));
  CAF_CHECK(!pt.request_timed_out(1, blk(0, 0, 5)));
  CAF_CHECK_EQUAL(str(pt.outstanding(1)), str({blk(0, 1)}));
  CAF_CHECK_EQUAL(str(pt.pick(2, 1)), str({blk(0, 0)}));
  CAF_CHECK_EQUAL(str(pt.block_received(1, blk(0, 0)).cancels), "2:0/0/16384");
  // Reject: the block goes back, data after a reject is a violation.
  CAF_CHECK(pt.request_rejected(1, blk(0, 1)));
  CAF_CHECK(!pt.request_rejected(1, blk(0, 1)));
  CAF_CHECK(!pt.request_rejected(9, blk(0, 1)));
  CAF_CHECK(pt.block_received(1, blk(0, 1)).misbehaving());
  CAF_CHECK_EQUAL(str(pt.pick(2, 4)), str({blk(0, 1), blk(0, 2), blk(0, 3)}));
  CAF_CHECK_EQUAL(pt.self_check(), "");
}

CAF_TEST(unrequested and duplicate blocks are flagged) {
  auto pp = make(4 * 2 * K16, 2 * K16);
  pp.peer_have_all(1);
  pp.peer_have_all(2);
  auto r = pp.pick(1, 2);
  CAF_REQUIRE_EQUAL(r.size(), 2u);
  auto x = r[0].piece;
  auto other = (x + 1) % 4;
  CAF_CHECK_EQUAL(st(pp.block_received(2, blk(x, 0))), "unrequested"); // asked peer 1
  CAF_CHECK_EQUAL(st(pp.block_received(2, blk(other, 0))), "unrequested");
  CAF_CHECK_EQUAL(st(pp.block_received(99, blk(x, 0))), "unrequested"); // unknown peer
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(x, 0))), "accepted");
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(x, 0))), "unrequested"); // sent twice
  auto last = pp.block_received(1, blk(x, 1));
  CAF_CHECK(last.accepted() && last.piece_complete);
  CAF_CHECK(pp.piece_verified(x));
  CAF_CHECK(!pp.piece_verified(x));
  CAF_CHECK_EQUAL(st(pp.block_received(1, blk(x, 1))), "unrequested");
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 0u);
  // mark_have of a piece in progress: its requests become duplicates.
  auto y = pp.pick(2, 1);
  CAF_REQUIRE_EQUAL(y.size(), 1u);
  CAF_CHECK(pp.mark_have(y[0].piece));
  CAF_CHECK(pp.outstanding(2).empty());
  CAF_CHECK_EQUAL(st(pp.block_received(2, y[0])), "duplicate");
  CAF_CHECK_EQUAL(pp.self_check(), "");
}

CAF_TEST(piece_failed makes the piece pickable again and tells who sent what) {
  // 1 piece of 4 blocks, plus 3 more pieces so that there is a choice.
  auto pp = make(4 * 4 * K16, 4 * K16);
  pp.peer_have_all(1);
  pp.peer_have_all(2);
  pp.peer_have_all(3);
  auto a = pp.pick(1, 2);
  auto x = a[0].piece;
  // Make peer 2 share x: all other pieces are ours already.
  for (std::uint32_t p = 0; p < 4; ++p)
    if (p != x)
      pp.mark_have(p);
  CAF_CHECK_EQUAL(str(pp.pick(2, 2)), str({blk(x, 2), blk(x, 3)}));
  pp.block_received(1, blk(x, 0));
  pp.block_received(2, blk(x, 3));
  CAF_CHECK_EQUAL(pp.block_senders(x), (std::vector<peer_id_t>{1, no_peer, no_peer, 2}));
  pp.block_received(2, blk(x, 2));
  auto done = pp.block_received(1, blk(x, 1));
  CAF_CHECK(done.piece_complete);
  CAF_CHECK_EQUAL(pp.num_received_blocks(), 4u);
  CAF_CHECK(pp.pick(3, 4).empty()); // complete, waiting for the hash
  auto senders = pp.block_senders(x);
  CAF_CHECK_EQUAL(senders, (std::vector<peer_id_t>{1, 1, 2, 2}));
  CAF_CHECK_EQUAL(pp.piece_failed(x), senders);
  CAF_CHECK(!pp.have(x));
  CAF_CHECK_EQUAL(pp.num_received_blocks(), 0u);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 0u);
  CAF_CHECK(pp.block_senders(x).empty());
  // Blocks already received once are no longer "duplicates": re-pickable.
  CAF_CHECK_EQUAL(str(pp.pick(3, 2)), str({blk(x, 0), blk(x, 1)}));
  CAF_CHECK_EQUAL(pp.self_check(), "");
  CAF_CHECK_EQUAL(pp.peer_choked(3), 2u);

  // Pin the piece to peer 2: only peer 2 gets its blocks.
  CAF_CHECK(pp.pin_piece_to_peer(x, 2));
  CAF_CHECK_EQUAL(pp.pinned_peer(x), 2u);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 1u);
  CAF_CHECK(pp.pick(1, 4).empty());
  CAF_CHECK(pp.pick(3, 4).empty());
  CAF_CHECK_EQUAL(str(pp.pick(2, 8)), str({blk(x, 0), blk(x, 1), blk(x, 2), blk(x, 3)}));
  for (std::uint32_t b = 0; b < 4; ++b)
    pp.block_received(2, blk(x, b));
  CAF_CHECK_EQUAL(pp.block_senders(x), (std::vector<peer_id_t>{2, 2, 2, 2}));
  // Fails again: the pin survives, the peer leaves, the pin goes.
  CAF_CHECK_EQUAL(pp.piece_failed(x), (std::vector<peer_id_t>{2, 2, 2, 2}));
  CAF_CHECK_EQUAL(pp.pinned_peer(x), 2u);
  CAF_CHECK(pp.pick(1, 4).empty());
  pp.peer_left(2);
  CAF_CHECK_EQUAL(pp.pinned_peer(x), no_peer);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 0u);
  CAF_CHECK_EQUAL(pp.pick(1, 4).size(), 4u);
  CAF_CHECK_EQUAL(pp.self_check(), "");
  // Pinning rules.
  CAF_CHECK(!pp.pin_piece_to_peer((x + 1) % 4, 1)); // already had
  CAF_CHECK(!pp.pin_piece_to_peer(4, 1));           // out of range
  CAF_CHECK(pp.pin_piece_to_peer(x, 3));
  CAF_CHECK(pp.pin_piece_to_peer(x, 1)); // moves the pin
  CAF_CHECK_EQUAL(pp.pinned_peer(x), 1u);
  CAF_CHECK(pp.unpin_piece(x));
  CAF_CHECK(!pp.unpin_piece(x));
  CAF_CHECK(!pp.pin_piece_to_peer(x, 2)); // left: a pin would wait for nobody
  CAF_CHECK(!pp.pin_piece_to_peer(x, 9)); // never seen
  CAF_CHECK_EQUAL(pp.pinned_peer(x), no_peer);
  CAF_CHECK_EQUAL(pp.self_check(), "");
}

CAF_TEST(our pieces and stats) {
  auto pp = make(10 * 2 * K16 - 100, 2 * K16, {.random_first = 4});
  for (std::uint32_t p = 0; p < 5; ++p)
    CAF_CHECK(pp.mark_have(p));
  CAF_CHECK(!pp.mark_have(0));
  CAF_CHECK(!pp.mark_have(10));
  CAF_CHECK_EQUAL(pp.num_have(), 5u);
  CAF_CHECK_EQUAL(pp.bytes_have(), 5u * 2 * K16);
  CAF_CHECK(pp.have(4) && !pp.have(5));
  CAF_CHECK_EQUAL(pp.have_bitfield().count(), 5u);
  pp.peer_have_all(1);
  auto r = pp.pick(1, 100);
  CAF_CHECK_EQUAL(r.size(), 10u); // 5 pieces x 2 blocks, none we have
  for (auto& b : r)
    CAF_CHECK(b.piece >= 5);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 5u);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 10u);
  for (auto& b : r)
    pp.block_received(1, b);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 0u);
  CAF_CHECK_EQUAL(pp.num_received_blocks(), 10u);
  for (std::uint32_t p = 5; p < 10; ++p)
    CAF_CHECK(pp.piece_verified(p));
  CAF_CHECK(pp.is_complete());
  CAF_CHECK_EQUAL(pp.bytes_have(), 10u * 2 * K16 - 100);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 0u);
  CAF_CHECK(pp.pick(1, 10).empty());
  CAF_CHECK_EQUAL(pp.self_check(), "");
}

namespace {

struct sim_stats {
  int steps = 0, accepted = 0, duplicates = 0, late = 0, to_had = 0, cancels = 0, failed = 0;
};

// 300 pieces of 3 blocks (last piece shorter), 7 peers with random bitfields
// (peer 7 corrupts data: pieces it contributed to fail the hash, then it is
// dropped), random queue sizes and delivery order, chokes (the peer's first
// in-flight block may still arrive), timeouts, a late joiner announcing its
// pieces by have messages. The caller honours every cancel at once.
sim_stats simulate(std::uint64_t seed, std::uint32_t endgame) {
  constexpr std::uint32_t n = 300;
  constexpr std::uint32_t plen = 3 * K16;
  constexpr std::uint64_t total = std::uint64_t{n} * plen - 5000;
  constexpr peer_id_t bad = 7;
  auto pp = make(total, plen, {.seed = seed, .random_first = 4, .endgame = endgame});
  lcg rnd{seed * 7919};
  std::map<peer_id_t, bitfield> peer_bits;
  for (peer_id_t p = 1; p <= 7; ++p) {
    bitfield bf(n);
    for (std::uint32_t i = 0; i < n; ++i)
      if (rnd.below(100) < 35)
        bf.set(i);
    peer_bits[p] = bf;
  }
  for (std::uint32_t i = 0; i < n; ++i) { // every piece at some good peer
    bool covered = false;
    for (peer_id_t p = 1; p <= 6; ++p)
      covered = covered || peer_bits[p].test(i);
    if (!covered)
      peer_bits[1 + rnd.below(6)].set(i);
  }
  std::set<peer_id_t> connected;
  for (peer_id_t p = 1; p <= 5; ++p) { // 6 joins later
    CAF_REQUIRE(pp.peer_bitfield(p, peer_bits[p]));
    connected.insert(p);
  }
  CAF_REQUIRE(pp.peer_bitfield(bad, peer_bits[bad]));
  connected.insert(bad);
  std::map<peer_id_t, std::deque<block_request>> in_flight;
  std::deque<std::pair<peer_id_t, block_request>> on_wire;
  std::vector<int> verified(n, 0);
  sim_stats st;
  // Hands one block to the picker; false when the sending peer was dropped.
  auto deliver = [&](peer_id_t p, const block_request& b, bool late) {
    if (!late && pp.have(b.piece))
      ++st.to_had;
    auto r = pp.block_received(p, b);
    CAF_CHECK(!r.misbehaving());
    if (r.status == block_status::duplicate) {
      CAF_CHECK(late);
      ++st.duplicates;
      return true;
    }
    ++st.accepted;
    st.late += late ? 1 : 0;
    for (auto& c : r.cancels) {
      ++st.cancels;
      auto& oq = in_flight[c.peer];
      auto it = std::find(oq.begin(), oq.end(), c.block);
      CAF_CHECK(it != oq.end());
      if (it != oq.end())
        oq.erase(it);
    }
    if (!r.piece_complete)
      return true;
    auto senders = pp.block_senders(b.piece);
    CAF_CHECK_EQUAL(senders.size(), pp.blocks_in_piece(b.piece));
    if (std::find(senders.begin(), senders.end(), bad) == senders.end()) {
      ++verified[b.piece];
      CAF_CHECK(pp.piece_verified(b.piece));
      return true;
    }
    ++st.failed;
    CAF_CHECK_EQUAL(pp.piece_failed(b.piece), senders);
    if (connected.count(bad) != 0) {
      pp.peer_left(bad);
      connected.erase(bad);
      in_flight.erase(bad);
    }
    return p != bad;
  };
  for (; st.steps < 20000 && !pp.is_complete(); ++st.steps) {
    if (st.steps == 50) {
      pp.peer_have_none(6);
      for (std::uint32_t i = 0; i < n; ++i)
        if (peer_bits[6].test(i))
          pp.peer_have(6, i);
      connected.insert(6);
    }
    for (auto p : connected) {
      auto& q = in_flight[p];
      auto queue = 2 + (p % 4) * 3;
      if (q.size() < queue)
        for (auto& b : pp.pick(p, queue - q.size())) {
          CAF_CHECK(!pp.have(b.piece) && pp.peer_has(p, b.piece));
          CAF_CHECK(std::find(q.begin(), q.end(), b) == q.end());
          q.push_back(b);
        }
    }
    if (!on_wire.empty() && rnd.below(4) == 0) { // a block sent before a choke
      auto [wp, wb] = on_wire.front();
      on_wire.pop_front();
      if (connected.count(wp) != 0) {
        // If it was requested again meanwhile, this answers both requests.
        auto& wq = in_flight[wp];
        if (auto it = std::find(wq.begin(), wq.end(), wb); it != wq.end())
          wq.erase(it);
        deliver(wp, wb, true);
      }
    }
    auto peers = std::vector<peer_id_t>(connected.begin(), connected.end());
    auto p = peers[rnd.below(static_cast<std::uint32_t>(peers.size()))];
    auto& q = in_flight[p];
    auto event = rnd.below(100);
    if (event < 2) { // choke: the peer drops its queue, one block may be on the wire
      CAF_CHECK_EQUAL(pp.peer_choked(p), q.size());
      if (!q.empty() && rnd.below(2) == 0)
        on_wire.push_back({p, q.front()});
      q.clear();
      continue;
    }
    if (event < 4 && !q.empty()) { // a request times out; the peer forgets it
      auto i = rnd.below(static_cast<std::uint32_t>(q.size()));
      CAF_CHECK(pp.request_timed_out(p, q[i]));
      q.erase(q.begin() + i);
      continue;
    }
    for (int k = 0; k < 3 && !q.empty(); ++k) {
      auto i = rnd.below(static_cast<std::uint32_t>(std::min<std::size_t>(q.size(), 3)));
      auto b = q[i];
      q.erase(q.begin() + i);
      if (!deliver(p, b, false))
        break; // p was dropped, q is gone
    }
    if (st.steps % 500 == 0)
      CAF_CHECK_EQUAL(pp.self_check(), "");
  }
  CAF_MESSAGE("simulation seed " << seed << " endgame " << endgame << ": " << st.steps
                                 << " steps, " << st.accepted << " accepted (" << st.late
                                 << " late), " << st.duplicates << " duplicates, " << st.cancels
                                 << " cancels, " << st.failed << " hash failures");
  CAF_CHECK(pp.is_complete());
  CAF_CHECK_EQUAL(pp.bytes_have(), total);
  for (std::uint32_t i = 0; i < n; ++i)
    if (verified[i] != 1)
      CAF_FAIL("piece " << i << " verified " << verified[i] << " times");
  CAF_CHECK_EQUAL(st.to_had, 0);
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 0u);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 0u);
  CAF_CHECK_EQUAL(pp.num_outstanding_requests(), 0u);
  CAF_CHECK_EQUAL(pp.num_received_blocks(), 0u);
  CAF_CHECK_EQUAL(pp.self_check(), "");
  return st;
}

} // namespace

CAF_TEST(simulated download completes every piece exactly once) {
  sim_stats sum;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    auto st = simulate(seed, seed % 3 == 0 ? 1 : 2 + static_cast<std::uint32_t>(seed % 2));
    CAF_CHECK(st.failed > 0); // the corrupt peer was caught
    sum.cancels += st.cancels;
    sum.late += st.late;
    sum.duplicates += st.duplicates;
  }
  CAF_CHECK(sum.cancels > 0);    // endgame happened
  CAF_CHECK(sum.late > 0);       // late blocks after a choke were used
  CAF_CHECK(sum.duplicates > 0); // and some were already there
}

CAF_TEST(a large picker is fast) {
  // 1,000,000 pieces of 256 KiB (16 blocks), 50 peers with random bitfields
  // (about half the pieces each). Prints the times; asserts only the results.
  using clock = std::chrono::steady_clock;
  constexpr std::uint32_t n = 1000000;
  constexpr std::uint32_t plen = 256 * 1024;
  constexpr peer_id_t peers = 50;
  lcg rnd{99};
  std::vector<bitfield> fields;
  std::vector<std::uint8_t> bytes(bitfield::bytes_for(n));
  for (peer_id_t p = 1; p <= peers; ++p) {
    for (auto& b : bytes)
      b = static_cast<std::uint8_t>(rnd.next());
    auto bf = bitfield::from_wire(bytes, n);
    CAF_REQUIRE(bf.ok());
    fields.push_back(std::move(*bf));
  }
  auto t0 = clock::now();
  auto pp = make(std::uint64_t{n} * plen, plen, {.seed = 7, .random_first = 4});
  for (std::uint32_t i = 0; i < 4; ++i) // past the random-first phase
    pp.mark_have(i * 1000);
  auto t1 = clock::now();
  for (peer_id_t p = 1; p <= peers; ++p)
    CAF_REQUIRE(pp.peer_bitfield(p, fields[p - 1]));
  auto t2 = clock::now();
  std::size_t picked = 0;
  for (peer_id_t p = 1; p <= peers; ++p)
    picked += pp.pick(p, 64).size(); // the first one rebuilds the buckets
  auto t3 = clock::now();
  // Steady state: a block arrives, a have message, a pick to refill the queue.
  std::size_t rounds = 0;
  for (int i = 0; i < 20; ++i) {
    for (peer_id_t p = 1; p <= peers; ++p) {
      auto out = pp.outstanding(p);
      CAF_REQUIRE(!out.empty());
      CAF_REQUIRE(pp.block_received(p, out.front()).accepted());
      pp.peer_have(p, rnd.below(n));
      picked += pp.pick(p, 1).size();
      ++rounds;
    }
  }
  auto t4 = clock::now();
  // A peer leaves and a seed arrives (both on the incremental path).
  pp.peer_left(1);
  pp.peer_have_all(1);
  picked += pp.pick(1, 64).size();
  auto t5 = clock::now();
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0;
  };
  CAF_MESSAGE("1M pieces, 50 peers: create " << ms(t1 - t0) << " ms, 50 bitfields "
                                             << ms(t2 - t1) << " ms, 50 first picks "
                                             << ms(t3 - t2) << " ms, " << rounds
                                             << " receive+have+pick rounds " << ms(t4 - t3)
                                             << " ms, peer left + seed joined + pick "
                                             << ms(t5 - t4) << " ms");
  CAF_CHECK_EQUAL(picked, 50u * 64 + rounds + 64);
  CAF_CHECK_EQUAL(pp.num_requested_blocks(), 50u * 64); // every queue refilled to 64
  // Per peer: 64 blocks = 4 whole pieces of 16, then 20 more blocks: 2 more
  // pieces (6); peer 1 left: its first piece kept 16 received blocks, the
  // second 4; as a seed it takes 4 new pieces.
  CAF_CHECK_EQUAL(pp.pieces_in_progress(), 49u * 6 + 2 + 4);
}

CAF_TEST(only wanted pieces are started when files are chosen) {
  // 8 pieces of one block; the user wants pieces 2..4 (the pieces of chosen files)
  auto pp = make(8 * K16, K16, {.seed = 7, .random_first = 4});
  CAF_CHECK(!pp.set_wanted(std::vector<bool>(7, true))); // wrong size: refused
  std::vector<bool> wanted{false, false, true, true, true, false, false, false};
  CAF_REQUIRE(pp.set_wanted(wanted));
  CAF_CHECK(!pp.is_wanted(0));
  CAF_CHECK(pp.is_wanted(3));
  CAF_CHECK(!pp.wanted_complete());
  pp.peer_have_all(1);
  pp.peer_bitfield(2, bits(8, {0, 1, 5, 6, 7})); // only unwanted pieces
  CAF_CHECK(pp.pick(2, 100).empty());
  auto got = pp.pick(1, 100);
  CAF_REQUIRE_EQUAL(got.size(), 3u);
  for (auto& b : got)
    CAF_CHECK(b.piece >= 2 && b.piece <= 4);
  // every wanted piece started: endgame may duplicate, but only wanted blocks
  CAF_CHECK(pp.all_pieces_started());
  pp.peer_have_all(3);
  auto dup = pp.pick(3, 100);
  CAF_CHECK_EQUAL(dup.size(), 3u);
  for (auto& b : dup)
    CAF_CHECK(b.piece >= 2 && b.piece <= 4);
  for (auto& b : got) {
    auto r = pp.block_received(1, b);
    CAF_CHECK(r.accepted());
    CAF_CHECK(r.piece_complete);
    CAF_CHECK(pp.piece_verified(b.piece));
  }
  CAF_CHECK(pp.wanted_complete());
  CAF_CHECK(!pp.is_complete());
  CAF_CHECK(pp.pick(1, 100).empty());
  CAF_CHECK_EQUAL(pp.self_check(), "");
  // a piece we had from earlier stays ours; wanting everything again resumes
  CAF_CHECK(pp.mark_have(0));
  CAF_REQUIRE(pp.set_wanted(std::vector<bool>(8, true)));
  CAF_CHECK(!pp.wanted_complete());
  auto rest = pp.pick(1, 100);
  CAF_CHECK_EQUAL(rest.size(), 4u); // pieces 1, 5, 6, 7
  for (auto& b : rest)
    CAF_CHECK(b.piece == 1 || b.piece >= 5);
  CAF_CHECK_EQUAL(pp.self_check(), "");
}
