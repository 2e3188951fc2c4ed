// The piece picker actor with CAF's deterministic test coordinator: blocks go
// to the disk only when wanted, hash requests follow the writes, verdicts reach
// the torrent with the senders, and picks wait while the disk is behind.
#define CAF_SUITE piece_picker_actor
#include <caf/test/dsl.hpp>

#include "actors/piece_picker_actor.hpp"

#include <caf/all.hpp>

using namespace actorrent;
using namespace caf;

namespace {

struct recorder {
  std::vector<std::pair<std::string, std::uint32_t>> disk_log; // ("write"|"hash", piece)
  std::uint64_t written = 0;
  std::vector<std::pair<piece_verdict, std::vector<peer_index>>> verdicts;
  std::vector<std::string> drops;
  std::vector<block_ref> cancels;
  bool fail_hashes = false;
};

disk_actor::behavior_type disk_stub(disk_actor::pointer, recorder* rec) {
  return {
    [rec](block_atom, const block_data& bd) {
      rec->disk_log.emplace_back("write", bd.piece);
      rec->written += bd.bytes.size();
    },
    [rec](hash_atom, std::uint32_t piece, bool) {
      rec->disk_log.emplace_back("hash", piece);
      return piece_verdict{piece, !rec->fail_hashes, {}};
    },
    [](hash_atom, std::uint64_t) {},
    [](check_atom) { return std::vector<bool>{}; },
    [](flush_atom) { return true; },
    [](status_atom) { return actor_status{"disk-stub", "", {}}; },
    [](read_atom, const std::vector<block_ref>&) { return std::vector<block_view>{}; },
    [](resume_atom, const std::vector<bool>&, const transfer_totals&, bool) { return true; },
  };
}

torrent_actor::behavior_type torrent_stub(torrent_actor::pointer, recorder* rec) {
  return {
    [](progress_atom) { return torrent_status{}; },
    [](peers_atom, const announce_reply&) {},
    [](failed_atom, const std::string&, const std::string&) {},
    [rec](verdict_atom, const piece_verdict& v, const std::vector<peer_index>& senders) {
      rec->verdicts.emplace_back(v, senders);
    },
    [](stats_atom, const peer_report&) {},
    [](connected_atom, peer_index, const sha1_hash&) {},
    [](dialed_atom, peer_index, int) {},
    [](peer_failed_atom, peer_index, const std::string&) {},
    [](drop_atom, peer_index, const std::string&) {},
    [](tick_atom) {},
    [](incoming_atom, const peer_endpoint&) { return peer_config{}; },
    [](adopt_atom, peer_index, const peer_actor&) {},
    [](interest_atom, peer_index, bool) {},
    [](pause_atom) {},
    [](unpause_atom) {},
    [](stop_atom) { return true; },
    [](limits_atom, double, double, std::uint32_t, std::uint32_t) {},
    [](unchoke_atom, std::uint32_t) {},
    [](announce_atom) {},
    [](sleep_atom) -> caf::result<torrent_nap_ptr> { return caf::make_error(caf::sec::runtime_error, "stub"); },
    [](status_atom) { return actor_status{"torrent-stub", "", {}}; },
    [](wire_fault_atom, const std::string&) { return true; },
    [](disk_fault_atom, const std::string&) { return true; },
  };
}

// Stands in for a peer connection: records what the picker tells it.
behavior peer_stub(event_based_actor*, recorder* rec) {
  return {
    [rec](drop_atom, const std::string& reason) { rec->drops.push_back(reason); },
    [rec](cancel_atom, const block_ref& b) { rec->cancels.push_back(b); },
  };
}

constexpr std::uint32_t piece_len = 32 * 1024; // two blocks a piece

struct fixture : test_coordinator_fixture<> {
  recorder rec;
  picker_actor picker;
  actor peer_a;
  actor peer_b;

  explicit fixture(std::uint64_t max_disk_queue = 16u << 20) {
    picker_config cfg;
    cfg.algo.total_size = 4 * piece_len;
    cfg.algo.piece_length = piece_len;
    cfg.algo.random_first_pieces = 0;
    cfg.algo.endgame_max_requesters = 1;
    cfg.max_disk_queue = max_disk_queue;
    cfg.disk = sys.spawn(disk_stub, &rec);
    cfg.torrent = sys.spawn(torrent_stub, &rec);
    picker = sys.spawn(piece_picker_actor, cfg);
    peer_a = sys.spawn(peer_stub, &rec);
    peer_b = sys.spawn(peer_stub, &rec);
    self->send(picker, join_atom_v, peer_index{1}, actor_cast<peer_actor>(peer_a));
    self->send(picker, join_atom_v, peer_index{2}, actor_cast<peer_actor>(peer_b));
    self->send(picker, bitfield_atom_v, peer_index{1}, std::vector<bool>(4, true));
    self->send(picker, bitfield_atom_v, peer_index{2}, std::vector<bool>(4, true));
    run();
  }

  std::vector<block_ref> pick(peer_index p, std::uint32_t n) {
    std::vector<block_ref> out;
    self->send(picker, pick_atom_v, p, n);
    run();
    self->receive([&](std::vector<block_ref>& r) { out = std::move(r); },
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to pick"); });
    return out;
  }

  void deliver(peer_index from, const block_ref& b, char fill = 'x') {
    self->send(picker, block_atom_v, block_data{from, b.piece, b.offset, std::vector<char>(b.length, fill)});
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(picker_actor_tests, fixture)

CAF_TEST(blocks go to the disk and a complete piece is hashed after its writes) {
  auto blocks = pick(1, 2);
  CAF_REQUIRE_EQUAL(blocks.size(), 2u);
  CAF_CHECK_EQUAL(blocks[0].piece, blocks[1].piece);
  auto piece = blocks[0].piece;
  deliver(1, blocks[0]);
  deliver(1, blocks[1]);
  using entry = std::pair<std::string, std::uint32_t>;
  CAF_CHECK_EQUAL(rec.disk_log, (std::vector<entry>{{"write", piece}, {"write", piece}, {"hash", piece}}));
  CAF_REQUIRE_EQUAL(rec.verdicts.size(), 1u);
  CAF_CHECK(rec.verdicts[0].first.ok);
  CAF_CHECK_EQUAL(rec.verdicts[0].second, (std::vector<peer_index>{1, 1}));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(an unrequested block is not written and its sender is dropped) {
  deliver(2, block_ref{3, 0, 16384});
  CAF_CHECK(rec.disk_log.empty());
  CAF_REQUIRE_EQUAL(rec.drops.size(), 1u);
  CAF_CHECK_NOT_EQUAL(rec.drops[0].find("unrequested"), std::string::npos);
}

CAF_TEST(a failed piece reports every block sender and can be picked again) {
  rec.fail_hashes = true;
  auto a = pick(1, 1); // first block of a piece to peer 1
  CAF_REQUIRE_EQUAL(a.size(), 1u);
  deliver(1, a[0]);
  // peer 1 leaves; peer 2 finishes the same piece
  self->send(picker, left_atom_v, peer_index{1});
  run();
  auto b = pick(2, 4);
  auto it = std::find_if(b.begin(), b.end(), [&](const block_ref& r) { return r.piece == a[0].piece; });
  CAF_REQUIRE(it != b.end());
  deliver(2, *it);
  CAF_REQUIRE_EQUAL(rec.verdicts.size(), 1u);
  CAF_CHECK(!rec.verdicts[0].first.ok);
  auto senders = rec.verdicts[0].second;
  std::sort(senders.begin(), senders.end());
  CAF_CHECK_EQUAL(senders, (std::vector<peer_index>{1, 2}));
  // the piece is wanted again
  rec.fail_hashes = false;
  auto again = pick(2, 8);
  CAF_CHECK(std::any_of(again.begin(), again.end(), [&](const block_ref& r) { return r.piece == a[0].piece; }));
}

// The stall seen in a compose swarm: a piece failed with blocks from two
// honest leechers, one of them finished and left, and the pin to it arrived
// after its left_atom. The piece must stay open to the peers still here.
CAF_TEST(a pin to a peer that already left is refused) {
  auto a = pick(1, 1);
  CAF_REQUIRE_EQUAL(a.size(), 1u);
  auto piece = a[0].piece;
  self->send(picker, left_atom_v, peer_index{1});
  run();
  self->send(picker, pin_atom_v, piece, peer_index{1});
  run();
  auto b = pick(2, 8);
  CAF_CHECK(std::any_of(b.begin(), b.end(), [&](const block_ref& r) { return r.piece == piece; }));
}

// A pinned sender that never delivers (it chokes us, say) holds the piece only
// for pin_timeout (20 s by default); then any peer may fetch it. The clock is
// advanced by hand: the fixture's run() would fire the timeout at once.
CAF_TEST(a pin is released after pin_timeout) {
  auto a = pick(1, 1);
  CAF_REQUIRE_EQUAL(a.size(), 1u);
  auto piece = a[0].piece;
  auto picks_piece = [&](peer_index p) {
    std::vector<block_ref> got;
    self->send(picker, pick_atom_v, p, std::uint32_t{8});
    sched.run();
    self->receive([&](std::vector<block_ref>& r) { got = std::move(r); },
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to pick"); });
    bool found = std::any_of(got.begin(), got.end(), [&](const block_ref& r) { return r.piece == piece; });
    self->send(picker, cancel_atom_v, p, got); // back to the pool for the next probe
    sched.run();
    return found;
  };
  self->send(picker, cancel_atom_v, peer_index{1}, std::vector<block_ref>{a[0]}); // peer 1 choked us
  self->send(picker, pin_atom_v, piece, peer_index{1});
  sched.run();
  CAF_CHECK(!picks_piece(2));
  sched.clock().advance_time(std::chrono::seconds(19));
  sched.run();
  CAF_CHECK(!picks_piece(2));
  sched.clock().advance_time(std::chrono::seconds(2));
  sched.run();
  CAF_CHECK(picks_piece(2));
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

struct slow_disk_state {
  std::vector<std::pair<std::uint32_t, response_promise>> pending;
  std::size_t* requests = nullptr;
};

// A disk that answers hash requests only when told to (ok_atom: answer the
// oldest one). Untyped so it can take that extra message; the picker sees it
// through a disk_actor handle.
behavior slow_disk(stateful_actor<slow_disk_state>* self, std::size_t* requests) {
  self->state.requests = requests;
  return {
    [](block_atom, const block_data&) {},
    [self](hash_atom, std::uint32_t piece, bool) {
      self->state.pending.emplace_back(piece, self->make_response_promise());
      ++*self->state.requests;
    },
    [self](ok_atom) {
      auto& p = self->state.pending;
      if (p.empty())
        return;
      p.front().second.deliver(piece_verdict{p.front().first, true, {}});
      p.erase(p.begin());
    },
    [](check_atom) { return std::vector<bool>{}; },
    [](flush_atom) { return true; },
    [](status_atom) { return actor_status{"disk-stub", "", {}}; },
    [](read_atom, const std::vector<block_ref>&) { return std::vector<block_view>{}; },
    [](resume_atom, const std::vector<bool>&, const transfer_totals&, bool) { return true; },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(picker_backpressure_tests, test_coordinator_fixture<>)

CAF_TEST(picks wait while the disk is behind and resume when it catches up) {
  recorder rec;
  std::size_t hash_requests = 0;
  picker_config cfg;
  cfg.algo.total_size = 8 * piece_len;
  cfg.algo.piece_length = piece_len;
  cfg.algo.random_first_pieces = 0;
  cfg.max_disk_queue = piece_len; // about one piece may wait at the disk
  cfg.metrics = std::make_shared<logic::engine_metrics>();
  auto metrics = cfg.metrics;
  auto disk = sys.spawn(slow_disk, &hash_requests);
  cfg.disk = actor_cast<disk_actor>(disk);
  cfg.torrent = sys.spawn(torrent_stub, &rec);
  auto picker = sys.spawn(piece_picker_actor, cfg);
  auto peer = sys.spawn(peer_stub, &rec);
  self->send(picker, join_atom_v, peer_index{1}, actor_cast<peer_actor>(peer));
  self->send(picker, bitfield_atom_v, peer_index{1}, std::vector<bool>(8, true));
  run();
  std::vector<block_ref> answer;
  bool answered = false;
  // with a blocking `self` (scoped actor) `then` is not available: use receive
  auto ask_blocking = [&](std::uint32_t n) {
    answered = false;
    self->send(picker, pick_atom_v, peer_index{1}, n);
    run();
    self->receive(
      [&](std::vector<block_ref>& r) {
        answer = std::move(r);
        answered = true;
      },
      after(std::chrono::seconds(0)) >> [&] { answer.clear(); });
  };
  ask_blocking(4); // two whole pieces
  auto first = answer;
  CAF_REQUIRE_EQUAL(first.size(), 4u);
  for (auto& b : first)
    self->send(picker, block_atom_v, block_data{1, b.piece, b.offset, std::vector<char>(b.length, 'x')});
  run();
  CAF_REQUIRE_EQUAL(hash_requests, 2u); // both pieces complete, hashes requested
  CAF_CHECK_EQUAL(metrics->disk_queued_bytes.load(), static_cast<std::int64_t>(2 * piece_len));
  // 64 KiB queued at a disk that confirmed nothing: the next pick must wait
  self->send(picker, pick_atom_v, peer_index{1}, std::uint32_t{2});
  run();
  CAF_CHECK_EQUAL(self->mailbox().size(), 0u);
  // the disk answers one hash: everything sent before that request is written
  // (32 KiB are still queued then: at the limit, not above it)
  self->send(disk, ok_atom_v);
  run();
  CAF_REQUIRE_EQUAL(self->mailbox().size(), 1u);
  CAF_CHECK_EQUAL(metrics->disk_queued_bytes.load(), static_cast<std::int64_t>(piece_len));
  self->receive([&](std::vector<block_ref>& r) { answer = std::move(r); });
  CAF_CHECK_EQUAL(answer.size(), 2u);
  self->send(disk, ok_atom_v);
  run();
  CAF_CHECK_EQUAL(rec.verdicts.size(), 2u);
  CAF_CHECK_EQUAL(metrics->disk_queued_bytes.load(), 0);
  anon_send_exit(picker, exit_reason::user_shutdown);
  run();
  CAF_CHECK_EQUAL(metrics->disk_queued_bytes.load(), 0); // a picker that is gone holds nothing
}

CAF_TEST_FIXTURE_SCOPE_END()
