// CAF type-ID block of actorrent: every atom of the engine. A second block
// would start at caf::id_block::actorrent::end.
#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(actorrent, caf::first_custom_type_id)

  // Timers: periodic self-message (rates, keep-alives, request timeouts).
  CAF_ADD_ATOM(actorrent, actorrent, tick_atom, "tick")
  // Torrent/peer/picker/disk vocabulary.
  CAF_ADD_ATOM(actorrent, actorrent, block_atom, "block")
  CAF_ADD_ATOM(actorrent, actorrent, have_atom, "have")
  CAF_ADD_ATOM(actorrent, actorrent, bitfield_atom, "bitfield")
  CAF_ADD_ATOM(actorrent, actorrent, pick_atom, "pick")
  CAF_ADD_ATOM(actorrent, actorrent, hash_atom, "hash")
  CAF_ADD_ATOM(actorrent, actorrent, check_atom, "check")
  CAF_ADD_ATOM(actorrent, actorrent, flush_atom, "flush")
  CAF_ADD_ATOM(actorrent, actorrent, cancel_atom, "cancel")
  CAF_ADD_ATOM(actorrent, actorrent, left_atom, "left")
  CAF_ADD_ATOM(actorrent, actorrent, verdict_atom, "verdict")
  CAF_ADD_ATOM(actorrent, actorrent, announce_atom, "announce")
  CAF_ADD_ATOM(actorrent, actorrent, peers_atom, "peers")
  CAF_ADD_ATOM(actorrent, actorrent, progress_atom, "progress")
  CAF_ADD_ATOM(actorrent, actorrent, start_atom, "start")
  CAF_ADD_ATOM(actorrent, actorrent, stop_atom, "stop")
  // A torrent's lifecycle event (torrent -> its observer).
  CAF_ADD_ATOM(actorrent, actorrent, event_atom, "event")
  // A peer's remote handshake arrived (peer -> torrent).
  CAF_ADD_ATOM(actorrent, actorrent, connected_atom, "connected")
  // A tracker failed (announcer -> torrent).
  CAF_ADD_ATOM(actorrent, actorrent, failed_atom, "failed")
  // An outgoing connect succeeded: the socket (connector -> torrent).
  CAF_ADD_ATOM(actorrent, actorrent, dialed_atom, "dialed")
  // A connection for a peer index never became a peer connection (connector:
  // connect failed; listener: closed before it was handed over).
  CAF_ADD_ATOM(actorrent, actorrent, peer_failed_atom, "peerfailed")
  CAF_ADD_ATOM(actorrent, actorrent, drop_atom, "drop")
  CAF_ADD_ATOM(actorrent, actorrent, stats_atom, "stats")
  CAF_ADD_ATOM(actorrent, actorrent, pin_atom, "pin")
  // A pin that outlived the picker's pin_timeout is released (picker -> itself).
  CAF_ADD_ATOM(actorrent, actorrent, unpin_atom, "unpin")
  // Seeding: block reads, our choke decisions, interest, incoming connections.
  CAF_ADD_ATOM(actorrent, actorrent, read_atom, "read")
  CAF_ADD_ATOM(actorrent, actorrent, choke_atom, "choke")
  CAF_ADD_ATOM(actorrent, actorrent, unchoke_atom, "unchoke")
  CAF_ADD_ATOM(actorrent, actorrent, interest_atom, "interest")
  CAF_ADD_ATOM(actorrent, actorrent, incoming_atom, "incoming")
  CAF_ADD_ATOM(actorrent, actorrent, adopt_atom, "adopt")
  CAF_ADD_ATOM(actorrent, actorrent, attach_atom, "attach")
  CAF_ADD_ATOM(actorrent, actorrent, detach_atom, "detach")
  CAF_ADD_ATOM(actorrent, actorrent, resume_atom, "resume")
  // Rate limits: the torrent's per-peer shares of the upload and download
  // limits, and the peer's own wake-ups when its token buckets run dry.
  CAF_ADD_ATOM(actorrent, actorrent, up_share_atom, "upshare")
  CAF_ADD_ATOM(actorrent, actorrent, down_share_atom, "downshare")
  CAF_ADD_ATOM(actorrent, actorrent, pump_atom, "pump")
  // Torrent lifecycle: pause a torrent (no peers, no announces), resume or start a paused or queued one.
  CAF_ADD_ATOM(actorrent, actorrent, pause_atom, "pause")
  CAF_ADD_ATOM(actorrent, actorrent, unpause_atom, "unpause")
  CAF_ADD_ATOM(actorrent, actorrent, refill_atom, "refill")
  // Every actor's status (see status_client in interfaces.hpp).
  CAF_ADD_ATOM(actorrent, actorrent, status_atom, "status")

  // The torrent tells a peer connection that we verified a piece.
  CAF_ADD_ATOM(actorrent, actorrent, local_have_atom, "localhave")
  // Peer wire messages as a connection delivers them to its own state machines
  // (invoked directly, never through the mailbox): the "w" prefix marks what
  // came from the remote peer.
  CAF_ADD_ATOM(actorrent, actorrent, w_handshake_atom, "whandshake")
  CAF_ADD_ATOM(actorrent, actorrent, w_choke_atom, "wchoke")
  CAF_ADD_ATOM(actorrent, actorrent, w_unchoke_atom, "wunchoke")
  CAF_ADD_ATOM(actorrent, actorrent, w_interested_atom, "winterest")
  CAF_ADD_ATOM(actorrent, actorrent, w_uninterested_atom, "wuninter")
  CAF_ADD_ATOM(actorrent, actorrent, w_have_atom, "whave")
  CAF_ADD_ATOM(actorrent, actorrent, w_bitfield_atom, "wbitfield")
  CAF_ADD_ATOM(actorrent, actorrent, w_have_all_atom, "whaveall")
  CAF_ADD_ATOM(actorrent, actorrent, w_have_none_atom, "whavenone")
  CAF_ADD_ATOM(actorrent, actorrent, w_request_atom, "wrequest")
  CAF_ADD_ATOM(actorrent, actorrent, w_piece_atom, "wpiece")
  CAF_ADD_ATOM(actorrent, actorrent, w_cancel_atom, "wcancel")
  CAF_ADD_ATOM(actorrent, actorrent, w_reject_atom, "wreject")
  CAF_ADD_ATOM(actorrent, actorrent, w_allowed_fast_atom, "wallowfast")
  // The wire-fault layer (lab): a spec for a torrent, the active faults for a
  // peer connection, a slow-reads wake-up.
  CAF_ADD_ATOM(actorrent, actorrent, wire_fault_atom, "wirefault")

  // The lab's control actor (actors/control.hpp): one sample of a peer, and
  // faults turned on ("spec") or off ("") at run time.
  CAF_ADD_ATOM(actorrent, actorrent, sample_atom, "sample")
  CAF_ADD_ATOM(actorrent, actorrent, disk_fault_atom, "diskfault")

  // The daemon (issue 14): API calls to the session, the session's limits for
  // a torrent, and its state-directory worker (write, delete, scan).
  CAF_ADD_ATOM(actorrent, actorrent, rpc_atom, "rpc")
  CAF_ADD_ATOM(actorrent, actorrent, limits_atom, "limits")
  CAF_ADD_ATOM(actorrent, actorrent, put_atom, "put")
  CAF_ADD_ATOM(actorrent, actorrent, erase_atom, "erase")
  CAF_ADD_ATOM(actorrent, actorrent, scan_atom, "scan")
  // Idle torrents without actors: a quiet torrent (and its announcer) hands
  // over what it knows and quits (sleep); the listener asks the session to
  // spawn it again for an incoming peer (wake).
  CAF_ADD_ATOM(actorrent, actorrent, sleep_atom, "sleep")
  CAF_ADD_ATOM(actorrent, actorrent, wake_atom, "wake")
  // The session's queue pass, asked of itself once for a burst of events.
  CAF_ADD_ATOM(actorrent, actorrent, schedule_atom, "schedule")
  // An announcer's turn to talk to a tracker (the daemon bounds how many at once).
  CAF_ADD_ATOM(actorrent, actorrent, grant_atom, "grant")

CAF_END_TYPE_ID_BLOCK(actorrent)
