// Who sent a corrupt piece? The judge of hash failures, as a plain class.
//
// When a piece fails its hash check we know, per block, which peer sent it.
//  - One sender for the whole piece: that peer lied (or its disk did); it gets
//    a strike, and `max_strikes` strikes get it banned.
//  - Several senders: an honest peer may have sent some of the blocks, so
//    nobody is banned yet. The failed copy's block hashes are kept and the
//    piece is fetched again from one of the senders only (a "pin"). When a good
//    copy verifies, each block whose hash differs from the failed copy names
//    its sender as a liar: exactly those are banned, the honest ones are not.
//    If the pinned re-download fails too, that single sender gets a strike.
#pragma once

#include "protocol/sha1.hpp"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace actorrent::logic {

class blame_tracker {
public:
  using peer = std::uint32_t;
  static constexpr peer nobody = 0xffffffffu;

  struct decision {
    std::vector<peer> ban;       ///< peers to drop and never reconnect
    std::optional<peer> pin;     ///< fetch the piece again from this peer only
  };

  explicit blame_tracker(std::uint32_t max_strikes = 2) : max_strikes_(max_strikes) {}

  /// A piece failed. `block_hashes` and `senders` have one entry per block
  /// (`nobody` where a block's sender is unknown).
  decision piece_failed(std::uint32_t piece, const std::vector<sha1_hash>& block_hashes,
                        const std::vector<peer>& senders);

  /// A piece verified. `block_hashes` are those of the good copy (needed only
  /// when wants_block_hashes(piece) was true).
  decision piece_passed(std::uint32_t piece, const std::vector<sha1_hash>& block_hashes);

  /// Whether the disk should report per-block hashes of this piece's next
  /// verdict (true once it failed with several senders).
  bool wants_block_hashes(std::uint32_t piece) const { return failed_.count(piece) != 0; }

  std::uint32_t strikes(peer p) const;

  /// A peer is gone for good: forget its strikes (indices are not reused).
  void forget(peer p) { strikes_.erase(p); }

private:
  struct failed_copy {
    std::vector<sha1_hash> block_hashes;
    std::vector<peer> senders;
  };
  void strike(peer p, decision& d);

  std::uint32_t max_strikes_;
  std::unordered_map<peer, std::uint32_t> strikes_;
  std::unordered_map<std::uint32_t, failed_copy> failed_;
};

} // namespace actorrent::logic
