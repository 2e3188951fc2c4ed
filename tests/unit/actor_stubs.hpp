// What the tests of the brokers (peer connection, listener) share: stub
// torrent, picker and disk actors that record what they were told in one
// `recorder`, and a fixture on CAF's test multiplexer that plays remote peers
// (sends their bytes, decodes what the broker wrote to them).
// Include it after defining CAF_SUITE.
#pragma once

#include <caf/test/io_dsl.hpp>

#include "actors/peer_connection.hpp"
#include "messages/interfaces.hpp"
#include "protocol/wire.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <map>
#include <optional>
#include <span>

#include <deque>
#include <string>
#include <vector>

namespace actorrent::broker_test {

// What the stubs saw, and how the torrent stub answers the listener.
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
  std::size_t read_messages = 0;        // in how many read requests
  // listener: incoming_atom questions, and the answer the torrent stub gives
  std::vector<peer_endpoint> incoming;
  bool refuse_incoming = false;
  peer_index incoming_index = 5;
  std::vector<bool> incoming_have;
  peer_config incoming_tmpl;            // the rest of the config answered
  std::vector<std::pair<peer_index, peer_actor>> adopted;
};

inline torrent_actor::behavior_type torrent_stub(torrent_actor::pointer, recorder* rec) {
  return {
    [](progress_atom) { return torrent_status{}; },
    [](peers_atom, const announce_reply&) {},
    [](failed_atom, const std::string&, const std::string&) {},
    [](verdict_atom, const piece_verdict&, const std::vector<peer_index>&) {},
    [](stats_atom, const peer_report&) {},
    [rec](connected_atom, peer_index, const sha1_hash& id) { rec->connected.push_back(id); },
    [](dialed_atom, peer_index, int) {},
    [](peer_failed_atom, peer_index, const std::string&) {},
    [rec](drop_atom, peer_index, const std::string& reason) { rec->drops.push_back(reason); },
    [](tick_atom) {},
    [rec](incoming_atom, const peer_endpoint& ep) -> caf::result<peer_config> {
      rec->incoming.push_back(ep);
      if (rec->refuse_incoming)
        return caf::make_error(caf::sec::request_receiver_down, "peer limit reached");
      auto pc = rec->incoming_tmpl;
      pc.index = rec->incoming_index;
      pc.we_have = rec->incoming_have;
      return pc;
    },
    [rec](adopt_atom, peer_index idx, const peer_actor& hdl) { rec->adopted.emplace_back(idx, hdl); },
    [rec](interest_atom, peer_index, bool on) { rec->interest.push_back(on); },
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

inline picker_actor::behavior_type picker_stub(picker_actor::pointer, recorder* rec) {
  return {
    [](caf::join_atom, peer_index, const peer_actor&) {},
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
    [](unpin_atom, std::uint32_t, peer_index) {},
    [](progress_atom) { return std::make_tuple(std::uint64_t{0}, std::uint32_t{0}); },
    [](status_atom) { return actor_status{"picker-stub", "", {}}; },
  };
}

// The byte a disk stub block is filled with: the low byte of piece + offset / 16 KiB.
inline char block_fill(const block_ref& b) {
  return static_cast<char>(b.piece + b.offset / 16384);
}

// (takes an argument: CAF 0.17 dereferences a null tuple pointer when a
// function-based actor is spawned without any, which UBSan reports)
inline disk_actor::behavior_type disk_stub(disk_actor::pointer, recorder* rec) {
  return {
    [](block_atom, const block_data&) {},
    [](hash_atom, std::uint32_t piece, bool) { return piece_verdict{piece, true, {}}; },
    [](hash_atom, std::uint64_t) {},
    [](check_atom) { return std::vector<bool>{}; },
    [](flush_atom) { return true; },
    [](status_atom) { return actor_status{"disk-stub", "", {}}; },
    [rec](read_atom, const std::vector<block_ref>& bs) {
      ++rec->read_messages;
      std::vector<block_view> out;
      for (const auto& b : bs) {
        rec->reads.push_back(b);
        out.push_back(block_view{std::make_shared<const std::vector<char>>(b.length, block_fill(b)), 0, b.length, nullptr, nullptr});
      }
      return out;
    },
    [](resume_atom, const std::vector<bool>&, const transfer_totals&, bool) { return true; },
  };
}

inline sha1_hash filled(std::uint8_t v) {
  sha1_hash h;
  h.bytes.fill(v);
  return h;
}

// Spawns the three stubs into a peer_config (the torrent's part of it).
template <class System>
void spawn_stubs(System& sys, recorder& rec, peer_config& cfg) {
  cfg.torrent = sys.spawn(torrent_stub, &rec);
  cfg.picker = sys.spawn(picker_stub, &rec);
  cfg.disk = sys.spawn(disk_stub, &rec);
}

// Stops the stubs of `cfg` (a broker that is never released holds them).
inline void exit_stubs(const peer_config& cfg) {
  caf::anon_send_exit(cfg.torrent, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(cfg.picker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(cfg.disk, caf::exit_reason::user_shutdown);
}

using bytes = std::vector<std::uint8_t>;

// What one remote peer received from us, decoded.
struct remote_view {
  wire::decoder decoder{wire::decoder::mode::handshake};
  std::optional<wire::handshake> handshake; // ours, once complete
  std::vector<wire::message> written;
  std::vector<bytes> payloads;             // of `written`, copied
};

struct broker_fixture : test_node_fixture<> {
  recorder rec;
  sha1_hash info_hash = filled(0xAB);
  sha1_hash our_id = filled(0x01);
  sha1_hash their_id = filled(0x02);
  std::map<caf::io::connection_handle, remote_view> remotes;

  // Runs messages, socket reads and broker runnables until nothing is left
  // (timers do not fire: every broker has a periodic tick).
  void drain() {
    for (int i = 0; i < 10000; ++i)
      if (!sched.try_run_once() && !mpx.try_exec_runnable() && !mpx.try_read_data())
        return;
  }

  // Sends raw bytes as the remote peer on `hdl` and lets everything run.
  void remote_sends(caf::io::connection_handle hdl, const bytes& b) {
    mpx.virtual_send(hdl, std::vector<char>(b.begin(), b.end()));
    drain();
  }

  static bytes handshake_bytes(const sha1_hash& ih, const sha1_hash& id, bool fast = true) {
    wire::handshake hs;
    hs.info_hash = ih;
    hs.peer_id = id;
    hs.set_fast(fast);
    bytes b;
    wire::append_handshake(hs, b);
    return b;
  }

  // Decodes what the broker wrote to `hdl` since the last call.
  remote_view& read_output(caf::io::connection_handle hdl) {
    auto& v = remotes[hdl];
    auto& buf = mpx.output_buffer(hdl);
    auto span = std::span<const std::uint8_t>{reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()};
    auto st = v.decoder.parse(
      span,
      [&](const wire::handshake& hs, wire::handshake_stage stage) {
        if (stage == wire::handshake_stage::complete)
          v.handshake = hs;
      },
      [&](const wire::message& m) {
        v.written.push_back(m);
        v.payloads.emplace_back(m.payload.begin(), m.payload.end());
      });
    CAF_REQUIRE(st.ok());
    buf.clear();
    return v;
  }

  bool closed_with(const std::string& needle) const {
    for (auto& d : rec.drops)
      if (d.find(needle) != std::string::npos)
        return true;
    return false;
  }
};

} // namespace actorrent::broker_test
