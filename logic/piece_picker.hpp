// The piece picker: decides which 16 KiB blocks to request from which peer,
// tracks what is requested from whom and who delivered each block.
//
// A plain, single-threaded class (an actor wraps it). Peers are small integers
// chosen by the caller. Nothing here throws or trusts peer-supplied numbers:
// out-of-range pieces, offsets and lengths are reported, never indexed with.
//
// Picking order for an unchoked peer (pick()):
//   0. pieces pinned to this peer (pin_piece_to_peer, for blame after a hash
//      failure);
//   1. partial pieces this peer is already working on (it has requests
//      outstanding in them, or its last request was in them), so a peer keeps
//      whole-piece affinity;
//   2. partial pieces nobody is downloading right now (blocks received, or
//      handed back after a choke/timeout/disconnect), most complete first;
//   3. new pieces: while fewer than `random_first_pieces` pieces are verified,
//      random pieces the peer has; otherwise (and as fallback) rarest first,
//      ties broken randomly with the seeded RNG;
//   4. only then free blocks of pieces other peers are downloading (a new piece
//      is started rather than making two peers share one);
//   5. endgame: when the peer found no free block at all and every missing
//      piece has been started, blocks already requested from other peers, each
//      block from at most `endgame_max_requesters` peers at once.
//
// Complexity (N pieces, q = the peer's outstanding requests, D = pieces in
// progress):
//   peer_have, mark_have of a piece not in progress: O(1) amortized (moves the
//     piece between availability buckets).
//   peer_bitfield / peer_have_none / peer_left: O(N/8 + pieces the peer has).
//     A bitfield covering at least a quarter of the missing pieces is instead
//     applied in one branch-free O(N) counter sweep that marks the buckets
//     dirty; the next pick() rebuilds them in O(N) (counting sort, two
//     sequential passes).
//   peer_have_all of a new peer: O(1) (seed counter, no per-piece work).
//   block_received: O(q + endgame duplicates), plus O(late-request memory) for
//     a block that arrives after its request was dropped; no O(N) work.
//   request_rejected / request_timed_out / peer_choked: O(q).
//   pick: O(q + blocks handed out) when the peer's own pieces fill the request
//     (the common refill case); otherwise O(q + D + blocks handed out + S),
//     where S is the number of pieces the rarest-first scan looks at. The scan
//     walks availability buckets from the rarest, each from a random start
//     with a random stride coprime to its size (random tie-breaking without
//     shuffling), and stops as soon as it has enough; it only visits pieces
//     we lack, so S is small unless the peer lacks most of the rarer pieces
//     (worst case: all missing pieces). Never a sort over all pieces.
//   Endgame picks: O(D * blocks per piece).
//   Memory: about 16 bytes per piece + N/8 bytes per non-seed peer + 24 bytes
//     per block of a piece in progress.
#pragma once

#include "logic/splitmix.hpp"

#include "protocol/bitfield.hpp"
#include "protocol/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

namespace actorrent::logic {

using peer_id_t = std::uint32_t;
/// "No peer": a block nobody delivered yet, an unpinned piece.
inline constexpr peer_id_t no_peer = std::numeric_limits<peer_id_t>::max();

/// One block request: `length` bytes at `offset` of piece `piece`.
struct block_request {
  std::uint32_t piece = 0;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const block_request&, const block_request&) = default;
};

/// A request to cancel: `block` is still requested from `peer` but another peer
/// delivered it first (endgame), so the caller sends `peer` a cancel message.
struct block_cancel {
  peer_id_t peer = no_peer;
  block_request block;
  friend bool operator==(const block_cancel&, const block_cancel&) = default;
};

/// What a received block was.
enum class block_status {
  /// New data we need, requested from this peer (or requested earlier and
  /// dropped by a timeout/choke/endgame cancel, arriving late): write it.
  accepted,
  /// Requested from this peer, but we already have that block (an endgame race,
  /// a late block after a cancel, or the piece is already verified): drop the
  /// data, the peer did nothing wrong.
  duplicate,
  /// Never requested from this peer (or its request was rejected): a protocol
  /// violation; drop the data.
  unrequested,
  /// Piece index, offset or length does not name a block of this torrent: a
  /// protocol violation; drop the data.
  invalid,
};

const char* to_string(block_status s) noexcept;

struct block_result {
  block_status status = block_status::invalid;
  /// Every block of the piece has now been received: hash it, then call
  /// piece_verified() or piece_failed().
  bool piece_complete = false;
  /// Requests of the same block still outstanding at other peers (endgame).
  std::vector<block_cancel> cancels;

  /// Whether the data must be written to storage.
  bool accepted() const noexcept { return status == block_status::accepted; }
  /// Whether the peer broke the protocol (caller may disconnect it).
  bool misbehaving() const noexcept {
    return status == block_status::unrequested || status == block_status::invalid;
  }
};

struct piece_picker_config {
  /// Total size of the torrent content in bytes (> 0).
  std::uint64_t total_size = 0;
  /// Nominal piece length (> 0, at most max_piece_length); the last piece holds
  /// the rest of total_size.
  std::uint32_t piece_length = 0;
  /// Below this many verified pieces, new pieces are picked at random.
  std::uint32_t random_first_pieces = 4;
  /// Endgame: a block is requested from at most this many peers at once
  /// (1..max_requesters_limit; 1 disables endgame duplicates).
  std::uint32_t endgame_max_requesters = 2;
  /// Per peer, how many dropped requests (timed out, choked, cancelled) are
  /// remembered so that their late data counts as requested, not unsolicited.
  std::uint32_t late_request_memory = 256;
  /// Seed of the RNG used for random-first picks and tie-breaking.
  std::uint64_t seed = 0x5eed;
};

class piece_picker {
public:
  static constexpr std::uint32_t block_size = 16 * 1024;
  static constexpr std::uint32_t max_piece_length = 256u * 1024 * 1024;
  static constexpr std::uint32_t max_requesters_limit = 4;
  static constexpr std::uint64_t max_pieces = 0x7fffffff;

  /// Validates the config. Errors: "total size 0 is invalid", "piece length 0
  /// is invalid", "piece length N exceeds limit M", "N pieces exceeds limit M",
  /// "endgame max requesters N is outside 1..4".
  static result<piece_picker> create(const piece_picker_config& cfg);

  // -- geometry ---------------------------------------------------------------

  std::uint32_t num_pieces() const noexcept { return num_pieces_; }
  /// Size of piece `index` in bytes (0 if out of range).
  std::uint32_t piece_size(std::uint32_t index) const noexcept;
  /// Number of blocks of piece `index` (0 if out of range).
  std::uint32_t blocks_in_piece(std::uint32_t index) const noexcept;

  // -- peer availability ------------------------------------------------------

  /// Replaces what we know of `peer`'s pieces by `bits` (a full bitfield makes
  /// it a seed). False (and no change) if bits.size() != num_pieces().
  bool peer_bitfield(peer_id_t peer, const bitfield& bits);
  /// The peer announced piece `index`. False if out of range.
  bool peer_have(peer_id_t peer, std::uint32_t index);
  /// The peer has everything (BEP 6 have_all, or a full bitfield): O(1).
  void peer_have_all(peer_id_t peer);
  /// The peer has nothing (BEP 6 have_none).
  void peer_have_none(peer_id_t peer);
  /// The peer disconnected: its pieces no longer count, its undelivered
  /// requests go back to the pool, its pins are released. Returns how many
  /// requests were handed back.
  std::size_t peer_left(peer_id_t peer);
  /// Whether we know `peer` to have piece `index`.
  bool peer_has(peer_id_t peer, std::uint32_t index) const noexcept;
  bool is_seed(peer_id_t peer) const noexcept;
  /// Number of known peers having piece `index` (seeds included).
  std::uint32_t availability(std::uint32_t index) const noexcept;
  std::size_t num_peers() const noexcept { return peers_.size(); }
  std::uint32_t num_seeds() const noexcept { return num_seeds_; }

  // -- our pieces -------------------------------------------------------------

  /// Marks a verified piece as ours (at start from existing data, or after a
  /// hash check). Requests still outstanding for it are forgotten without
  /// cancels (none exist after a complete download; their late data counts as
  /// duplicate). False if out of range or already had.
  bool mark_have(std::uint32_t index);
  bool have(std::uint32_t index) const noexcept { return have_.test(index); }
  std::uint32_t num_have() const noexcept { return num_have_; }
  bool is_complete() const noexcept { return num_have_ == num_pieces_; }
  /// Choosing files (--select-file): only pieces set in `wanted` (one flag
  /// per piece) are started from now on; pieces already in progress finish.
  /// Pieces we have stay ours whatever the mask says. False (and no change)
  /// if wanted.size() != num_pieces(). By default every piece is wanted.
  bool set_wanted(const std::vector<bool>& wanted);
  bool is_wanted(std::uint32_t index) const noexcept { return index < num_pieces_ && !unwanted_[index]; }
  /// Every wanted piece is verified (is_complete() when all are wanted).
  bool wanted_complete() const noexcept { return num_have_ + num_unwanted_missing_ == num_pieces_; }
  /// Our pieces as a wire bitfield (for the bitfield message, interest checks).
  const bitfield& have_bitfield() const noexcept { return have_; }

  // -- requests ---------------------------------------------------------------

  /// Up to `max_blocks` new requests for `peer` (call it when the peer is
  /// unchoked and its request queue has room). Never returns a block we have,
  /// a block already requested (outside endgame) or from this peer, or a piece
  /// the peer lacks.
  std::vector<block_request> pick(peer_id_t peer, std::size_t max_blocks);

  /// A block arrived from `peer`. See block_status and block_result.
  block_result block_received(peer_id_t peer, std::uint32_t piece, std::uint32_t offset,
                              std::uint32_t length);
  block_result block_received(peer_id_t peer, const block_request& b) {
    return block_received(peer, b.piece, b.offset, b.length);
  }
  /// The peer rejected the request (BEP 6): the block can be picked again.
  /// False if it was not outstanding at this peer.
  bool request_rejected(peer_id_t peer, const block_request& b);
  /// The request took too long: the block can be picked again; data arriving
  /// later from this peer still counts as accepted/duplicate. False if it was
  /// not outstanding at this peer.
  bool request_timed_out(peer_id_t peer, const block_request& b);
  /// The peer choked us: all its requests are dropped (late data still counts
  /// as requested). Returns how many requests were handed back.
  std::size_t peer_choked(peer_id_t peer);
  /// Blocks requested from `peer` and not yet delivered, in request order
  /// (order may change after hand-backs).
  std::vector<block_request> outstanding(peer_id_t peer) const;

  // -- hashing ----------------------------------------------------------------

  /// The piece's hash matched: we have it now. Same as mark_have().
  bool piece_verified(std::uint32_t index) { return mark_have(index); }
  /// The piece's hash failed: every block becomes unrequested again and the
  /// piece can be re-picked. Returns who had sent each block (per block,
  /// no_peer where none), so the caller can blame. A pin survives the failure.
  std::vector<peer_id_t> piece_failed(std::uint32_t index);
  /// For each block of a piece in progress, the peer that delivered it
  /// (no_peer if not received yet). Empty if the piece is not in progress.
  /// Ids of peers that left stay recorded (blame them before reusing an id).
  std::vector<peer_id_t> block_senders(std::uint32_t index) const;
  /// From now on only `peer` is given blocks of piece `index` (until it is
  /// verified, unpinned, or the peer leaves). Requests already outstanding at
  /// other peers are left alone. False if out of range, already had, or the
  /// peer is not here (it left: its blocks were handed back) or lacks the
  /// piece: such a pin would hold the piece for a peer that never fetches it.
  bool pin_piece_to_peer(std::uint32_t index, peer_id_t peer);
  /// Removes a pin. False if the piece was not pinned.
  bool unpin_piece(std::uint32_t index);
  /// The peer a piece is pinned to, or no_peer.
  peer_id_t pinned_peer(std::uint32_t index) const noexcept;

  // -- stats ------------------------------------------------------------------

  /// Bytes of verified pieces.
  std::uint64_t bytes_have() const noexcept { return bytes_have_; }
  /// Pieces with some block requested or received (or pinned), not yet verified.
  std::size_t pieces_in_progress() const noexcept { return downloads_.size(); }
  /// Distinct blocks currently requested from at least one peer.
  std::size_t num_requested_blocks() const noexcept { return num_requested_blocks_; }
  /// (peer, block) requests outstanding; exceeds num_requested_blocks() only
  /// in endgame.
  std::size_t num_outstanding_requests() const noexcept { return num_outstanding_; }
  /// Blocks received for pieces not yet verified.
  std::size_t num_received_blocks() const noexcept { return num_received_blocks_; }
  /// Whether every missing piece has been started (endgame may duplicate).
  bool all_pieces_started() const noexcept {
    return downloads_.size() >= num_pieces_ - num_have_ - num_unwanted_missing_;
  }

  /// Checks every internal invariant in O(N + peers * N/8); for tests.
  /// Returns an empty string or a description of the first violation.
  std::string self_check();

private:
  static constexpr std::uint32_t npos32 = std::numeric_limits<std::uint32_t>::max();

  struct block_key {
    std::uint32_t piece;
    std::uint32_t block;
    friend bool operator==(const block_key&, const block_key&) = default;
  };

  struct block_slot {
    std::array<peer_id_t, max_requesters_limit> requesters{};
    peer_id_t sender = no_peer;
    std::uint8_t num_requesters = 0;
    bool received = false;

    bool is_free() const noexcept { return !received && num_requesters == 0; }
    bool requested_by(peer_id_t p) const noexcept;
  };

  struct download {
    std::uint32_t piece = 0;
    std::uint32_t num_received = 0;
    std::uint32_t num_requested = 0; // blocks with a requester, not received
    std::uint32_t first_free = 0;    // every block before it is not free
    peer_id_t pinned = no_peer;
    std::uint64_t mark = 0;          // pick() epoch, see pick()
    std::vector<block_slot> blocks;

    std::uint32_t num_blocks() const noexcept {
      return static_cast<std::uint32_t>(blocks.size());
    }
    std::uint32_t num_free() const noexcept {
      return num_blocks() - num_received - num_requested;
    }
  };

  struct peer_state {
    bool seed = false;
    bitfield bits;                      // empty until the first piece (or seed)
    std::vector<block_key> outstanding; // requests not yet delivered
    std::deque<block_key> late;         // dropped requests whose data may come
    std::vector<std::uint32_t> pinned;  // pieces pinned to this peer
    std::uint32_t last_piece = npos32;  // piece of the last request made to it
  };

  explicit piece_picker(const piece_picker_config& cfg);

  /// A random number in [1, n) coprime to n (1 when n <= 2 or none found fast).
  std::uint64_t random_coprime(std::uint64_t n) noexcept;

  // geometry
  std::uint32_t block_length(std::uint32_t piece, std::uint32_t block) const noexcept;
  block_request to_request(block_key k) const noexcept;
  /// Validates a request from outside; npos32 piece when invalid.
  block_key to_key(std::uint32_t piece, std::uint32_t offset, std::uint32_t length) const noexcept;

  // availability buckets
  void bucket_insert(std::uint32_t piece, std::uint32_t avail);
  void bucket_remove(std::uint32_t piece, std::uint32_t avail) noexcept;
  void inc_avail(std::uint32_t piece);
  void dec_avail(std::uint32_t piece);
  void apply_bits(const bitfield& bits, bool add);
  void forget_bits(peer_state& ps);
  void rebuild_buckets();

  static bool has(const peer_state& ps, std::uint32_t piece) noexcept {
    return ps.seed || ps.bits.test(piece);
  }
  peer_state& peer_ref(peer_id_t peer);
  const peer_state* find_peer(peer_id_t peer) const noexcept;
  peer_state* find_peer(peer_id_t peer) noexcept;

  // downloads
  download* find_download(std::uint32_t piece) noexcept;
  const download* find_download(std::uint32_t piece) const noexcept;
  std::uint32_t start_download(std::uint32_t piece);
  void drop_download(std::uint32_t piece);
  void maybe_drop_download(std::uint32_t piece);
  void add_request(download& d, std::uint32_t block, peer_id_t peer, peer_state& ps);
  /// Removes `peer` from the block's requesters (not from ps.outstanding).
  bool remove_requester(download& d, std::uint32_t block, peer_id_t peer);
  static bool erase_outstanding(peer_state& ps, block_key k) noexcept;
  void remember_late(peer_state& ps, block_key k);
  static bool take_late(peer_state& ps, block_key k) noexcept;
  std::size_t hand_back_all(peer_id_t peer, peer_state& ps, bool remember);
  bool drop_request(peer_id_t peer, const block_request& b, bool remember);

  // picking
  void take_blocks(std::uint32_t slot, peer_id_t peer, peer_state& ps, std::size_t max,
                   std::vector<block_request>& out);
  bool startable(const peer_state& ps, std::uint32_t piece) const noexcept;
  void pick_new_pieces(peer_id_t peer, peer_state& ps, std::size_t max,
                       std::vector<block_request>& out);
  void pick_endgame(peer_id_t peer, peer_state& ps, std::size_t max,
                    std::vector<block_request>& out);

  piece_picker_config cfg_;
  std::uint32_t num_pieces_ = 0;
  std::uint32_t last_piece_size_ = 0;
  splitmix64 rng_{0};

  bitfield have_;
  std::uint32_t num_have_ = 0;
  std::vector<bool> unwanted_;             // pieces of unselected files
  std::uint32_t num_unwanted_missing_ = 0; // unwanted and not had
  std::uint64_t bytes_have_ = 0;

  // Availability (non-seed peers) per piece; missing pieces are kept in
  // buckets_[avail] (unordered), bucket_pos_ is their index there.
  std::vector<std::uint32_t> avail_;
  std::vector<std::uint32_t> bucket_pos_;
  std::vector<std::vector<std::uint32_t>> buckets_;
  bool dirty_ = false; // buckets_ stale, rebuilt on the next pick()
  std::uint32_t num_seeds_ = 0;

  std::unordered_map<peer_id_t, peer_state> peers_;

  // Pieces in progress; slot_[piece] indexes downloads_ or is npos32.
  std::vector<download> downloads_;
  std::vector<std::uint32_t> slot_;
  std::uint64_t epoch_ = 0;

  std::size_t num_requested_blocks_ = 0;
  std::size_t num_outstanding_ = 0;
  std::size_t num_received_blocks_ = 0;
};

} // namespace actorrent::logic
