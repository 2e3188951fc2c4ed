// The peer connection broker against a scripted remote peer, with CAF's test
// multiplexer: deterministic, no sockets. Hostile peers included.
#define CAF_SUITE peer_connection
#include <caf/test/io_dsl.hpp>

#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

using namespace actorrent;
using namespace caf;

namespace {

constexpr std::uint32_t num_pieces = 4;
constexpr std::uint32_t piece_len = 32 * 1024;

// What the stub torrent and picker saw.
struct recorder {
  std::vector<std::string> drops;
  std::vector<sha1_hash> connected;
  std::vector<block_data> blocks;
  std::vector<block_ref> handed_back;
  std::vector<std::vector<bool>> bitfields;
  std::vector<std::uint32_t> haves;
  std::deque<std::vector<block_ref>> picks; // answers to pick requests, in order
  int pick_requests = 0;
  bool left = false;
  std::vector<bool> interest;           // interest_atom reports, in order
  std::vector<block_ref> reads;         // blocks the connection read from the disk
};

torrent_actor::behavior_type torrent_stub(torrent_actor::pointer, recorder* rec) {
  return {
    [](progress_atom) { return torrent_status{}; },
    [](peers_atom, const announce_reply&) {},
    [](failed_atom, const std::string&, const std::string&) {},
    [](verdict_atom, const piece_verdict&, const std::vector<peer_index>&) {},
    [](stats_atom, const peer_report&) {},
    [rec](connected_atom, peer_index, const sha1_hash& id) { rec->connected.push_back(id); },
    [](connected_atom, peer_index, int) {},
    [](failed_atom, peer_index, const std::string&) {},
    [rec](drop_atom, peer_index, const std::string& reason) { rec->drops.push_back(reason); },
    [](tick_atom) {},
    [](incoming_atom, const peer_endpoint&) { return caf::make_result(peer_index{0}, std::vector<bool>{}); },
    [](adopt_atom, peer_index, const caf::actor&) {},
    [rec](interest_atom, peer_index, bool on) { rec->interest.push_back(on); },
    [](stop_atom) { return true; },
  };
}

picker_actor::behavior_type picker_stub(picker_actor::pointer, recorder* rec) {
  return {
    [](join_atom, peer_index, const actor&) {},
    [rec](bitfield_atom, peer_index, const std::vector<bool>& bits) { rec->bitfields.push_back(bits); },
    [rec](have_atom, peer_index, std::uint32_t piece) { rec->haves.push_back(piece); },
    [rec](pick_atom, peer_index, std::uint32_t) {
      ++rec->pick_requests;
      std::vector<block_ref> out;
      if (!rec->picks.empty()) {
        out = std::move(rec->picks.front());
        rec->picks.pop_front();
      }
      return out;
    },
    [rec](block_atom, block_data& bd) { rec->blocks.push_back(std::move(bd)); },
    [rec](cancel_atom, peer_index, const std::vector<block_ref>& blocks) {
      rec->handed_back.insert(rec->handed_back.end(), blocks.begin(), blocks.end());
    },
    [rec](left_atom, peer_index) { rec->left = true; },
    [](check_atom, const std::vector<bool>&) {},
    [](pin_atom, std::uint32_t, peer_index) {},
    [](progress_atom) { return std::make_tuple(std::uint64_t{0}, std::uint32_t{0}); },
  };
}

// (takes an argument: CAF 0.17 dereferences a null tuple pointer when a
// function-based actor is spawned without any, which UBSan reports)
// Blocks it serves are filled with the low byte of piece + offset / 16 KiB.
disk_actor::behavior_type disk_stub(disk_actor::pointer, recorder* rec) {
  return {
    [](block_atom, const block_data&) {},
    [](hash_atom, std::uint32_t piece, bool) { return piece_verdict{piece, true, {}}; },
    [](check_atom) { return std::vector<bool>{}; },
    [](flush_atom) { return true; },
    [rec](read_atom, const block_ref& b) {
      rec->reads.push_back(b);
      auto bytes = std::make_shared<const std::vector<char>>(b.length, static_cast<char>(b.piece + b.offset / 16384));
      return block_view{std::move(bytes), 0, b.length};
    },
    [](resume_atom, const std::vector<bool>&, const transfer_totals&, bool) { return true; },
  };
}

sha1_hash filled(std::uint8_t v) {
  sha1_hash h;
  h.bytes.fill(v);
  return h;
}

using bytes = std::vector<std::uint8_t>;

struct fixture : test_node_fixture<> {
  recorder rec;
  io::connection_handle hdl = io::connection_handle::from_int(1);
  sha1_hash info_hash = filled(0xAB);
  sha1_hash our_id = filled(0x01);
  sha1_hash their_id = filled(0x02);
  actor peer;
  wire::decoder out_decoder{wire::decoder::mode::handshake};
  std::vector<wire::message> written; // what the broker sent, decoded
  std::vector<bytes> written_payloads;
  bool got_handshake = false;

  fixture() {
    peer_config cfg;
    cfg.index = 7;
    cfg.info_hash = info_hash;
    cfg.our_peer_id = our_id;
    cfg.num_pieces = num_pieces;
    cfg.piece_length = piece_len;
    cfg.total_size = std::uint64_t{num_pieces} * piece_len - 1000; // short last piece
    cfg.torrent = sys.spawn(torrent_stub, &rec);
    cfg.picker = sys.spawn(picker_stub, &rec);
    cfg.disk = sys.spawn(disk_stub, &rec);
    cfg.initial_queue_depth = 4;
    mpx.provide_scribe("remote", 6881, hdl);
    auto res = mm.spawn_client(peer_connection, "remote", std::uint16_t{6881}, cfg);
    CAF_REQUIRE(res);
    peer = *res;
    drain();
  }

  ~fixture() {
    anon_send_exit(peer, exit_reason::user_shutdown);
    drain();
    // the test multiplexer keeps the scribe, and the scribe its broker
    mpx.impl_ptr(hdl).reset();
    peer = nullptr;
    drain();
  }

  void drain() {
    for (int i = 0; i < 10000; ++i)
      if (!sched.try_run_once() && !mpx.try_exec_runnable() && !mpx.try_read_data())
        return;
  }

  // Sends raw bytes as the remote peer and lets everything run.
  void remote_sends(const bytes& b) {
    mpx.virtual_send(hdl, std::vector<char>(b.begin(), b.end()));
    drain();
  }

  template <class F>
  void remote_sends_msg(F&& f) {
    bytes b;
    f(b);
    remote_sends(b);
  }

  void remote_handshake(sha1_hash ih, sha1_hash id, bool fast = true) {
    wire::handshake hs;
    hs.info_hash = ih;
    hs.peer_id = id;
    hs.set_fast(fast);
    remote_sends_msg([&](bytes& b) { wire::append_handshake(hs, b); });
  }

  // Decodes what the broker wrote since the last call.
  void read_output() {
    auto& buf = mpx.output_buffer(hdl);
    auto span = std::span<const std::uint8_t>{reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()};
    auto st = out_decoder.parse(
      span,
      [&](const wire::handshake& hs, wire::handshake_stage stage) {
        if (stage == wire::handshake_stage::complete) {
          got_handshake = true;
          CAF_CHECK_EQUAL(hs.info_hash, info_hash);
          CAF_CHECK_EQUAL(hs.peer_id, our_id);
          CAF_CHECK(hs.supports_fast());
        }
      },
      [&](const wire::message& m) {
        written.push_back(m);
        written_payloads.emplace_back(m.payload.begin(), m.payload.end());
      });
    CAF_REQUIRE(st.ok());
    buf.clear();
  }

  std::size_t count(wire::msg_type t) {
    read_output();
    std::size_t n = 0;
    for (auto& m : written)
      n += m.type == t ? 1 : 0;
    return n;
  }

  bool closed_with(const std::string& needle) {
    for (auto& d : rec.drops)
      if (d.find(needle) != std::string::npos)
        return true;
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(peer_connection_tests, fixture)

CAF_TEST(sends its handshake first) {
  read_output();
  CAF_CHECK(got_handshake);
  CAF_CHECK(written.empty());
}

CAF_TEST(downloads a block through handshake choked and downloading states) {
  remote_handshake(info_hash, their_id);
  CAF_REQUIRE_EQUAL(rec.connected.size(), 1u);
  CAF_CHECK_EQUAL(rec.connected[0], their_id);
  // fast extension on both sides and nothing to offer: have none
  CAF_CHECK_EQUAL(count(wire::msg_type::have_none), 1u);
  remote_sends_msg([](bytes& b) { wire::append_have_all(b); });
  CAF_REQUIRE_EQUAL(rec.bitfields.size(), 1u);
  CAF_CHECK_EQUAL(rec.bitfields[0], std::vector<bool>(num_pieces, true));
  CAF_CHECK_EQUAL(count(wire::msg_type::interested), 1u);
  // still choked: no pick requests yet
  CAF_CHECK_EQUAL(rec.pick_requests, 0);
  rec.picks.push_back({block_ref{1, 0, 16384}, block_ref{1, 16384, 16384}});
  remote_sends_msg([](bytes& b) { wire::append_unchoke(b); });
  CAF_CHECK_GREATER_OR_EQUAL(rec.pick_requests, 1);
  CAF_CHECK_EQUAL(count(wire::msg_type::request), 2u);
  bytes block(16384, 0x5A);
  remote_sends_msg([&](bytes& b) { wire::append_piece(b, 1, 0, block); });
  CAF_REQUIRE_EQUAL(rec.blocks.size(), 1u);
  CAF_CHECK_EQUAL(rec.blocks[0].piece, 1u);
  CAF_CHECK_EQUAL(rec.blocks[0].offset, 0u);
  CAF_CHECK_EQUAL(rec.blocks[0].from, 7u);
  CAF_CHECK(std::equal(block.begin(), block.end(), rec.blocks[0].bytes.begin(), rec.blocks[0].bytes.end()));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(a choke hands outstanding requests back to the picker) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_have_all(b); });
  rec.picks.push_back({block_ref{2, 0, 16384}, block_ref{2, 16384, 16384}});
  remote_sends_msg([](bytes& b) { wire::append_unchoke(b); });
  CAF_REQUIRE_EQUAL(count(wire::msg_type::request), 2u);
  remote_sends_msg([](bytes& b) { wire::append_choke(b); });
  CAF_CHECK_EQUAL(rec.handed_back.size(), 2u);
  // a block requested before the choke may still arrive: accepted quietly
  bytes block(16384, 1);
  remote_sends_msg([&](bytes& b) { wire::append_piece(b, 2, 0, block); });
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(every message of a chunk is handled when many arrive at once) {
  bytes all;
  wire::handshake hs;
  hs.info_hash = info_hash;
  hs.peer_id = their_id;
  hs.set_fast(true);
  wire::append_handshake(hs, all);
  wire::append_have(all, 0);
  wire::append_have(all, 3);
  wire::append_keep_alive(all);
  wire::append_have(all, 2);
  remote_sends(all);
  CAF_CHECK_EQUAL(rec.haves, (std::vector<std::uint32_t>{0, 3, 2}));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(hostile: a block nobody requested closes the connection) {
  remote_handshake(info_hash, their_id);
  bytes block(16384, 0);
  remote_sends_msg([&](bytes& b) { wire::append_piece(b, 0, 0, block); });
  CAF_CHECK(closed_with("unrequested block"));
  CAF_CHECK(rec.blocks.empty());
  CAF_CHECK(rec.left);
}

CAF_TEST(hostile: an oversize length prefix is a protocol error) {
  remote_handshake(info_hash, their_id);
  remote_sends(bytes{0x7f, 0xff, 0xff, 0xff, 7});
  CAF_CHECK(closed_with("protocol error"));
}

CAF_TEST(hostile: garbage instead of a handshake) {
  remote_sends(bytes(68, 'x'));
  CAF_CHECK(closed_with("protocol error"));
  CAF_CHECK(rec.connected.empty());
}

CAF_TEST(hostile: handshake for another torrent) {
  remote_handshake(filled(0xCD), their_id);
  CAF_CHECK(closed_with("another torrent"));
}

CAF_TEST(hostile: connecting to ourselves is detected) {
  remote_handshake(info_hash, our_id);
  CAF_CHECK(closed_with("ourselves"));
}

CAF_TEST(hostile: have for a piece beyond the torrent) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_have(b, num_pieces); });
  CAF_CHECK(closed_with("have for piece 4 of 4"));
}

CAF_TEST(hostile: bitfield of the wrong size) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_bitfield(b, bytes{0xf0, 0x00}); });
  CAF_CHECK(closed_with("bad bitfield"));
}

CAF_TEST(hostile: a block of the wrong length) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_have_all(b); });
  rec.picks.push_back({block_ref{0, 0, 16384}});
  remote_sends_msg([](bytes& b) { wire::append_unchoke(b); });
  bytes block(1000, 0); // requested 16384
  remote_sends_msg([&](bytes& b) { wire::append_piece(b, 0, 0, block); });
  CAF_CHECK(closed_with("unrequested block"));
  CAF_CHECK(rec.blocks.empty());
}

CAF_TEST(hostile: a request beyond the piece) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_request(b, 3, piece_len - 1000, 16384); });
  CAF_CHECK(closed_with("invalid request"));
}

CAF_TEST(fast extension messages without negotiating it) {
  remote_handshake(info_hash, their_id, false);
  remote_sends_msg([](bytes& b) { wire::append_have_all(b); });
  CAF_CHECK(closed_with("without the fast extension"));
}

CAF_TEST_FIXTURE_SCOPE_END()
