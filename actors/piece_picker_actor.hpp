// The piece picker actor of one torrent: a thin mailbox around
// logic::piece_picker (the algorithm, tested on its own). Received blocks pass
// through it on their way to the disk store, so it alone decides which data is
// written, and each piece's writes reach the disk before its hash request.
#pragma once

#include "logic/engine_metrics.hpp"
#include "logic/piece_picker.hpp"
#include "messages/interfaces.hpp"

#include <caf/timespan.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>

#include <deque>
#include <memory>
#include <string>
#include <vector>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace actorrent {

struct picker_config {
  logic::piece_picker_config algo;
  /// Back-pressure: block bytes handed to the disk store and not yet known to
  /// be written. Above this, pick requests wait, so peers stop requesting until
  /// the disk catches up (memory stays bounded whatever the network does).
  std::uint64_t max_disk_queue = 6u << 20;
  /// Pieces to download (one flag per piece; empty: all), from the files the
  /// user chose (logic/file_selection.hpp). Pieces outside it are never requested.
  std::vector<bool> wanted;
  /// How long a piece stays pinned to one sender after a hash failure with
  /// several senders (0: until it verifies or the peer leaves).
  caf::timespan pin_timeout = std::chrono::seconds(20);
  disk_actor disk;
  torrent_actor torrent;
  /// The daemon's counters (disk_queued_bytes); null: none kept.
  std::shared_ptr<logic::engine_metrics> metrics;
};

struct picker_state {
  std::optional<logic::piece_picker> algo;
  picker_config cfg;
  std::unordered_map<peer_index, peer_actor> peers;
  std::unordered_set<std::uint32_t> failed_before; ///< pieces that failed a hash once
  std::uint64_t pins_expired = 0;             ///< pins released by pin_timeout
  // back-pressure accounting: the disk handles messages in order, so when a hash
  // reply arrives, everything forwarded before that hash request is written
  std::uint64_t forwarded = 0;                ///< bytes sent to the disk so far
  std::uint64_t written = 0;                  ///< bytes known to be written
  std::deque<std::uint64_t> hash_marks;       ///< `forwarded` at each hash request
  logic::gauge_share queued_bytes;            ///< forwarded - written, in the metrics
  struct deferred_pick {
    peer_index peer;
    std::uint32_t count;
    caf::typed_response_promise<std::vector<block_ref>> promise;
  };
  std::deque<deferred_pick> deferred;

  static inline const char* name = "piece-picker";
};

picker_actor::behavior_type piece_picker_actor(picker_actor::stateful_pointer<picker_state> self,
                                               picker_config cfg);

} // namespace actorrent
