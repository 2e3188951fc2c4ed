// The peer connection actor: one CAF broker per TCP connection to a peer.
//
// Bytes are read in chunks of up to 64 KiB and decoded in place by the wire
// codec (many messages per chunk). Each decoded message becomes a typed CAF
// message ("w..." atoms) and is handled by the behavior of the current
// protocol state. Two state machines run side by side, each a set of explicit
// behaviors switched like `become`:
//
//   download:  handshaking --handshake--> choked --unchoke--> downloading
//                                           ^------choke-------'
//   upload:    choking --our unchoke--> serving --our choke--> choking
//
// Interest, requests and cancels from the remote, and the choker's decisions
// (choke_atom / unchoke_atom from the torrent), go to the upload state; the
// rest of the wire goes to the download state. What a state does not expect
// closes the connection with a reason.
//
// The state's behavior is invoked directly on each message, in order, within
// the handler of the socket data: routing every wire message through the
// broker's mailbox again would let them queue up behind new socket reads on
// the middleman thread (measured: 380 MB of queued blocks on a 1 GiB download).
//
// Uploads: requests are checked (index, offset, length <= 16 KiB by default,
// a piece we have, a bound on queued requests: over it the peer is dropped),
// read from the disk store in order and written to the socket. Reads are only
// issued while the bytes waiting in the socket's buffer plus the reads in
// flight stay under `send_buffer_limit` (CAF reports written bytes with
// ack_writes), so a peer that reads slowly or not at all cannot make us buffer
// without bound; one that has not taken a byte for `send_timeout` is dropped.
#pragma once

#include "messages/interfaces.hpp"
#include "protocol/bitfield.hpp"
#include "protocol/wire.hpp"

#include <caf/behavior.hpp>
#include <caf/io/broker.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
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
  disk_actor disk;                     ///< uploads read blocks from it
  std::uint32_t initial_queue_depth = 128;  ///< 2 MiB in flight before any rate is known
  std::uint32_t max_queue_depth = 400;      ///< 6.25 MiB in flight per peer
  std::chrono::seconds request_timeout{20};
  std::chrono::seconds keep_alive_interval{90};
  std::chrono::seconds idle_timeout{180};
  std::chrono::seconds handshake_timeout{15};
  std::uint32_t max_block_length = 128 * 1024;   ///< longest block we accept from a peer
  // upload
  std::uint32_t max_request_length = 16 * 1024;  ///< longer requests close the connection
  std::uint32_t max_queued_requests = 2000;      ///< more unserved requests close it (libtorrent allows 2000)
  std::size_t send_buffer_limit = 2 * 1024 * 1024; ///< socket backlog + reads in flight
  std::chrono::seconds send_timeout{60};         ///< backlog not shrinking this long: drop
  // incoming connections: the listener read these bytes (at least the start of
  // the remote handshake) before handing the socket over
  bool incoming = false;
  std::vector<std::uint8_t> preread;
  /// Reset the socket on close instead of draining what is queued (see
  /// abort_socket); off for handles that are not real sockets (tests).
  bool abortive_close = false;
  // Tunables from logic::settings. TODO(coordinator): peer_connection.cpp still
  // uses its constants read_chunk, max_read_batch and max_recently_cancelled.
  std::size_t read_size = 64 * 1024;       ///< bytes read from the socket at once
  std::size_t read_batch = 16;             ///< blocks read from the disk per request
  std::size_t cancelled_memory = 4096;     ///< cancelled requests remembered
};

} // namespace actorrent

// Only ever sent between actors of one process (the torrent hands it to the
// listener): never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::peer_config)

namespace actorrent {

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
  bool wire_started = false;           ///< our handshake sent, preread bytes parsed
  caf::behavior wire_state;                  ///< the current download state
  std::optional<caf::behavior> next_state;   ///< set by a state handler, applied after it
  const char* state_name = "handshaking";
  // upload side
  struct upload_read {
    std::uint64_t seq = 0;
    block_ref block;
    std::optional<block_view> data;          ///< set when the disk answered
    bool cancelled = false;
  };
  caf::behavior upload_state;                ///< choking or serving
  std::optional<caf::behavior> next_upload_state;
  const char* upload_state_name = "choking";
  bool am_choking = true;
  std::deque<block_ref> upload_queue;        ///< requests not read yet, in order
  std::deque<upload_read> upload_reads;      ///< reads in flight or ready, in order
  std::uint64_t next_read_seq = 0;
  std::size_t read_bytes = 0;                ///< bytes of reads in flight
  bool parsing = false;                      ///< inside the parse of a chunk from the socket
  bool pump_after_parse = false;             ///< requests came in it: read them when it is parsed
  std::size_t out_queued = 0;                ///< bytes handed to the socket, not yet written
  std::uint32_t ignored_requests = 0;        ///< requests while choked, since the last unchoke
  double upload_rate_limit = 0;              ///< bytes/s, 0: unlimited (set by the torrent)
  double upload_tokens = 0;                  ///< token bucket of the limit
  std::chrono::steady_clock::time_point tokens_refilled;
  bool pump_scheduled = false;               ///< a delayed pump_atom is on its way
  std::uint64_t up_bytes_this_tick = 0;
  double up_rate = 0;
  std::chrono::steady_clock::time_point last_write_progress;

  static inline const char* name = "peer-connection";
};

using peer_broker = caf::io::stateful_broker<peer_state>;

/// The broker behavior for an established connection `hdl`.
caf::behavior peer_connection(peer_broker* self, caf::io::connection_handle hdl, peer_config cfg);

/// Spawns a peer connection broker on an already connected socket `fd`.
caf::actor spawn_peer_connection(caf::actor_system& sys, int fd, peer_config cfg);

/// Moves the connection `hdl` of broker `owner` (the listener) into a new peer
/// connection broker (cfg.incoming and cfg.preread set by the caller).
caf::actor fork_peer_connection(caf::io::broker* owner, caf::io::connection_handle hdl, peer_config cfg);

} // namespace actorrent
