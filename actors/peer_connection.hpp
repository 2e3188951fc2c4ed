// The peer connection actor: one CAF broker per TCP connection to a peer.
//
// Bytes are read in chunks of up to 64 KiB and decoded in place by the wire
// codec (many messages per chunk). Each decoded message becomes a typed CAF
// message ("w..." atoms) and is handled by the behavior of the current
// protocol state, so the state machine is a set of explicit behaviors:
//
//   handshaking --handshake--> choked --unchoke--> downloading
//                                 ^------choke-------'
//
// The state's behavior is invoked directly on each message, in order, within
// the handler of the socket data: routing every wire message through the
// broker's mailbox again would let them queue up behind new socket reads on
// the middleman thread (measured: 380 MB of queued blocks on a 1 GiB download).
// The mailbox behavior (socket data, timers, messages from the torrent and the
// picker) is the same in every state. Messages the remote may send in any
// state (have, bitfield, interest, requests, blocks) are handled by a shared
// handler each state falls back to; what a state does not expect closes the
// connection with a reason. Upload (serving
// requests) arrives with the seeding issue; requests are answered with a
// reject when the fast extension is on and otherwise ignored.
#pragma once

#include "messages/interfaces.hpp"
#include "protocol/bitfield.hpp"
#include "protocol/wire.hpp"

#include <caf/behavior.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace actorrent {

struct peer_config {
  peer_index index = 0;
  sha1_hash info_hash;
  sha1_hash our_peer_id;
  std::uint32_t num_pieces = 0;
  std::uint64_t piece_length = 0;
  std::uint64_t total_size = 0;
  std::vector<bool> we_have;           ///< verified pieces when the connection starts
  torrent_actor torrent;
  picker_actor picker;
  disk_actor disk;                     ///< not used yet: uploads (the seeding issue) read blocks from it
  std::uint32_t initial_queue_depth = 128;  ///< 2 MiB in flight before any rate is known
  std::uint32_t max_queue_depth = 400;      ///< 6.25 MiB in flight per peer
  std::chrono::seconds request_timeout{20};
  std::chrono::seconds keep_alive_interval{90};
  std::chrono::seconds idle_timeout{180};
  std::chrono::seconds handshake_timeout{15};
  std::uint32_t max_block_length = 128 * 1024;
};

struct peer_state {
  struct outstanding_request {
    block_ref block;
    std::chrono::steady_clock::time_point sent;
  };

  peer_config cfg;
  caf::io::connection_handle hdl;
  wire::decoder decoder{wire::decoder::mode::handshake};
  sha1_hash remote_id;
  bool fast = false;                   ///< both sides support BEP 6
  bitfield remote_has;
  bitfield we_have;
  bool remote_seed = false;
  bool am_interested = false;
  bool peer_interested = false;
  bool joined_picker = false;
  std::deque<outstanding_request> outstanding;
  std::vector<block_ref> recently_cancelled; ///< blocks that may still arrive
  bool pick_pending = false;
  bool starved = false;                ///< the picker had nothing for us last time
  bool handshake_done = false;
  bool unchoked = false;               ///< mirrors the behavior (choked/downloading)
  std::uint32_t queue_depth = 64;
  std::uint32_t window_blocks = 0;     ///< slow start: blocks since window_start
  std::chrono::steady_clock::time_point window_start;
  // accounting
  std::uint64_t downloaded = 0;
  std::uint64_t uploaded = 0;
  std::uint64_t bytes_this_tick = 0;
  double down_rate = 0;
  bool snubbed = false;
  std::chrono::steady_clock::time_point last_received;
  std::chrono::steady_clock::time_point last_sent;
  std::chrono::steady_clock::time_point last_block;
  std::chrono::steady_clock::time_point started;
  bool closing = false;
  caf::behavior wire_state;                  ///< the current protocol state
  std::optional<caf::behavior> next_state;   ///< set by a state handler, applied after it
  const char* state_name = "handshaking";

  static inline const char* name = "peer-connection";
};

using peer_broker = caf::io::stateful_broker<peer_state>;

/// The broker behavior for an established connection `hdl`.
caf::behavior peer_connection(peer_broker* self, caf::io::connection_handle hdl, peer_config cfg);

/// Spawns a peer connection broker on an already connected socket `fd`.
caf::actor spawn_peer_connection(caf::actor_system& sys, int fd, peer_config cfg);

} // namespace actorrent
