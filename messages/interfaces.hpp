// Every actor interface of actorrent in one place. A newcomer reads this file
// and knows every message in the system: each line is one handler, with what
// it does. `status_client` is the part every interface shares (extend_with),
// so any actor can be asked what state it is in and its own numbers.
//
// Peer connections and the listener are brokers: their handles are typed too
// (`caf::io::typed_broker`, see peer_impl_actor), so every message sent to
// them is checked at compile time like any other.
#pragma once

#include "messages/type_ids.hpp"
#include "messages/types.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace actorrent::logic {
class wire_faults;
class gate_slot;
} // namespace actorrent::logic

namespace actorrent {

/// The active wire faults of a torrent (null: off); see logic/wire_faults.hpp.
using wire_faults_ptr = std::shared_ptr<const logic::wire_faults>;

struct peer_config; // below: it holds the handles of the interfaces that use it

/// What a sleeping announcer and torrent hand over (actors/tracker_announcer.hpp,
/// actors/torrent.hpp): passed between actors of one process, never serialised.
struct announce_nap;
struct torrent_nap;
using announce_nap_ptr = std::shared_ptr<const announce_nap>;
using torrent_nap_ptr = std::shared_ptr<torrent_nap>;
/// A slot of a logic::slot_gate (its turn to talk to a tracker), given back when
/// its last copy is gone; passed within one process.
using gate_slot_ptr = std::shared_ptr<const logic::gate_slot>;

/// The part every interface shares (VAST's "status client").
using status_client = caf::typed_actor<
  // What the actor is doing: its name, current state and numbers by name.
  caf::replies_to<status_atom>::with<actor_status>>;

/// One peer connection: what the torrent and the picker tell it.
using peer_actor = caf::typed_actor<
  // Endgame: the block arrived from another peer; cancel our request for it.
  caf::reacts_to<cancel_atom, block_ref>,
  // We verified this piece: tell the remote (have), update our interest.
  caf::reacts_to<local_have_atom, std::uint32_t>,
  // The choker's decisions for this peer (ignored before the handshake).
  caf::reacts_to<choke_atom>,
  caf::reacts_to<unchoke_atom>,
  // This peer's share of the torrent's upload limit, bytes/s (0: unlimited).
  // Enforced by a token bucket on the blocks we serve (half a second of burst).
  caf::reacts_to<up_share_atom, double>,
  // This peer's share of the torrent's download limit, bytes/s (0: unlimited).
  // Enforced by a token bucket on the blocks we request (half a second of
  // burst, at least one block; a new limit starts empty): a block is requested
  // only when the bucket holds its length, in batches of ~50 ms at the share,
  // so the remote can send no faster than the share. Tokens of requests later
  // rejected or handed back are not refunded. The torrent splits its limit
  // among its peers and sends each its share whenever the split changes; a
  // peer that never gets one downloads unlimited.
  caf::reacts_to<down_share_atom, double>,
  // Close the connection, telling the torrent this reason.
  caf::reacts_to<drop_atom, std::string>,
  // Lab: misbehave from now on as these wire faults say (null: behave).
  caf::reacts_to<wire_fault_atom, wire_faults_ptr>>
  ::extend_with<status_client>;

/// The disk store of one torrent: owns its files, writes blocks, hashes pieces.
using disk_actor = caf::typed_actor<
  // Writes one received block (from a peer connection); no reply.
  caf::reacts_to<block_atom, block_data>,
  // Hashes a piece whose blocks are all written; replies with the verdict. With
  // `true`, the verdict carries every block's SHA-1 even when the piece is good
  // (used after a hash failure to tell which sender lied).
  // Requests are gathered into batches hashed side by side (protocol/sha1_multi.hpp).
  caf::replies_to<hash_atom, std::uint32_t, bool>::with<piece_verdict>,
  // Internal timer: hashes the batch of this generation if still waiting.
  caf::reacts_to<hash_atom, std::uint64_t>,
  // Checks data already on disk; replies with one flag per piece (true: verified).
  // With resume data whose file stamps still match, its verified pieces are
  // trusted and only the others are hashed.
  caf::replies_to<check_atom>::with<std::vector<bool>>,
  // Creates files still missing (empty files), syncs everything; replies when done.
  caf::replies_to<flush_atom>::with<bool>,
  // Reads blocks for upload, a peer's next requests in one message (through a
  // bounded cache of whole pieces); one view per block, in order.
  caf::replies_to<read_atom, std::vector<block_ref>>::with<std::vector<block_view>>,
  // Writes the resume data (these verified pieces, this session's totals) atomically;
  // with `true`, syncs the files first (at exit). Replies when it is on disk.
  caf::replies_to<resume_atom, std::vector<bool>, transfer_totals, bool>::with<bool>>
  ::extend_with<status_client>;

/// The piece picker of one torrent: which block to request from which peer.
using picker_actor = caf::typed_actor<
  // A peer connection joined (its index and handle, for endgame cancels).
  caf::reacts_to<caf::join_atom, peer_index, peer_actor>,
  // A peer's full piece set (bitfield, have all = all true, have none = empty).
  caf::reacts_to<bitfield_atom, peer_index, std::vector<bool>>,
  // A peer announced one more piece.
  caf::reacts_to<have_atom, peer_index, std::uint32_t>,
  // Up to N blocks for an unchoked peer to request; may be empty.
  caf::replies_to<pick_atom, peer_index, std::uint32_t>::with<std::vector<block_ref>>,
  // A block arrived from a peer. The picker decides: new data goes on to the disk
  // store (moved, not copied), duplicates are dropped, unrequested data gets the
  // sender dropped. Writes and hash requests reach the disk from this one actor,
  // so a piece is never hashed before its last block is written.
  caf::reacts_to<block_atom, block_data>,
  // Blocks a peer will not deliver (choked us, rejected, timed out): pick them again.
  caf::reacts_to<cancel_atom, peer_index, std::vector<block_ref>>,
  // A peer connection is gone: forget its pieces and hand back its blocks.
  caf::reacts_to<left_atom, peer_index>,
  // Pieces verified from existing data at start.
  caf::reacts_to<check_atom, std::vector<bool>>,
  // After a hash failure with several senders: fetch the piece again from this peer only.
  caf::reacts_to<pin_atom, std::uint32_t, peer_index>,
  // The pin's time is up: if the piece is still pinned to that peer, every peer may fetch it again.
  caf::reacts_to<unpin_atom, std::uint32_t, peer_index>,
  // Progress numbers: verified bytes, verified pieces.
  caf::replies_to<progress_atom>::with<std::uint64_t, std::uint32_t>>
  ::extend_with<status_client>;

/// The tracker announcer of one torrent: talks to every tracker of its tiers.
using announcer_actor = caf::typed_actor<
  // Announce now with this event and these totals (started, completed, stopped, none).
  caf::reacts_to<announce_atom, announce_event, transfer_totals>,
  // The final `stopped` announce, bounded in time; replies when done or timed out.
  caf::replies_to<stop_atom, transfer_totals>::with<bool>,
  // Its torrent goes to sleep: hand over what it knows (tier order, key,
  // tracker ids, back-off, when it speaks next) and quit; an error instead
  // while a request is in flight or it is stopping.
  caf::replies_to<sleep_atom>::with<announce_nap_ptr>>
  ::extend_with<status_client>;

/// One torrent: supervises its peers, picker, disk store and announcer.
using torrent_actor = caf::typed_actor<
  // Progress snapshot for the command line.
  caf::replies_to<progress_atom>::with<torrent_status>,
  // From the announcer: peers and numbers of one announce.
  caf::reacts_to<peers_atom, announce_reply>,
  // From the announcer: a tracker failed (failure reason, timeout, bad answer).
  caf::reacts_to<failed_atom, std::string, std::string>,
  // From the picker: a piece was hashed; the peers that sent each of its blocks.
  caf::reacts_to<verdict_atom, piece_verdict, std::vector<peer_index>>,
  // From a peer connection: its numbers, every second.
  caf::reacts_to<stats_atom, peer_report>,
  // From a peer connection: the remote handshake arrived (index, peer id).
  caf::reacts_to<connected_atom, peer_index, sha1_hash>,
  // From a peer connection: it is closing, and why (bad input, timeout, remote closed).
  caf::reacts_to<drop_atom, peer_index, std::string>,
  // From the connector: an outgoing connection attempt succeeded (socket fd).
  caf::reacts_to<dialed_atom, peer_index, int>,
  // From the connector (connect failed) or the listener (the incoming
  // connection closed before it was handed over): no peer connection for it.
  caf::reacts_to<peer_failed_atom, peer_index, std::string>,
  // Timer: dial more peers while below the limits.
  caf::reacts_to<tick_atom>,
  // From the listener: a peer connected to us; replies with the connection's
  // whole config (its index, our pieces, the torrent's current disk store and
  // picker, which an idle torrent spawns only now), or an error when it is
  // refused (limits, banned, stopping).
  caf::replies_to<incoming_atom, peer_endpoint>::with<peer_config>,
  // From the listener: the broker now serving that incoming peer (the torrent
  // holds it strongly until it is down).
  caf::reacts_to<adopt_atom, peer_index, peer_actor>,
  // From a peer connection: the remote became interested (true) or not (false).
  caf::reacts_to<interest_atom, peer_index, bool>,
  // Pause: close every peer, announce `stopped`, dial and accept no one, write the
  // resume data; the start-up check, if running, finishes first.
  caf::reacts_to<pause_atom>,
  // Resume a paused torrent, or start a queued one: back to checking,
  // downloading, seeding or finished, whichever its data calls for.
  caf::reacts_to<unpause_atom>,
  // Stop: close peers, flush the disk, announce `stopped`; replies when done.
  caf::replies_to<stop_atom>::with<bool>,
  // Lab: turn the wire-fault layer on with this spec, or off with "";
  // true once applied, an error when the spec is bad or the layer missing.
  caf::replies_to<wire_fault_atom, std::string>::with<bool>,
  // Lab: turn disk faults on with this spec (storage/disk_faults.hpp), or off
  // with ""; a torrent paused by a write error resumes when they go off.
  caf::replies_to<disk_fault_atom, std::string>::with<bool>,
  // From the daemon's session: new limits (upload and download bytes/s, 0:
  // unlimited; peer connections; outgoing connects in flight).
  caf::reacts_to<limits_atom, double, double, std::uint32_t, std::uint32_t>,
  // From the daemon's session: at most this many unchoked peers (regular and
  // optimistic slots together, never more than the torrent's own); a value at
  // or above them restores the torrent's own slot counts.
  caf::reacts_to<unchoke_atom, std::uint32_t>,
  // Announce now (torrents.reannounce), if downloading or seeding.
  caf::reacts_to<announce_atom>,
  // From the daemon's session: a quiet torrent (seeding or finished, no peer,
  // no one to dial, no disk store, resume data current, its announcer idle)
  // detaches from the listener, hands over what it knows and quits; spawned
  // again from that (torrent_config::nap) it goes on where it was, without a
  // check. An error instead when it is not quiet.
  caf::replies_to<sleep_atom>::with<torrent_nap_ptr>>
  ::extend_with<status_client>;

/// Who spawns sleeping torrents again (the daemon's session): the listener asks
/// it for an info-hash no torrent is attached for.
using waker_actor = caf::typed_actor<
  // The torrent of this info-hash, spawned again if it sleeps; an error when
  // there is no such torrent (or it has no actor: failed, being removed).
  caf::replies_to<wake_atom, sha1_hash>::with<torrent_actor>>;

/// A peer process's control actor (actors/control.hpp), published with the
/// middleman (BASP) for the swarm lab's coordinator. Every handler replies, so
/// the coordinator knows what the peer did.
using control_actor = caf::typed_actor<
  // One sample: progress, rates, peers, bans, errors, state, memory, and the
  // torrent's status values (wire.*, disk.* counters).
  caf::replies_to<sample_atom>::with<control_sample>,
  // Pause the torrent (no peers, resume data written) / resume it.
  caf::replies_to<pause_atom>::with<bool>,
  caf::replies_to<unpause_atom>::with<bool>,
  // End the process cleanly (the torrent announces `stopped`); replies first.
  caf::replies_to<stop_atom>::with<bool>,
  // Faults for a window: forwarded to the torrent ("" turns them off).
  caf::replies_to<wire_fault_atom, std::string>::with<bool>,
  caf::replies_to<disk_fault_atom, std::string>::with<bool>>;

/// The swarm lab's coordinator (lab/coordinator.hpp): keeps a BASP connection
/// to each actorrent peer's control actor, samples every connected peer once a
/// second, and relays the runner's commands. Peers are numbered as in the plan.
using coordinator_actor = caf::typed_actor<
  // Keep this peer (name, host, control port) connected: connect now and
  // after every loss, asynchronously (the middleman's connect_atom).
  caf::reacts_to<caf::put_atom, std::uint32_t, std::string, std::string, std::uint16_t>,
  // The peer was killed (churn): drop its connection and node ID; its restart
  // is a new node.
  caf::reacts_to<left_atom, std::uint32_t>,
  // Timer, every second: sample every connected peer, connect the others.
  caf::reacts_to<tick_atom>,
  // A sample of the peer now (not the periodic one).
  caf::replies_to<sample_atom, std::uint32_t>::with<control_sample>,
  // Relayed to the peer's control actor.
  caf::replies_to<wire_fault_atom, std::uint32_t, std::string>::with<bool>,
  caf::replies_to<disk_fault_atom, std::uint32_t, std::string>::with<bool>,
  caf::replies_to<pause_atom, std::uint32_t>::with<bool>,
  caf::replies_to<unpause_atom, std::uint32_t>::with<bool>,
  caf::replies_to<stop_atom, std::uint32_t>::with<bool>>;

// A torrent's observer (torrent_config::observer, any actor) receives
//   (event_atom, torrent_event)   lifecycle events: state changed, check done,
//                                 completed, error, tracker failure

namespace logic {
struct engine_metrics;
} // namespace logic

/// What a peer connection needs from its torrent at spawn: the torrent fills
/// it for each connection (its index, our pieces, the current disk store and
/// picker) and answers the listener's incoming_atom with it. Only ever passed
/// between actors of one process: never serialised.
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
  std::uint32_t max_queue_depth = 256;      ///< 4 MiB in flight per peer (the download's peak heap)
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
  // Tunables from logic::settings (see there for units and bounds).
  std::size_t read_size = 64 * 1024;       ///< bytes read from the socket at once
  std::size_t read_batch = 16;             ///< blocks read from the disk per request
  std::size_t cancelled_memory = 4096;     ///< cancelled requests remembered
  wire_faults_ptr wire_faults;             ///< lab: misbehave on purpose (null: off)
  /// Write blocks to the socket directly (writev) while CAF's write buffer is
  /// empty instead of copying them into it (see actors/peer_upload.hpp).
  bool direct_writes = true;
  /// The daemon's counters (protocol bytes, disconnect reasons, late blocks);
  /// null: none kept.
  std::shared_ptr<logic::engine_metrics> metrics;
};

} // namespace actorrent

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::peer_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::wire_faults_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::announce_nap_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::torrent_nap_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::gate_slot_ptr)

namespace actorrent {

/// A peer connection's own mailbox: its public interface, the socket's events
/// (it is a `caf::io::typed_broker`) and its timers. Only the broker itself
/// and CAF's middleman use the extra messages.
using peer_impl_actor = peer_actor::extend<
  // Bytes from the socket: decoded in place, many wire messages per read.
  caf::reacts_to<caf::io::new_data_msg>,
  // The socket wrote bytes (ack_writes): uploads resume below the backlog limit.
  caf::reacts_to<caf::io::data_transferred_msg>,
  // The remote closed the connection.
  caf::reacts_to<caf::io::connection_closed_msg>,
  // Incoming connections: the listener has moved the socket in; start the wire.
  caf::reacts_to<start_atom>,
  // Timer, every second: rates, queue depth, timeouts, keep-alive, report.
  caf::reacts_to<tick_atom>,
  // Wake-up: the upload token bucket holds the next block again.
  caf::reacts_to<pump_atom>,
  // Wake-up: the download token bucket holds the next request again.
  caf::reacts_to<refill_atom>,
  // Wake-up (wire faults, slow reads): read from the socket again.
  caf::reacts_to<wire_fault_atom>>;

/// The listener (a broker owning the listening socket, shared by every torrent).
using listener_actor = caf::typed_actor<
  // Route incoming connections for this info-hash to this torrent, which
  // answers each with its connection's config (incoming_atom).
  caf::reacts_to<attach_atom, sha1_hash, torrent_actor>,
  // Stop routing them (also done when the torrent is down).
  caf::reacts_to<detach_atom, sha1_hash>,
  // Connections for an info-hash no torrent is attached for: ask this actor
  // to wake the torrent (a sleeping one is spawned again) before refusing.
  caf::reacts_to<wake_atom, waker_actor>,
  // The port it listens on (useful with port 0).
  caf::replies_to<caf::get_atom>::with<std::uint16_t>>
  ::extend_with<status_client>;

/// The listener's own mailbox: the interface plus the acceptor's events and its timer.
using listener_impl_actor = listener_actor::extend<
  // A connection was accepted: read the start of its handshake.
  caf::reacts_to<caf::io::new_connection_msg>,
  // Bytes of a connection still in its handshake.
  caf::reacts_to<caf::io::new_data_msg>,
  // A connection still in its handshake closed.
  caf::reacts_to<caf::io::connection_closed_msg>,
  // The listening socket closed: the listener quits.
  caf::reacts_to<caf::io::acceptor_closed_msg>,
  // Timer, every second: handshakes that took too long are closed.
  caf::reacts_to<tick_atom>>;

/// The daemon's session (daemon/session.hpp): supervises every torrent of
/// `actorrent daemon`, owns the global limits and the queue, answers the API.
using session_actor = caf::typed_actor<
  // An API call from an HTTP thread: method, params (JSON text) and a blob
  // (the .torrent's bytes for torrents.add, the config file's text for
  // config.reload; else empty). Replies with {"result": ...} or
  // {"error": {"code", "message"}} as JSON text; never waits on disk.
  caf::replies_to<rpc_atom, std::string, std::string, std::string>::with<std::string>,
  // From a torrent (its observer): a lifecycle event.
  caf::reacts_to<event_atom, torrent_event>,
  // Timer, every second: status polls, queue, limits, watch directory, stats.
  caf::reacts_to<tick_atom>,
  // To itself: the queue pass after a burst of torrent events.
  caf::reacts_to<schedule_atom>,
  // From the state worker: the bytes of new .torrent files of the watch directory.
  caf::reacts_to<scan_atom, std::vector<std::string>, std::vector<std::string>>,
  // SIGTERM: stop every torrent in parallel (stopped announces, resume data)
  // within the shutdown bound; replies with a report (JSON text).
  caf::replies_to<stop_atom>::with<std::string>>
  ::extend_with<status_client, waker_actor>;

/// The daemon's state worker (detached: it blocks on the disk so that the
/// session never does): writes and deletes files of the state directory and
/// of removed torrents, scans the watch directory.
using state_store_actor = caf::typed_actor<
  // Writes a file atomically (a temporary file, fsync, rename).
  caf::reacts_to<put_atom, std::string, std::string>,
  // Deletes files: a root and paths under it (never following symbolic
  // links, never leaving the root), then directories left empty.
  caf::reacts_to<erase_atom, std::string, std::vector<std::string>>,
  // Scans a watch directory: every *.torrent file that parses is renamed
  // *.torrent.added and its bytes are sent to the session (scan_atom,
  // names, bytes); a bad one becomes *.torrent.bad with *.torrent.reason beside it.
  caf::reacts_to<scan_atom, std::string, session_actor>,
  // Answers once every message before it is done (the session waits for it
  // at shutdown, so no queued write is lost).
  caf::replies_to<flush_atom>::with<bool>>
  ::extend_with<status_client>; // "mailbox": messages waiting behind this one

/// The tracker announcer's own mailbox: the public interface plus its timer.
using announcer_impl_actor = announcer_actor::extend<
  // Timer (re-announce, min-interval deferral, back-off retry); stale
  // generations are ignored.
  caf::reacts_to<tick_atom, std::uint64_t>,
  // Its turn to talk to a tracker, from announcer_config::gate.
  caf::reacts_to<grant_atom, gate_slot_ptr>>;

namespace announce {
struct tracker_job;
struct tracker_outcome;

/// A tracker worker (actors/tracker_announcer.hpp defines the job and its
/// outcome): answers one announce or scrape, then terminates. Spawned detached,
/// so the blocking request never holds a scheduler thread.
using worker_actor = caf::typed_actor<caf::replies_to<tracker_job>::with<tracker_outcome>>;
} // namespace announce

} // namespace actorrent
