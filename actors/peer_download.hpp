// The download half of a peer connection: what we want from the remote, the
// requests we pipeline to it, and the blocks it sends.
//
//   handshaking --handshake--> choked --unchoke--> downloading
//                                ^------choke-------'
//
// One named behavior per state (built in peer_download.cpp); the phase says
// which one is current, and is the only record of it.
#pragma once

#include "logic/token_bucket.hpp"
#include "messages/interfaces.hpp"
#include "protocol/bitfield.hpp"

#include <caf/behavior.hpp>
#include <caf/message_handler.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace actorrent {

struct peer_state;
using peer_broker = peer_impl_actor::stateful_broker_base<peer_state>;

/// A state machine of named behaviors, invoked by hand on decoded wire
/// messages. A handler that changes the state sets the phase at once (later
/// code of the same handler sees it) and the behavior after it returns.
template <class Phase>
struct peer_machine {
  Phase phase{};
  caf::behavior current;
  std::optional<caf::behavior> next;

  void enter(Phase p, caf::behavior b) {
    phase = p;
    next = std::move(b);
  }

  /// Runs `msg` through the current behavior; false if it has no handler.
  bool handle(caf::message& msg) {
    auto res = current(msg);
    if (next) {
      current = std::move(*next);
      next.reset();
    }
    return static_cast<bool>(res);
  }
};

enum class download_phase { handshaking, choked, downloading };
const char* to_string(download_phase p);

struct download_state {
  struct outstanding_request {
    block_ref block;
    std::chrono::steady_clock::time_point sent;
  };

  peer_machine<download_phase> machine;
  bitfield remote_has;
  bool am_interested = false;
  std::deque<outstanding_request> outstanding;
  std::vector<block_ref> recently_cancelled; ///< blocks that may still arrive
  bool pick_pending = false;                 ///< a pick request is on its way to the picker
  bool starved = false;                      ///< the picker had nothing for us last time
  bool snubbed = false;                      ///< no block for a whole request timeout
  // adaptive request queue
  std::uint32_t queue_depth = 64;
  std::uint32_t window_blocks = 0;           ///< slow start: blocks since window_start
  std::chrono::steady_clock::time_point window_start;
  std::chrono::steady_clock::time_point last_block;
  logic::rate_meter meter;                   ///< payload received
  // the download limit's share (down_share_atom): tokens are spent on requests
  logic::token_bucket bucket;
  bool refill_scheduled = false;             ///< a delayed refill_atom is on its way

  bool handshake_done() const { return machine.phase != download_phase::handshaking; }
  bool unchoked() const { return machine.phase == download_phase::downloading; }
  bool remote_seed() const { return handshake_done() && remote_has.all(); }
};

namespace peer_download {

/// The first state: waiting for the remote handshake (ours is already sent).
caf::behavior handshaking(peer_broker* self);

/// Asks the picker for more blocks when the request queue runs low and the
/// download bucket allows.
void refill(peer_broker* self);

/// We verified `piece`: tell the remote, update our interest.
void local_have(peer_broker* self, std::uint32_t piece);

/// Endgame: the block arrived from another peer; cancel our request.
void cancel(peer_broker* self, const block_ref& b);

/// Our share of the download limit (bytes/s, 0: none).
void set_share(peer_broker* self, double bytes_per_second);

/// Once a second: rate, queue depth, the request timeout (the connection
/// then checks its own timeouts, and refills a starved queue).
void tick(peer_broker* self);

} // namespace peer_download

} // namespace actorrent
