// The wire-fault layer inside the peer connection broker (actors/wire_fault_hooks.*),
// against a scripted remote peer on CAF's test multiplexer: what a misbehaving
// connection writes, and what it counts.
#define CAF_SUITE wire_fault_hooks
#include "actor_stubs.hpp"

#include "logic/wire_faults.hpp"

using namespace actorrent;
using namespace caf;
using logic::wire_behavior;

namespace {

using broker_test::bytes;
using wire::msg_type;

constexpr std::uint32_t num_pieces = 4;
constexpr std::uint32_t piece_len = 32 * 1024;
constexpr std::uint32_t blk = 16 * 1024;

struct fixture : broker_test::broker_fixture {
  io::connection_handle hdl = io::connection_handle::from_int(1);
  peer_config cfg;
  peer_impl_actor peer;
  std::shared_ptr<logic::wire_fault_counters> counters = std::make_shared<logic::wire_fault_counters>();

  fixture() {
    cfg.index = 7;
    cfg.info_hash = info_hash;
    cfg.our_peer_id = our_id;
    cfg.num_pieces = num_pieces;
    cfg.piece_length = piece_len;
    cfg.total_size = std::uint64_t{num_pieces} * piece_len;
    cfg.we_have = {true, true, true, false};
    broker_test::spawn_stubs(sys, rec, cfg);
  }

  wire_faults_ptr faults(const std::string& spec) {
    auto s = logic::parse_wire_fault_spec(spec);
    CAF_REQUIRE(s);
    return std::make_shared<const logic::wire_faults>(*s, counters);
  }

  void start(const std::string& spec, bool handshake = true) {
    if (!spec.empty())
      cfg.wire_faults = faults(spec);
    mpx.provide_scribe("remote", 6881, hdl);
    auto res = mm.spawn_client(peer_connection, "remote", std::uint16_t{6881}, cfg);
    CAF_REQUIRE(res);
    peer = *res;
    drain();
    if (handshake)
      remote_sends(hdl, handshake_bytes(info_hash, their_id));
  }

  ~fixture() {
    if (peer)
      anon_send_exit(peer, exit_reason::user_shutdown);
    drain();
    mpx.impl_ptr(hdl).reset();
    peer = nullptr;
    broker_test::exit_stubs(cfg);
    drain();
  }

  template <class... Ts>
  void tell(Ts&&... xs) {
    anon_send(peer, std::forward<Ts>(xs)...);
    drain();
  }

  void remote_requests(std::initializer_list<block_ref> blocks) {
    bytes b;
    for (auto& r : blocks)
      wire::append_request(b, r.piece, r.offset, r.length);
    remote_sends(hdl, b);
  }

  std::vector<std::size_t> of_type(msg_type t) {
    auto& v = read_output(hdl);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < v.written.size(); ++i)
      if (v.written[i].type == t)
        out.push_back(i);
    return out;
  }

  const broker_test::remote_view& view() { return read_output(hdl); }
};

const block_ref a{0, 0, blk};
const block_ref b{0, blk, blk};
const block_ref c{3, 0, blk};

} // namespace

CAF_TEST_FIXTURE_SCOPE(wire_fault_hook_tests, fixture)

CAF_TEST(off: a connection without faults behaves and counts nothing) {
  start("");
  tell(unchoke_atom_v);
  remote_requests({a});
  CAF_CHECK_EQUAL(of_type(msg_type::piece).size(), 1u);
  CAF_CHECK(counters->values().empty());
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST(corrupt_blocks: every served block has flipped bytes and is counted per peer) {
  start("corrupt_blocks=100%,seed=1,peer=liar");
  tell(unchoke_atom_v);
  remote_requests({a, b});
  auto pieces = of_type(msg_type::piece);
  CAF_REQUIRE_EQUAL(pieces.size(), 2u);
  for (auto i : pieces) {
    auto& payload = view().payloads[i];
    CAF_CHECK_EQUAL(payload.size(), blk); // the length stays right
    auto fill = static_cast<std::uint8_t>(broker_test::block_fill(a));
    CAF_CHECK(!std::all_of(payload.begin(), payload.end(), [fill](auto x) { return x == fill; }));
  }
  CAF_CHECK_EQUAL(counters->get(wire_behavior::corrupt_blocks), 2u);
  auto by_peer = counters->corrupted_by_peer(); // named: CAF_CHECK_EQUAL keeps a reference
  CAF_CHECK_EQUAL(by_peer.at(7), 2u);
}

CAF_TEST(snub and free_ride: requests are never answered and never closed) {
  start("snub");
  tell(unchoke_atom_v);
  CAF_CHECK_EQUAL(of_type(msg_type::unchoke).size(), 1u);
  remote_requests({a, b});
  CAF_CHECK(of_type(msg_type::piece).empty());
  CAF_CHECK(rec.reads.empty());
  CAF_CHECK(rec.drops.empty());
  CAF_CHECK_EQUAL(counters->get(wire_behavior::snub), 2u);
}

CAF_TEST(free_ride: the unchoke of the choker is withheld) {
  start("free_ride");
  tell(unchoke_atom_v);
  CAF_CHECK(of_type(msg_type::unchoke).empty());
  CAF_CHECK_EQUAL(counters->get(wire_behavior::free_ride), 1u);
}

CAF_TEST(claim_unserved: pieces we lack are claimed and their requests swallowed) {
  start("claim_unserved=100%");
  // we have 0-2; claiming the rest too makes it have all
  CAF_CHECK_EQUAL(of_type(msg_type::have_all).size(), 1u);
  tell(unchoke_atom_v);
  remote_requests({c});
  CAF_CHECK(rec.drops.empty()); // not "a piece we do not have"
  CAF_CHECK(of_type(msg_type::piece).empty());
  CAF_CHECK_EQUAL(counters->get(wire_behavior::claim_unserved), 1u);
}

CAF_TEST(one-off lies after the handshake: bitfield length have request piece flood unknown ids) {
  start("bad_bitfield_length,have_out_of_range,requests_out_of_range,unrequested_pieces,request_flood,unknown_messages");
  auto& v = view();
  auto bf = of_type(msg_type::bitfield);
  CAF_REQUIRE_EQUAL(bf.size(), 1u);
  CAF_CHECK_EQUAL(v.payloads[bf[0]].size(), 2u); // 4 pieces need 1 byte
  auto haves = of_type(msg_type::have);
  CAF_REQUIRE_EQUAL(haves.size(), 1u);
  CAF_CHECK_EQUAL(v.written[haves[0]].index, num_pieces + 7);
  auto reqs = of_type(msg_type::request);
  CAF_CHECK_EQUAL(reqs.size(), 1u + 2 * cfg.max_queued_requests); // out of range + the flood
  CAF_CHECK_EQUAL(v.written[reqs[0]].index, num_pieces + 3);
  CAF_CHECK_EQUAL(of_type(msg_type::piece).size(), 1u);
  CAF_CHECK_EQUAL(of_type(msg_type::unknown).size(), 3u);
  CAF_CHECK_EQUAL(counters->get(wire_behavior::request_flood), 2u * cfg.max_queued_requests);
  CAF_CHECK_EQUAL(counters->get(wire_behavior::unknown_messages), 3u);
}

CAF_TEST(wrong_info_hash: our handshake names another torrent) {
  start("wrong_info_hash", false);
  auto& hs = view().handshake;
  CAF_REQUIRE(hs);
  CAF_CHECK_NOT_EQUAL(hs->info_hash, info_hash);
  CAF_CHECK_EQUAL(counters->get(wire_behavior::wrong_info_hash), 1u);
}

CAF_TEST(truncated_handshake: half a handshake then nothing whatever the remote says) {
  start("truncated_handshake", false);
  CAF_CHECK_EQUAL(mpx.output_buffer(hdl).size(), 24u);
  remote_sends(hdl, handshake_bytes(info_hash, their_id));
  CAF_CHECK_EQUAL(mpx.output_buffer(hdl).size(), 24u);
  CAF_CHECK(rec.connected.empty());
}

CAF_TEST(turned on at run time for an established connection and off again) {
  start("");
  tell(wire_fault_atom_v, faults("have_out_of_range,snub"));
  auto haves = of_type(msg_type::have);
  CAF_REQUIRE_EQUAL(haves.size(), 1u);
  CAF_CHECK_EQUAL(view().written[haves[0]].index, num_pieces + 7);
  tell(unchoke_atom_v);
  remote_requests({a});
  CAF_CHECK(of_type(msg_type::piece).empty());
  tell(wire_fault_atom_v, wire_faults_ptr{});
  remote_requests({b});
  CAF_CHECK_EQUAL(of_type(msg_type::piece).size(), 1u);
  CAF_CHECK(rec.drops.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
