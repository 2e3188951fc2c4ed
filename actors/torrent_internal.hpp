// The torrent actor's parts, shared by its files: torrent.cpp (lifecycle:
// the behaviors, the check, completion, pause, stop), torrent_peers.cpp
// (dialling, accepting, handshakes, closes, bans, verdicts) and
// torrent_choke.cpp (choker rounds and upload rate shares).
#pragma once

#include "actors/peer_connection.hpp"
#include "actors/torrent.hpp"

#include <caf/message_handler.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <string>

namespace actorrent::torrent_detail {

using self_ptr = torrent_actor::stateful_pointer<torrent_state>;
using clock_type = std::chrono::steady_clock;

/// The time by the actor system's clock (the test coordinator's in tests).
clock_type::time_point now(self_ptr self);

/// A notable event on stderr when the torrent is verbose.
void note(self_ptr self, const std::string& msg);

transfer_totals totals(self_ptr self);

/// True in the states that dial and accept peers (downloading, seeding).
bool active(const torrent_state& st);

/// The link of a connection: the held one, or a new one (handle to come) if
/// the peer set knows the index; null otherwise. A peer connection can report
/// before the listener's hand-over arrives.
torrent_state::peer_link* find_link(torrent_state& st, peer_index idx);

/// Records piece `piece` as verified (once): have bits, counters.
void add_piece(torrent_state& st, std::uint32_t piece);

/// Every wanted piece is verified.
inline bool wanted_done(const torrent_state& st) { return st.wanted_have == st.wanted_total; }

/// Ends the torrent and everything it supervises.
void terminate(self_ptr self, caf::error reason);

/// Sends (event_atom, torrent_event) to the observer, if any.
void notify(self_ptr self, torrent_event::kind what, std::string message = {});

/// The status snapshot answered to progress requests.
torrent_status make_status(self_ptr self);

// ---- torrent.cpp: lifecycle ----------------------------------------------------

/// Spawns the disk store and the piece picker unless they exist, and marks
/// them used now.
void ensure_children(self_ptr self);

/// Starts the one-second tick again in an active state (a quiet seed has none).
void wake(self_ptr self);

/// Lets the disk store and the picker go when the torrent has had no peer and
/// no disk work for children_idle (`at_once`: without that wait, as before a
/// sleep). True when the tick need not wait for them: gone (now or before),
/// or kept for good (children_idle 0).
bool maybe_release_children(self_ptr self, bool at_once = false);

/// Every piece is verified: flush, then seeding or finished.
void finish(self_ptr self, bool downloaded_now);

/// A block write failed (the piece is fetched again): after a disk-full error,
/// or max_write_failures in a row, the torrent pauses with a disk error
/// (resume data written with the verified pieces only) until unpaused or the
/// disk faults go off.
void on_write_failed(self_ptr self, std::uint32_t piece, const std::string& why);

// ---- torrent_peers.cpp -----------------------------------------------------------

/// What every peer connection of this torrent shares (index and pieces filled per connection).
peer_config peer_template(self_ptr self);

/// Dials candidates while below the limits (only in an active state), and asks
/// the trackers for more when running low.
void maybe_connect(self_ptr self);

/// Closes every peer connection (with `reason`) and forgets them in the peer set.
void drop_all_peers(self_ptr self, const std::string& reason);

/// A peer broker is down; false if `source` is not one of ours.
bool on_peer_down(self_ptr self, const caf::actor_addr& source);

/// A piece was hashed.
void on_verdict(self_ptr self, piece_verdict& v, std::vector<peer_index>& senders);

/// Handlers every state shares: peer reports, handshakes, closes, hand-overs,
/// verdicts, tracker news.
caf::message_handler peer_handlers(self_ptr self);

/// Incoming peers and finished connects while dialling and accepting.
caf::message_handler accepting_handlers(self_ptr self);

/// Incoming peers refused (with `why`) and finished connects closed.
caf::message_handler refusing_handlers(self_ptr self, std::string why);

// ---- torrent_choke.cpp -----------------------------------------------------------

/// A choker round, due every choke_interval.
void choke_round(self_ptr self);

/// Sends each unchoked peer its share of the upload limit (when it changed).
void update_rates(self_ptr self);

/// Gives free upload slots to interested peers waiting for one.
void fill_free_slots(self_ptr self);
/// The session's cap on unchoked peers (limits.unchoke_slots): fewer slots
/// choke the extra peers now, more are handed out now.
void set_unchoke_cap(self_ptr self, std::uint32_t cap);

/// A peer's interest changed.
void on_interest(self_ptr self, peer_index idx, bool on);

/// A connection is gone: its slot is free.
void forget_choked(self_ptr self, peer_index idx);

} // namespace actorrent::torrent_detail
