// The upload half of a peer connection: the remote's interest and requests,
// the choker's decisions, reads from the disk and the blocks we write.
//
//   choking --our unchoke--> serving --our choke--> choking
//
// Requests are checked (index, offset, length <= 16 KiB by default, a piece we
// have, a bound on queued requests: over it the peer is dropped), read from
// the disk store in order and written to the socket. Reads are only issued
// while the bytes waiting in the socket's buffer plus the reads in flight stay
// under `send_buffer_limit` (CAF reports written bytes with ack_writes), so a
// peer that reads slowly or not at all cannot make us buffer without bound;
// one that has not taken a byte for `send_timeout` is dropped.
//
// Blocks go out without a copy where possible: when nothing of ours waits in
// CAF's write buffer, the ready blocks (their headers and the bytes of the
// disk store's views, slices of the page cache) are written to the socket in
// one writev on the middleman thread; a block in a file mapping goes out by
// sendfile from its file instead, after its header. What the socket does not take (a block
// cut short, or the first block when it is full) is copied into CAF's buffer,
// whose write-ready events and ack_writes then carry on; the next direct
// write waits until CAF reports it empty again, so the byte order never
// changes. Sockets that are not the default multiplexer's (the tests' test
// multiplexer) always take the copying path.
#pragma once

#include "actors/peer_download.hpp"

#include <caf/behavior.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace actorrent {

enum class upload_phase { choking, serving };
const char* to_string(upload_phase p);

struct upload_state {
  struct read {
    std::uint64_t seq = 0;
    block_ref block;
    std::optional<block_view> data;          ///< set when the disk answered
    bool cancelled = false;
  };

  peer_machine<upload_phase> machine;
  bool peer_interested = false;
  std::deque<block_ref> queue;               ///< requests not read yet, in order
  std::deque<read> reads;                    ///< reads in flight or ready, in order
  std::uint64_t next_read_seq = 0;
  std::size_t read_bytes = 0;                ///< bytes of reads in flight
  bool pump_after_parse = false;             ///< requests came in this chunk: read them after it
  std::size_t out_queued = 0;                ///< bytes handed to the socket, not yet written
  std::chrono::steady_clock::time_point last_write_progress;
  std::uint32_t ignored_requests = 0;        ///< requests while choked, since the last unchoke
  logic::rate_meter meter;                   ///< payload sent
  // the upload limit's share (up_share_atom): tokens are spent on reads
  logic::token_bucket bucket;
  bool pump_scheduled = false;               ///< a delayed pump_atom is on its way
  /// Our socket for direct writes (-1: none, write through CAF's buffer
  /// only; -2: not looked at yet).
  int direct_fd = -2;
  /// Something was put in CAF's write buffer that CAF has not reported written
  /// (set by peer_wire::send and by the copying path; cleared when an
  /// ack_writes report says nothing remains): no direct write meanwhile.
  bool caf_busy = false;
  std::uint64_t direct_bytes = 0;            ///< bytes written by writev directly
  std::uint64_t copied_bytes = 0;            ///< block bytes copied into CAF's buffer

  bool choking() const { return machine.phase == upload_phase::choking; }
};

namespace peer_upload {

/// The first state: we choke the remote.
caf::behavior choking(peer_broker* self);

/// Issues disk reads for queued requests within the backlog bound and the bucket.
void pump(peer_broker* self);

/// The socket reports what it wrote (ack_writes).
void on_written(peer_broker* self, std::uint64_t written, std::uint64_t remaining);

/// Our share of the upload limit (bytes/s, 0: none).
void set_share(peer_broker* self, double bytes_per_second);

/// Once a second: rate, the send timeout (closes the connection: returns false).
bool tick(peer_broker* self);

} // namespace peer_upload

} // namespace actorrent
