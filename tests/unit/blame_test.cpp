#define CAF_SUITE blame
#include <caf/test/unit_test.hpp>

#include "logic/blame.hpp"

using namespace actorrent;
using logic::blame_tracker;
using peers = std::vector<blame_tracker::peer>;

namespace {

std::vector<sha1_hash> hashes(std::initializer_list<const char*> blocks) {
  std::vector<sha1_hash> out;
  for (auto b : blocks)
    out.push_back(sha1(b));
  return out;
}

} // namespace

CAF_TEST(a sole sender gets strikes and is banned at the limit) {
  blame_tracker bt{2};
  auto d = bt.piece_failed(0, hashes({"x", "y"}), {5, 5});
  CAF_CHECK(d.ban.empty());
  CAF_CHECK(!d.pin);
  CAF_CHECK_EQUAL(bt.strikes(5), 1u);
  CAF_CHECK(!bt.wants_block_hashes(0)); // one sender: nothing to compare
  d = bt.piece_failed(3, hashes({"x"}), {5});
  CAF_CHECK_EQUAL(d.ban, peers{5});
}

CAF_TEST(an honest peer that shared a failed piece with a liar is not banned) {
  blame_tracker bt{2};
  // blocks 0 and 2 from honest peer 1, blocks 1 and 3 from liar 2
  auto failed = hashes({"a", "BAD", "c", "BAD2"});
  auto d = bt.piece_failed(9, failed, {1, 2, 1, 2});
  CAF_CHECK(d.ban.empty());
  CAF_REQUIRE(d.pin);
  CAF_CHECK_EQUAL(*d.pin, 1u); // fewest strikes, then lowest index
  CAF_CHECK(bt.wants_block_hashes(9));
  // the good copy differs exactly in the liar's blocks
  d = bt.piece_passed(9, hashes({"a", "b", "c", "d"}));
  CAF_CHECK_EQUAL(d.ban, peers{2});
  CAF_CHECK(!bt.wants_block_hashes(9));
  CAF_CHECK_EQUAL(bt.strikes(1), 0u);
}

CAF_TEST(the pin prefers the sender with fewer strikes) {
  blame_tracker bt{3};
  bt.piece_failed(0, hashes({"x"}), {1}); // peer 1 has a strike
  auto d = bt.piece_failed(1, hashes({"a", "b"}), {1, 4});
  CAF_REQUIRE(d.pin);
  CAF_CHECK_EQUAL(*d.pin, 4u);
}

CAF_TEST(a pinned re-download that fails again strikes the pinned peer) {
  blame_tracker bt{2};
  auto d = bt.piece_failed(2, hashes({"a", "b"}), {1, 2});
  CAF_REQUIRE(d.pin);
  auto pinned = *d.pin;
  d = bt.piece_failed(2, hashes({"a", "c"}), {pinned, pinned});
  CAF_CHECK_EQUAL(bt.strikes(pinned), 1u);
  d = bt.piece_failed(2, hashes({"a", "d"}), {pinned, pinned});
  CAF_CHECK_EQUAL(d.ban, peers{pinned});
  // the first failed copy is still the reference when a good copy comes at last
  d = bt.piece_passed(2, hashes({"a", "z"}));
  CAF_CHECK_EQUAL(d.ban, (peers{2}));
}

CAF_TEST(unknown senders are never blamed) {
  blame_tracker bt{1};
  auto d = bt.piece_failed(0, hashes({"a", "b"}), {blame_tracker::nobody, blame_tracker::nobody});
  CAF_CHECK(d.ban.empty());
  CAF_CHECK(!d.pin);
  d = bt.piece_failed(1, hashes({"a", "b"}), {blame_tracker::nobody, 3});
  CAF_CHECK_EQUAL(d.ban, peers{3}); // the only known sender, limit 1
}

CAF_TEST(a piece that never failed bans nobody when it passes) {
  blame_tracker bt;
  CAF_CHECK(bt.piece_passed(0, hashes({"a"})).ban.empty());
}
