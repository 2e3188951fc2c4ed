// The wire-fault layer inside a peer connection (issue 12): a deliberately
// misbehaving peer, for the swarm lab and hostile-peer tests. Off unless
// `--wire-fault` or the torrent's wire_fault_atom turns it on.
//
// The connection holds a null `peer_state::faults` when the layer is off: each
// hook in peer_connection.cpp, peer_download.cpp and peer_upload.cpp is one
// `if (st.faults)` branch that normal transfers never take. When on, the hooks
// below carry out logic::wire_faults' decisions and count what they did in the
// torrent's shared logic::wire_fault_counters.
#pragma once

#include "actors/peer_download.hpp"
#include "logic/wire_faults.hpp"
#include "protocol/wire.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace actorrent {

/// One connection's part of the layer (exists only while it is on).
struct wire_fault_conn {
  std::shared_ptr<const logic::wire_faults> f;
  bool muted = false;        ///< truncated handshake sent: we read and say nothing more
  bool reading_halted = false; ///< slow reads: waiting for the wake-up
  std::chrono::steady_clock::time_point last_flap{};
  std::chrono::steady_clock::time_point last_unknown{};
};

namespace wire_fault {

/// Turns the layer on (or off, with null or an empty spec) for this connection.
/// An established connection gets the one-off misbehaviours at once.
void set(peer_broker* self, std::shared_ptr<const logic::wire_faults> f);

/// Our handshake is about to go out: a wrong info-hash, or half of it (then
/// the connection goes mute; returns true: the caller sends nothing).
bool on_handshake_out(peer_broker* self, wire::handshake& hs);

/// Bytes arrived from the socket: true to ignore them (mute); slow reads pause
/// the socket for as long as `n` bytes take at the rate.
bool on_data(peer_broker* self, std::size_t n);

/// Slow reads: the wake-up (wire_fault_atom) to read again.
void resume_reading(peer_broker* self);

/// The remote handshake arrived: sends our (claimed) pieces, then the one-off
/// misbehaviours. Replaces the normal bitfield.
void after_handshake(peer_broker* self);

/// A valid request while we serve: true to never answer it (snub, free ride,
/// a claimed piece never served).
bool swallow_request(peer_broker* self, const block_ref& b);

/// A block was appended to the write buffer `out`, its data from byte `at`:
/// corrupts it if the decision says so.
void on_block_out(peer_broker* self, const block_ref& b, std::vector<char>& out, std::size_t at);

/// The choker unchokes the remote: true to withhold it (free ride).
bool withhold_unchoke(peer_broker* self);

/// Once a second: choke flapping, unknown messages.
void tick(peer_broker* self);

} // namespace wire_fault

} // namespace actorrent
