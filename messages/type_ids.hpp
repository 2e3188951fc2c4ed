// CAF type-ID block of actorrent: atoms and message types. The download engine
// (actors/) adds its message structs here; a second block would start at
// caf::id_block::actorrent::end.
#pragma once

#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(actorrent, caf::first_custom_type_id)

  // Periodic self-message of timers (choker, announcer, rate sampling).
  CAF_ADD_ATOM(actorrent, actorrent, tick_atom, "tick")

CAF_END_TYPE_ID_BLOCK(actorrent)
