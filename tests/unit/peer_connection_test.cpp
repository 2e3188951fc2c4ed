// The peer connection broker against a scripted remote peer, with CAF's test
// multiplexer: deterministic, no sockets. Hostile peers included.
#define CAF_SUITE peer_connection
#include "actor_stubs.hpp"

using namespace actorrent;
using namespace caf;

namespace {

using broker_test::bytes;
using broker_test::filled;

constexpr std::uint32_t num_pieces = 4;
constexpr std::uint32_t piece_len = 32 * 1024;
constexpr std::uint32_t blk = 16 * 1024;
// a piece message of one 16 KiB block as it sits in the socket's send buffer
constexpr std::uint64_t piece_msg_size = 4 + 1 + 8 + blk;

// One outgoing connection to a scripted remote peer. `cfg` may be changed
// before start().
struct connection_fixture : broker_test::broker_fixture {
  io::connection_handle hdl = io::connection_handle::from_int(1);
  peer_config cfg;
  peer_impl_actor peer;

  connection_fixture() {
    cfg.index = 7;
    cfg.info_hash = info_hash;
    cfg.our_peer_id = our_id;
    cfg.num_pieces = num_pieces;
    cfg.piece_length = piece_len;
    cfg.total_size = std::uint64_t{num_pieces} * piece_len - 1000; // short last piece
    broker_test::spawn_stubs(sys, rec, cfg);
    cfg.initial_queue_depth = 4;
  }

  void start() {
    mpx.provide_scribe("remote", 6881, hdl);
    auto res = mm.spawn_client(peer_connection, "remote", std::uint16_t{6881}, cfg);
    CAF_REQUIRE(res);
    peer = *res;
    drain();
  }

  ~connection_fixture() {
    if (peer)
      anon_send_exit(peer, exit_reason::user_shutdown);
    drain();
    // the test multiplexer keeps the scribe, and the scribe its broker
    mpx.impl_ptr(hdl).reset();
    peer = nullptr;
    // A broker that closed itself with disk reads in flight is never released
    // here, nor the stubs its state holds: without these exits the actor
    // system would wait for them forever.
    broker_test::exit_stubs(cfg);
    drain();
  }

  void remote_sends(const bytes& b) { broker_fixture::remote_sends(hdl, b); }

  template <class F>
  void remote_sends_msg(F&& f) {
    bytes b;
    f(b);
    remote_sends(b);
  }

  void remote_handshake(sha1_hash ih, sha1_hash id, bool fast = true) {
    remote_sends(handshake_bytes(ih, id, fast));
  }

  // What the broker wrote so far (decoded, cumulative).
  const std::vector<wire::message>& written() { return read_output(hdl).written; }

  bool got_handshake() {
    auto& hs = read_output(hdl).handshake;
    if (!hs)
      return false;
    CAF_CHECK_EQUAL(hs->info_hash, info_hash);
    CAF_CHECK_EQUAL(hs->peer_id, our_id);
    CAF_CHECK(hs->supports_fast());
    return true;
  }

  std::size_t count(wire::msg_type t) {
    std::size_t n = 0;
    for (auto& m : written())
      n += m.type == t ? 1 : 0;
    return n;
  }
};

struct fixture : connection_fixture {
  fixture() { start(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(peer_connection_tests, fixture)

CAF_TEST(sends its handshake first) {
  CAF_CHECK(got_handshake());
  CAF_CHECK(written().empty());
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

namespace {

// A connection that keeps the daemon's counters (peer_config::metrics).
struct metrics_fixture : connection_fixture {
  std::shared_ptr<logic::engine_metrics> metrics = std::make_shared<logic::engine_metrics>();
  std::size_t out_bytes = 0; // everything the broker wrote

  metrics_fixture() {
    cfg.metrics = metrics;
    start();
  }

  void take_output() {
    out_bytes += mpx.output_buffer(hdl).size();
    read_output(hdl);
  }

  std::uint64_t disconnects(logic::disconnect_reason r) {
    return metrics->disconnects[static_cast<std::size_t>(r)].load();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(peer_connection_metrics_tests, metrics_fixture)

CAF_TEST(protocol bytes are every byte but the blocks and the close is counted by reason) {
  take_output(); // our handshake
  remote_handshake(info_hash, their_id);                              // 68
  remote_sends_msg([](bytes& b) { wire::append_have_all(b); });       // 5
  rec.picks.push_back({block_ref{1, 0, 16384}});
  remote_sends_msg([](bytes& b) { wire::append_unchoke(b); });        // 5
  bytes block(16384, 0x5A);
  remote_sends_msg([&](bytes& b) { wire::append_piece(b, 1, 0, block); }); // 13 + the block
  take_output();
  // nothing is reported before the tick or the close
  CAF_CHECK_EQUAL(metrics->protocol_in.load(), 0u);
  anon_send(peer, drop_atom_v, std::string{"shutting down"});
  drain();
  take_output();
  CAF_CHECK(closed_with("shutting down"));
  CAF_CHECK_EQUAL(metrics->protocol_in.load(), 68u + 5 + 5 + 13);
  CAF_CHECK_GREATER_OR_EQUAL(out_bytes, 68u + 5 + 5 + 17); // handshake, have none, interested, a request
  CAF_CHECK_EQUAL(metrics->protocol_out.load(), out_bytes);
  CAF_CHECK_EQUAL(disconnects(logic::disconnect_reason::shutdown), 1u);
  std::uint64_t all = 0;
  for (auto& d : metrics->disconnects)
    all += d.load();
  CAF_CHECK_EQUAL(all, 1u);
}

CAF_TEST(a hostile peer is counted as a protocol error) {
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& b) { wire::append_have(b, num_pieces); });
  CAF_CHECK(closed_with("have for piece 4 of 4"));
  CAF_CHECK_EQUAL(disconnects(logic::disconnect_reason::protocol_error), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

// ---- uploads ----------------------------------------------------------------

namespace {

using wire::msg_type;

// We have pieces 0 to 2, not the last one; start() is up to each test, so it
// can change `cfg` first.
struct upload_fixture : connection_fixture {
  upload_fixture() { cfg.we_have = {true, true, true, false}; }

  void start_and_handshake(bool fast = true) {
    start();
    remote_handshake(info_hash, their_id, fast);
  }

  template <class Atom>
  void torrent_says(Atom what) {
    anon_send(peer, what);
    drain();
  }

  // One chunk of requests and cancels from the remote.
  void remote_sends_all(std::initializer_list<std::pair<msg_type, block_ref>> msgs) {
    bytes b;
    for (auto& [t, r] : msgs)
      if (t == msg_type::request)
        wire::append_request(b, r.piece, r.offset, r.length);
      else
        wire::append_cancel(b, r.piece, r.offset, r.length);
    remote_sends(b);
  }

  void remote_requests(std::initializer_list<block_ref> blocks) {
    bytes b;
    for (auto& r : blocks)
      wire::append_request(b, r.piece, r.offset, r.length);
    remote_sends(b);
  }

  // CAF's test multiplexer never reports writes: play the socket that wrote
  // `written` bytes and still holds `remaining`.
  void socket_reports(std::uint64_t written, std::uint64_t remaining) {
    anon_send(peer, io::data_transferred_msg{hdl, written, remaining});
    drain();
  }

  // The blocks of every message of type `t` the remote received, in order;
  // piece messages are checked to carry the disk stub's bytes.
  std::vector<block_ref> received(msg_type t) {
    auto& v = read_output(hdl);
    std::vector<block_ref> out;
    for (std::size_t i = 0; i < v.written.size(); ++i) {
      auto& m = v.written[i];
      if (m.type != t)
        continue;
      if (t != msg_type::piece) {
        out.push_back(block_ref{m.index, m.begin, m.length});
        continue;
      }
      block_ref r{m.index, m.begin, static_cast<std::uint32_t>(v.payloads[i].size())};
      auto fill = static_cast<std::uint8_t>(broker_test::block_fill(r));
      CAF_CHECK(std::all_of(v.payloads[i].begin(), v.payloads[i].end(), [fill](auto c) { return c == fill; }));
      out.push_back(r);
    }
    return out;
  }

  // A request that must close the connection with `reason` (we serve).
  void request_closes(block_ref r, const std::string& reason) {
    start_and_handshake();
    torrent_says(unchoke_atom_v);
    remote_requests({r});
    CAF_CHECK(closed_with(reason));
    CAF_CHECK(rec.reads.empty());
  }
};

using blocks = std::vector<block_ref>;

const block_ref a{0, 0, blk};
const block_ref b{0, blk, blk};
const block_ref c{1, 0, blk};
const block_ref d{2, blk, blk};

} // namespace

CAF_TEST_FIXTURE_SCOPE(upload_tests, upload_fixture)

CAF_TEST(the interest of the remote reaches the torrent once per change) {
  start_and_handshake();
  CAF_CHECK_EQUAL(count(msg_type::bitfield), 1u);
  remote_sends_msg([](bytes& m) { wire::append_interested(m); });
  remote_sends_msg([](bytes& m) { wire::append_interested(m); });
  CAF_CHECK_EQUAL(rec.interest, (std::vector<bool>{true}));
  remote_sends_msg([](bytes& m) { wire::append_not_interested(m); });
  CAF_CHECK_EQUAL(rec.interest, (std::vector<bool>{true, false}));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(while choking a request gets a reject and nothing is read) {
  start_and_handshake();
  remote_sends_msg([](bytes& m) { wire::append_interested(m); });
  remote_requests({a});
  CAF_CHECK_EQUAL(received(msg_type::reject), blocks{a});
  CAF_CHECK(received(msg_type::piece).empty());
  CAF_CHECK(rec.reads.empty());
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(without the fast extension a request while choking is ignored) {
  start_and_handshake(false);
  remote_requests({a});
  CAF_CHECK(received(msg_type::reject).empty());
  CAF_CHECK(rec.reads.empty());
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(after unchoke requests are read and served in request order) {
  start_and_handshake();
  remote_sends_msg([](bytes& m) { wire::append_interested(m); });
  torrent_says(unchoke_atom_v);
  CAF_CHECK_EQUAL(count(msg_type::unchoke), 1u);
  remote_requests({d, a, c, b});
  remote_requests({block_ref{0, 100, 5000}}); // an odd but valid block
  CAF_CHECK_EQUAL(rec.reads, (blocks{d, a, c, b, block_ref{0, 100, 5000}}));
  CAF_CHECK_EQUAL(received(msg_type::piece), (blocks{d, a, c, b, block_ref{0, 100, 5000}}));
  // a second unchoke from the torrent changes nothing
  torrent_says(unchoke_atom_v);
  CAF_CHECK_EQUAL(count(msg_type::unchoke), 1u);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(a cancel removes a queued request and a read in flight with rejects) {
  cfg.send_buffer_limit = 20000; // two reads in flight at most
  start_and_handshake();
  torrent_says(unchoke_atom_v);
  // a and b are read at once (one read), c waits in the queue; the cancels
  // come in the next chunk, before the disk has answered
  bytes requests, cancels;
  for (auto& r : {a, b, c})
    wire::append_request(requests, r.piece, r.offset, r.length);
  for (auto& r : {c, b})
    wire::append_cancel(cancels, r.piece, r.offset, r.length);
  // (virtual_send has the broker parse at once; the disk stub runs in drain())
  mpx.virtual_send(hdl, std::vector<char>(requests.begin(), requests.end()));
  mpx.virtual_send(hdl, std::vector<char>(cancels.begin(), cancels.end()));
  drain();
  CAF_CHECK_EQUAL(rec.reads, (blocks{a, b}));
  CAF_CHECK_EQUAL(received(msg_type::piece), blocks{a});
  CAF_CHECK_EQUAL(received(msg_type::reject), (blocks{c, b}));
  // nothing of c is left: an empty socket reads nothing more
  socket_reports(piece_msg_size, 0);
  CAF_CHECK_EQUAL(rec.reads.size(), 2u);
  // a cancel for something never requested is ignored
  remote_sends_all({{msg_type::cancel, d}});
  CAF_CHECK_EQUAL(received(msg_type::reject).size(), 2u);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(a choke rejects the queued requests and stops reading) {
  cfg.send_buffer_limit = 20000;
  start_and_handshake();
  torrent_says(unchoke_atom_v);
  remote_requests({a, b, c, d});
  CAF_CHECK_EQUAL(received(msg_type::piece), (blocks{a, b}));
  torrent_says(choke_atom_v);
  CAF_CHECK_EQUAL(count(msg_type::choke), 1u);
  CAF_CHECK_EQUAL(received(msg_type::reject), (blocks{c, d}));
  // the socket drains: still nothing is read while choked
  socket_reports(2 * piece_msg_size, 0);
  CAF_CHECK_EQUAL(rec.reads, (blocks{a, b}));
  // a new request while choked: a reject, and the next unchoke serves afresh
  remote_requests({c});
  CAF_CHECK_EQUAL(received(msg_type::reject), (blocks{c, d, c}));
  torrent_says(unchoke_atom_v);
  CAF_CHECK_EQUAL(count(msg_type::unchoke), 2u);
  remote_requests({c});
  CAF_CHECK_EQUAL(received(msg_type::piece), (blocks{a, b, c}));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(hostile: a request for a piece beyond the torrent) {
  request_closes({num_pieces, 0, blk}, "invalid request (piece 4 offset 0 length 16384)");
}

CAF_TEST(hostile: a request past the end of its piece) {
  request_closes({1, piece_len - blk + 1, blk}, "invalid request (piece 1 offset 16385 length 16384)");
}

CAF_TEST(hostile: a request longer than 16 KiB) {
  request_closes({0, 0, blk + 1}, "invalid request (piece 0 offset 0 length 16385)");
}

CAF_TEST(hostile: a request of length zero) {
  request_closes({0, 0, 0}, "invalid request (piece 0 offset 0 length 0)");
}

CAF_TEST(hostile: a request for a piece we do not have) {
  request_closes({3, 0, blk}, "request for piece 3 we do not have");
}

CAF_TEST(hostile: more requests than max_queued_requests) {
  cfg.max_queued_requests = 3;
  start_and_handshake();
  torrent_says(unchoke_atom_v);
  remote_requests({a, b, c, d}); // one chunk: all four before any read returns
  CAF_CHECK(closed_with("more than 3 queued requests"));
  CAF_CHECK(received(msg_type::piece).empty());
}

CAF_TEST(back-pressure: reads stop at send_buffer_limit and resume as the socket drains) {
  cfg.send_buffer_limit = 2 * blk; // two blocks in flight or in the socket
  start_and_handshake();
  torrent_says(unchoke_atom_v);
  std::vector<block_ref> all;
  for (std::uint32_t p = 0; p < 3; ++p)
    for (std::uint32_t off = 0; off < piece_len; off += blk)
      all.push_back({p, off, blk});
  bytes chunk;
  for (auto& r : all)
    wire::append_request(chunk, r.piece, r.offset, r.length);
  remote_sends(chunk);
  // the test multiplexer never reports writes: the two blocks stay "unsent"
  CAF_CHECK_EQUAL(rec.reads, (blocks{all[0], all[1]}));
  CAF_CHECK_EQUAL(received(msg_type::piece).size(), 2u);
  // the socket wrote one block and holds the other: room for one more read
  socket_reports(piece_msg_size, piece_msg_size);
  CAF_CHECK_EQUAL(rec.reads.size(), 3u);
  // a report of no progress changes nothing
  socket_reports(0, 2 * piece_msg_size);
  CAF_CHECK_EQUAL(rec.reads.size(), 3u);
  // everything written: two more
  socket_reports(2 * piece_msg_size, 0);
  CAF_CHECK_EQUAL(rec.reads.size(), 5u);
  socket_reports(2 * piece_msg_size, 0);
  CAF_CHECK_EQUAL(rec.reads, all);
  CAF_CHECK_EQUAL(received(msg_type::piece), all);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(requests that arrive together are read from the disk in batches of 16) {
  cfg.max_queued_requests = 100;
  start_and_handshake();
  torrent_says(unchoke_atom_v);
  std::vector<block_ref> all; // 20 requests, some asked twice (allowed)
  for (std::uint32_t p = 0; all.size() < 20; p = (p + 1) % 3) // the pieces we have
    for (std::uint32_t off = 0; off < piece_len && all.size() < 20; off += blk)
      all.push_back({p, off, blk});
  bytes chunk;
  for (auto& r : all)
    wire::append_request(chunk, r.piece, r.offset, r.length);
  remote_sends(chunk);
  CAF_CHECK_EQUAL(rec.reads, all);
  CAF_CHECK_EQUAL(rec.read_messages, 2u); // 16 + 4
  CAF_CHECK_EQUAL(received(msg_type::piece), all);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(a seed meeting a seed with have all closes the connection) {
  cfg.we_have.assign(num_pieces, true);
  start_and_handshake();
  CAF_CHECK_EQUAL(count(msg_type::have_all), 1u);
  remote_sends_msg([](bytes& m) { wire::append_have_all(m); });
  CAF_CHECK(closed_with("both are seeds"));
  CAF_CHECK(rec.bitfields.empty());
}

CAF_TEST(a seed meeting a seed with a full bitfield closes the connection) {
  cfg.we_have.assign(num_pieces, true);
  start_and_handshake(false);
  CAF_CHECK_EQUAL(count(msg_type::bitfield), 1u);
  remote_sends_msg([](bytes& m) { wire::append_bitfield(m, bytes{0xf0}); });
  CAF_CHECK(closed_with("both are seeds"));
}

CAF_TEST(our last piece closes the connection to a remote seed) {
  start_and_handshake();
  remote_sends_msg([](bytes& m) { wire::append_have_all(m); });
  CAF_CHECK_EQUAL(count(msg_type::interested), 1u);
  CAF_CHECK(rec.drops.empty());
  anon_send(peer, local_have_atom_v, num_pieces - 1);
  drain();
  CAF_CHECK(closed_with("both are seeds"));
  CAF_CHECK_EQUAL(count(msg_type::have), 0u); // a seed needs no haves
}

CAF_TEST(our new piece is announced to a remote that is no seed) {
  start_and_handshake();
  remote_sends_msg([](bytes& m) { wire::append_have(m, 1); });
  anon_send(peer, local_have_atom_v, num_pieces - 1);
  drain();
  CAF_CHECK_EQUAL(received(msg_type::have), (blocks{block_ref{num_pieces - 1, 0, 0}}));
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()

// ---- rate limits: the token buckets, driven by the test clock ----------------

using namespace std::chrono_literals;

namespace {

struct rate_fixture : upload_fixture {
  // Moves the test clock (firing the timers due: pumps, refills, ticks) and
  // lets everything run.
  // In steps of 10 ms, so each wake-up runs close to its time.
  void advance(std::chrono::milliseconds d) {
    for (auto left = d; left.count() > 0; left -= 10ms) {
      sched.clock().advance_time(std::min(left, std::chrono::milliseconds{10}));
      drain();
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(rate_tests, rate_fixture)

CAF_TEST(the upload share is held: a block read per half second at 32 KiB/s) {
  start_and_handshake();
  anon_send(peer, up_share_atom_v, 32768.0);
  torrent_says(unchoke_atom_v);
  remote_requests({a, b, c, block_ref{1, blk, blk}, block_ref{2, 0, blk}, d});
  CAF_CHECK(rec.reads.empty()); // a new limit starts with an empty bucket
  advance(400ms);
  CAF_CHECK(rec.reads.empty());
  advance(110ms); // 16 KiB of tokens after 500 ms (the wake-up comes 1 ms later)
  CAF_CHECK_EQUAL(rec.reads, (blocks{a}));
  advance(510ms);
  CAF_CHECK_EQUAL(rec.reads, (blocks{a, b}));
  advance(1020ms);
  CAF_CHECK_EQUAL(rec.reads.size(), 4u);
  CAF_CHECK_EQUAL(received(msg_type::piece).size(), 4u);
  // lifting the limit serves the rest at once
  anon_send(peer, up_share_atom_v, 0.0);
  drain();
  CAF_CHECK_EQUAL(rec.reads.size(), 6u);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(the download share is held: a request per half second at 32 KiB/s) {
  start();
  remote_handshake(info_hash, their_id);
  remote_sends_msg([](bytes& m) { wire::append_have_all(m); });
  for (std::uint32_t i = 0; i < 4; ++i)
    rec.picks.push_back({block_ref{i, 0, blk}});
  anon_send(peer, down_share_atom_v, 32768.0);
  drain();
  remote_sends_msg([](bytes& m) { wire::append_unchoke(m); });
  CAF_CHECK_EQUAL(rec.pick_requests, 0); // an empty bucket: nothing requested yet
  CAF_CHECK_EQUAL(count(msg_type::request), 0u);
  advance(400ms);
  CAF_CHECK_EQUAL(count(msg_type::request), 0u);
  advance(110ms);
  CAF_CHECK_EQUAL(count(msg_type::request), 1u);
  advance(510ms);
  CAF_CHECK_EQUAL(count(msg_type::request), 2u);
  // the block that arrives does not buy another request before its time
  bytes block(blk, 0x11);
  remote_sends_msg([&](bytes& m) { wire::append_piece(m, 0, 0, block); });
  CAF_CHECK_EQUAL(rec.blocks.size(), 1u);
  CAF_CHECK_EQUAL(count(msg_type::request), 2u);
  advance(510ms);
  CAF_CHECK_EQUAL(count(msg_type::request), 3u);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(the status names both states and the limits) {
  start_and_handshake();
  anon_send(peer, down_share_atom_v, 1000.0);
  torrent_says(unchoke_atom_v);
  actor_status st;
  auto answer = self->request(peer, infinite, status_atom_v);
  drain();
  std::move(answer).receive([&](actor_status& x) { st = std::move(x); }, [](error&) { CAF_FAIL("no status"); });
  CAF_CHECK_EQUAL(st.name, "peer-connection");
  CAF_CHECK_EQUAL(st.state, "choked/serving");
  CAF_CHECK_EQUAL(st.values["down_limit"], std::to_string(1000.0));
}

CAF_TEST_FIXTURE_SCOPE_END()
