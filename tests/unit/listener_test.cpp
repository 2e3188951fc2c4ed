// The listener broker on CAF's test multiplexer: incoming connections routed
// by the info-hash of their handshake, refused, or forked into a peer
// connection broker that the torrent (a stub) adopts.
#define CAF_SUITE listener
#include "actor_stubs.hpp"

#include "actors/listener.hpp"

using namespace actorrent;
using namespace caf;

namespace {

using broker_test::bytes;
using broker_test::filled;

constexpr std::uint16_t port = 6881;
constexpr std::uint16_t remote_port = 51413;

// A scribe on the test multiplexer's buffers for `hdl`, like the ones its
// doorman creates, except that it reports a real remote address: those report
// "test", which is no IP address, and the listener refuses a peer it cannot
// name by address (bans and duplicates go by address).
class loopback_scribe : public io::scribe {
public:
  loopback_scribe(io::connection_handle hdl, io::network::test_multiplexer* mpx) : io::scribe(hdl), mpx_(mpx) {}
  void configure_read(io::receive_policy::config cfg) override { mpx_->read_config(hdl()) = cfg; }
  void ack_writes(bool on) override { mpx_->ack_writes(hdl()) = on; }
  std::vector<char>& wr_buf() override { return mpx_->output_buffer(hdl()); }
  std::vector<char>& rd_buf() override { return mpx_->input_buffer(hdl()); }
  void graceful_shutdown() override {
    mpx_->stopped_reading(hdl()) = true;
    detach(mpx_, false);
  }
  void flush() override {}
  std::string addr() const override { return "127.0.0.1"; }
  std::uint16_t port() const override { return remote_port; }
  void add_to_loop() override { mpx_->passive_mode(hdl()) = false; }
  void remove_from_loop() override { mpx_->passive_mode(hdl()) = true; }

private:
  io::network::test_multiplexer* mpx_;
};

struct fixture : broker_test::broker_fixture {
  io::accept_handle acceptor = io::accept_handle::from_int(1);
  peer_config tmpl;
  torrent_actor torrent;
  listener_impl_actor lst;
  std::vector<io::connection_handle> conns;

  fixture() {
    tmpl.info_hash = info_hash;
    tmpl.our_peer_id = our_id;
    tmpl.num_pieces = 4;
    tmpl.piece_length = 32 * 1024;
    tmpl.total_size = 4 * 32 * 1024;
    broker_test::spawn_stubs(sys, rec, tmpl);
    torrent = tmpl.torrent;
    rec.incoming_have = {true, false, false, false};
    rec.incoming_tmpl = tmpl;
    mpx.provide_acceptor(port, acceptor);
    listener_config cfg;
    cfg.port = port;
    lst = mm.spawn_broker(listener, cfg);
    drain();
    anon_send(lst, attach_atom_v, info_hash, torrent);
    drain();
  }

  ~fixture() {
    for (auto& [idx, peer] : rec.adopted)
      anon_send_exit(peer, exit_reason::user_shutdown);
    anon_send_exit(lst, exit_reason::user_shutdown);
    drain();
    // the test multiplexer keeps the servants, and they their brokers
    for (auto h : conns)
      mpx.impl_ptr(h).reset();
    mpx.impl_ptr(acceptor).reset();
    rec.adopted.clear();
    lst = nullptr;
    drain();
  }

  // A remote peer connects: its scribe goes to the listener, as the doorman
  // would hand it over, followed by the doorman's new_connection_msg.
  io::connection_handle connect() {
    auto hdl = io::connection_handle::from_int(100 + static_cast<std::int64_t>(conns.size()));
    conns.push_back(hdl);
    auto sptr = make_counted<loopback_scribe>(hdl, &mpx);
    mpx.impl_ptr(hdl) = sptr;
    static_cast<io::abstract_broker*>(actor_cast<abstract_actor*>(lst))->add_scribe(sptr);
    anon_send(lst, io::new_connection_msg{acceptor, hdl});
    drain();
    return hdl;
  }

  bool closed(io::connection_handle hdl) { return mpx.stopped_reading(hdl); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(listener_tests, fixture)

CAF_TEST(the own doorman of the test multiplexer hands connections to the listener) {
  // they report the address "test": refused once the info-hash is in, as a
  // peer without an address would be
  auto hdl = io::connection_handle::from_int(1);
  mpx.add_pending_connect(acceptor, hdl);
  mpx.accept_connection(acceptor);
  drain();
  conns.push_back(hdl);
  CAF_CHECK(!closed(hdl));
  remote_sends(hdl, handshake_bytes(info_hash, their_id));
  CAF_CHECK(closed(hdl));
  CAF_CHECK(rec.incoming.empty());
}

CAF_TEST(an unknown info-hash is closed) {
  auto hdl = connect();
  remote_sends(hdl, handshake_bytes(filled(0xCD), their_id));
  CAF_CHECK(closed(hdl));
  CAF_CHECK(rec.incoming.empty());
}

CAF_TEST(bytes that are not a BitTorrent handshake are closed at once) {
  auto http = connect();
  std::string get = "GET /announce HTTP/1.1\r\n";
  remote_sends(http, bytes(get.begin(), get.end()));
  CAF_CHECK(closed(http));
  // the right length byte, another protocol name
  auto other = connect();
  auto hs = handshake_bytes(info_hash, their_id);
  hs[1] = 'b';
  remote_sends(other, hs);
  CAF_CHECK(closed(other));
  CAF_CHECK(rec.incoming.empty());
}

CAF_TEST(a connection for an attached torrent is forked into a peer broker) {
  auto hdl = connect();
  auto hs = handshake_bytes(info_hash, their_id);
  // 47 bytes: the info-hash is not complete yet
  remote_sends(hdl, bytes(hs.begin(), hs.begin() + 47));
  CAF_CHECK(rec.incoming.empty());
  remote_sends(hdl, bytes(hs.begin() + 47, hs.end()));
  CAF_REQUIRE_EQUAL(rec.incoming.size(), 1u);
  CAF_CHECK_EQUAL(rec.incoming[0], peer_endpoint::v4(127, 0, 0, 1, remote_port));
  CAF_REQUIRE_EQUAL(rec.adopted.size(), 1u);
  CAF_CHECK_EQUAL(rec.adopted[0].first, rec.incoming_index);
  CAF_CHECK(rec.adopted[0].second.address() != lst.address());
  CAF_CHECK(!closed(hdl));
  // the new broker answers with our handshake and our pieces
  auto& out = read_output(hdl);
  CAF_REQUIRE(out.handshake);
  CAF_CHECK_EQUAL(out.handshake->info_hash, info_hash);
  CAF_CHECK_EQUAL(out.handshake->peer_id, our_id);
  CAF_REQUIRE_EQUAL(out.written.size(), 1u);
  CAF_CHECK_EQUAL(out.written[0].type, wire::msg_type::bitfield);
  CAF_CHECK_EQUAL(out.payloads[0], bytes{0x80});
  // it parsed the bytes the listener read: the remote's handshake is done
  CAF_CHECK_EQUAL(rec.connected, std::vector<sha1_hash>{their_id});
  // and it reads the socket now
  remote_sends(hdl, [] {
    bytes b;
    wire::append_interested(b);
    return b;
  }());
  CAF_CHECK_EQUAL(rec.interest, std::vector<bool>{true});
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(the remote may hold back its peer id until it sees ours) {
  auto hdl = connect();
  auto hs = handshake_bytes(info_hash, their_id);
  remote_sends(hdl, bytes(hs.begin(), hs.begin() + 48));
  CAF_REQUIRE_EQUAL(rec.adopted.size(), 1u);
  CAF_CHECK(read_output(hdl).handshake);
  CAF_CHECK(rec.connected.empty());
  remote_sends(hdl, bytes(hs.begin() + 48, hs.end()));
  CAF_CHECK_EQUAL(rec.connected, std::vector<sha1_hash>{their_id});
}

CAF_TEST(a torrent that refuses the peer gets the connection closed) {
  rec.refuse_incoming = true;
  auto hdl = connect();
  remote_sends(hdl, handshake_bytes(info_hash, their_id));
  CAF_CHECK_EQUAL(rec.incoming.size(), 1u);
  CAF_CHECK(closed(hdl));
  CAF_CHECK(rec.adopted.empty());
  CAF_CHECK(mpx.output_buffer(hdl).empty()); // no handshake of ours
}

CAF_TEST(the status counts what was handed over and what was refused) {
  auto good = connect();
  remote_sends(good, handshake_bytes(info_hash, their_id));
  auto bad = connect();
  remote_sends(bad, bytes(68, 'x'));
  CAF_CHECK(closed(bad));
  auto answer = self->request(lst, infinite, status_atom_v);
  drain();
  actor_status st;
  std::move(answer).receive([&](actor_status& x) { st = std::move(x); }, [](error&) { CAF_FAIL("no status"); });
  CAF_CHECK_EQUAL(st.name, "listener");
  CAF_CHECK_EQUAL(st.state, "listening");
  CAF_CHECK_EQUAL(st.values["accepted"], "1");
  CAF_CHECK_EQUAL(st.values["refused"], "1");
  CAF_CHECK_EQUAL(st.values["torrents"], "1");
}

CAF_TEST(a detached torrent gets no more connections) {
  anon_send(lst, detach_atom_v, info_hash);
  drain();
  auto hdl = connect();
  remote_sends(hdl, handshake_bytes(info_hash, their_id));
  CAF_CHECK(closed(hdl));
  CAF_CHECK(rec.incoming.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
