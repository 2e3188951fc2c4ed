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
  CAF_ADD_ATOM(actorrent, actorrent, choked_atom, "choked")
  CAF_ADD_ATOM(actorrent, actorrent, left_atom, "left")
  CAF_ADD_ATOM(actorrent, actorrent, verdict_atom, "verdict")
  CAF_ADD_ATOM(actorrent, actorrent, announce_atom, "announce")
  CAF_ADD_ATOM(actorrent, actorrent, peers_atom, "peers")
  CAF_ADD_ATOM(actorrent, actorrent, progress_atom, "progress")
  CAF_ADD_ATOM(actorrent, actorrent, start_atom, "start")
  CAF_ADD_ATOM(actorrent, actorrent, stop_atom, "stop")
  CAF_ADD_ATOM(actorrent, actorrent, done_atom, "done")
  CAF_ADD_ATOM(actorrent, actorrent, event_atom, "event")
  CAF_ADD_ATOM(actorrent, actorrent, connected_atom, "connected")
  CAF_ADD_ATOM(actorrent, actorrent, failed_atom, "failed")
  CAF_ADD_ATOM(actorrent, actorrent, drop_atom, "drop")
  CAF_ADD_ATOM(actorrent, actorrent, stats_atom, "stats")

CAF_END_TYPE_ID_BLOCK(actorrent)
