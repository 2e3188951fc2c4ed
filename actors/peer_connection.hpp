// The peer connection actor: one CAF broker per TCP connection to a peer.
//
// Bytes are read in chunks of up to 64 KiB and decoded in place by the wire
// codec (many messages per chunk). Each decoded message becomes a typed CAF
// message ("w..." atoms) handled by the behavior of the current protocol state
// of one of two state machines, each a set of explicit behaviors:
//
//   download (peer_download.*):  handshaking -> choked <-> downloading
//   upload   (peer_upload.*):    choking <-> serving
//
// Interest, requests and cancels from the remote, and the choker's decisions
// (choke_atom / unchoke_atom from the torrent), go to the upload machine; the
// rest of the wire goes to the download machine. What a state does not expect
// closes the connection with a reason.
//
// The state's behavior is invoked directly on each message, in order, within
// the handler of the socket data: routing every wire message through the
// broker's mailbox again would let them queue up behind new socket reads on
// the middleman thread (measured: 380 MB of queued blocks on a 1 GiB download).
//
// The broker is a `caf::io::typed_broker` (peer_impl_actor in
// messages/interfaces.hpp): CAF 0.17's typed brokers can be spawned on a
// socket (spawn_broker + add_tcp_scribe) and forked from the listener, so the
// torrent, the picker and the tests hold `peer_actor` handles and every send
// to a peer is checked against its interface at compile time.
//
// Time comes from the actor clock (`self->clock()`), so tests drive the
// timeouts and the rate limits' token buckets with CAF's test clock.
#pragma once

#include "actors/peer_download.hpp"
#include "actors/peer_upload.hpp"
#include "actors/wire_fault_hooks.hpp"
#include "logic/engine_metrics.hpp"
#include "messages/interfaces.hpp"
#include "protocol/bitfield.hpp"
#include "protocol/wire.hpp"

#include <caf/actor_clock.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace actorrent {

struct peer_state {
  peer_config cfg;
  caf::io::connection_handle hdl;
  wire::decoder decoder{wire::decoder::mode::handshake};
  bool fast = false;                   ///< both sides support BEP 6
  bitfield we_have;
  bool wire_started = false;           ///< our handshake sent, preread bytes parsed
  bool parsing = false;                ///< inside the parse of a chunk from the socket
  bool closing = false;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_received;
  std::chrono::steady_clock::time_point last_sent;
  download_state down;
  upload_state up;
  std::unique_ptr<wire_fault_conn> faults; ///< null unless the wire-fault layer is on (lab)
  // the daemon's protocol-byte counters (cfg.metrics): bytes read, piece
  // payload among them, and non-payload bytes sent (messages, block headers)
  std::uint64_t wire_in = 0;
  std::uint64_t piece_in = 0;
  std::uint64_t proto_out = 0;
  logic::counter_share proto_in_share, proto_out_share;

  static inline const char* name = "peer-connection";
};

/// The broker behavior for an established connection `hdl` (outgoing, or with
/// cfg.incoming when the listener forks an accepted connection into it).
peer_impl_actor::behavior_type peer_connection(peer_broker* self, caf::io::connection_handle hdl,
                                               peer_config cfg);

/// Spawns a peer connection broker on an already connected socket `fd`.
peer_actor spawn_peer_connection(caf::actor_system& sys, int fd, peer_config cfg);

// ---- shared by the two halves (actors/peer_*.cpp only) -----------------------

namespace peer_wire {

constexpr std::uint32_t block_size = 16 * 1024;

inline std::chrono::steady_clock::time_point now(peer_broker* self) {
  return self->clock().now();
}

/// Appends one encoded wire message to the broker's write buffer (flushed by
/// the caller, or at the end of the chunk being parsed).
template <class F>
void send(peer_broker* self, F&& encode) {
  auto& st = self->state;
  thread_local std::vector<std::uint8_t> scratch;
  scratch.clear();
  encode(scratch);
  st.proto_out += scratch.size();
  auto& out = self->wr_buf(st.hdl);
  out.insert(out.end(), scratch.begin(), scratch.end());
  st.up.caf_busy = true; // no direct write of blocks before CAF has written this
  st.last_sent = now(self);
}

/// Closes the connection once, telling the torrent why and the picker that
/// our blocks are free again.
void close(peer_broker* self, const std::string& reason);

/// Both sides have every piece: closes the connection (returns true).
bool seed_to_seed(peer_broker* self);

/// A block within the torrent and its piece, no longer than max_block_length.
bool valid_block(const peer_state& st, const block_ref& b);

std::string describe(const block_ref& b);

} // namespace peer_wire

} // namespace actorrent
