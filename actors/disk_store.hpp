// The disk store actor of one torrent: writes blocks with pwrite, hashes whole
// pieces, checks existing data at start, flushes at the end. It runs on a CAF
// scheduler thread, never on the middleman (network) thread, so hashing and
// disk I/O never stall the peer connections; with the network on the
// middleman thread this puts the two cores to work.
#pragma once

#include "messages/interfaces.hpp"
#include "protocol/metainfo.hpp"
#include "storage/torrent_storage.hpp"

#include <memory>
#include <optional>
#include <string>

namespace actorrent {

struct disk_config {
  std::shared_ptr<const metainfo> torrent;
  std::string root;              ///< download directory
  unsigned check_threads = 0;    ///< for the start-up check; 0: one per core
};

struct disk_state {
  std::optional<storage::torrent_storage> storage;
  std::shared_ptr<const metainfo> torrent;
  std::vector<std::uint8_t> piece_buffer; ///< reused for hashing
  std::uint64_t bytes_written = 0;
  unsigned check_threads = 0;

  static inline const char* name = "disk-store";
};

disk_actor::behavior_type disk_store(disk_actor::stateful_pointer<disk_state> self, disk_config cfg);

} // namespace actorrent
