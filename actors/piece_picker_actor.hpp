// The piece picker actor of one torrent: a thin mailbox around
// logic::piece_picker (the algorithm, tested on its own). Received blocks pass
// through it on their way to the disk store, so it alone decides which data is
// written, and each piece's writes reach the disk before its hash request.
#pragma once

#include "logic/piece_picker.hpp"
#include "messages/interfaces.hpp"

#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace actorrent {

struct picker_config {
  logic::piece_picker_config algo;
  disk_actor disk;
  torrent_actor torrent;
};

struct picker_state {
  std::optional<logic::piece_picker> algo;
  picker_config cfg;
  std::unordered_map<peer_index, caf::actor> peers;
  std::unordered_set<std::uint32_t> failed_before; ///< pieces that failed a hash once

  static inline const char* name = "piece-picker";
};

picker_actor::behavior_type piece_picker_actor(picker_actor::stateful_pointer<picker_state> self,
                                               picker_config cfg);

} // namespace actorrent
