// Every actor interface of actorrent in one place. A newcomer reads this file
// and knows every message in the system. Handles are typed where CAF 0.17 lets
// us; peer connections are brokers (they also receive CAF's I/O messages) and
// are addressed as untyped `caf::actor`s, with their messages listed below.
#pragma once

#include "messages/type_ids.hpp"
#include "messages/types.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace actorrent {

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
  caf::replies_to<resume_atom, std::vector<bool>, transfer_totals, bool>::with<bool>>;

/// The piece picker of one torrent: which block to request from which peer.
using picker_actor = caf::typed_actor<
  // A peer connection joined (its index and handle, for endgame cancels).
  caf::reacts_to<caf::join_atom, peer_index, caf::actor>,
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
  // Progress numbers: verified bytes, verified pieces.
  caf::replies_to<progress_atom>::with<std::uint64_t, std::uint32_t>>;

/// The tracker announcer of one torrent: talks to every tracker of its tiers.
using announcer_actor = caf::typed_actor<
  // Announce now with this event and these totals (started, completed, stopped, none).
  caf::reacts_to<announce_atom, announce_event, transfer_totals>,
  // The final `stopped` announce, bounded in time; replies when done or timed out.
  caf::replies_to<stop_atom, transfer_totals>::with<bool>>;

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
  // From a peer connection: the remote handshake arrived (index, peer id, is seed).
  caf::reacts_to<connected_atom, peer_index, sha1_hash>,
  // From a peer connection: it is closing, and why (bad input, timeout, remote closed).
  caf::reacts_to<drop_atom, peer_index, std::string>,
  // From the connector: an outgoing connection attempt succeeded (socket fd) or failed.
  caf::reacts_to<connected_atom, peer_index, int>,
  caf::reacts_to<failed_atom, peer_index, std::string>,
  // Timer: dial more peers while below the limits.
  caf::reacts_to<tick_atom>,
  // From the listener: a peer connected to us; replies with the index it gets
  // and our pieces, or an error when it is refused (limits, banned, stopping).
  caf::replies_to<incoming_atom, peer_endpoint>::with<peer_index, std::vector<bool>>,
  // From the listener: the broker now serving that incoming peer (the torrent
  // holds it strongly until it is down).
  caf::reacts_to<adopt_atom, peer_index, caf::actor>,
  // From a peer connection: the remote became interested (true) or not (false).
  caf::reacts_to<interest_atom, peer_index, bool>,
  // Pause: close every peer, announce `stopped`, dial and accept no one, write the
  // resume data; the start-up check, if running, finishes first.
  caf::reacts_to<pause_atom>,
  // Resume a paused torrent, or start a queued one: back to checking,
  // downloading, seeding or finished, whichever its data calls for.
  caf::reacts_to<unpause_atom>,
  // Stop: close peers, flush the disk, announce `stopped`; replies when done.
  caf::replies_to<stop_atom>::with<bool>>;

// A torrent's observer (torrent_config::observer, any actor) receives
//   (event_atom, torrent_event)   lifecycle events: state changed, check done,
//                                 completed, error, tracker failure

// Messages a peer connection (broker) understands, sent as untyped messages:
//   (cancel_atom, block_ref)   endgame: the block arrived elsewhere, cancel ours
//   (local_have_atom, uint32_t) we verified a piece: tell the remote peer
//   (choke_atom) / (unchoke_atom)  the choker's decision for this peer
//   (rate_atom, double)        its share of the torrent's upload limit, bytes/s (0: none)
//   (drop_atom, std::string)   close the connection, logging the reason
// and what it sends:
//   to the torrent: connected_atom (handshake done), stats_atom (every second),
//                   interest_atom (the remote's interest changed),
//                   drop_atom (closing, with the reason)
//   to the disk:    read_atom (blocks to upload)
//   to the picker:  join/bitfield/have/pick/block/cancel/left (see picker_actor);
//                   received blocks go to the picker, which forwards them to the disk

// Messages the listener (a broker that owns the listening socket) understands:
//   (attach_atom, sha1_hash info_hash, peer_config template, torrent_actor)
//        route incoming connections for that info-hash to this torrent
//   (detach_atom, sha1_hash info_hash)   stop routing them
// It asks the torrent with incoming_atom and hands the connection over with
// adopt_atom (see torrent_actor); peer_config is in actors/peer_connection.hpp.

} // namespace actorrent
