// The choker: decides which peers we upload to (unchoke) and which we refuse
// (choke), as a plain, single-threaded class (an actor wraps it).
//
// The class never reads a clock: the caller runs round() every 10 s and passes
// the time in, so tests replay any schedule exactly. It keeps its own memory
// between rounds (who holds which slot since when, who was last unchoked
// when); the caller describes the connected peers afresh each time and sends
// the choke/unchoke messages the class returns.
//
// Slots: `regular_slots` regular slots plus `optimistic_slots` optimistic ones.
//
// Regular slots while leeching (we still download): tit-for-tat. The interested
// peers that give us the most bytes/s get the slots: uploading to them is what
// keeps them uploading to us. Snubbed peers (they sent us nothing for a while)
// never get a regular slot. Slots left over (few peers give us anything yet)
// go to the remaining interested peers, longest waiting first: an idle slot
// helps nobody.
//
// Regular slots while seeding: round robin, not fastest-upload. A seed's job is
// to put distinct pieces into many hands so that the leechers can trade among
// themselves; giving the slots to whoever downloads fastest would let one fast
// peer (or a few) monopolise the seed, and everything it takes is worth less to
// the swarm than the same bytes spread over more peers. So a peer holds its
// slot for at most `seed_slot_time` (or until it got `seed_slot_quota` bytes,
// if that is set), then goes to the back of the line; the interested peers
// that have waited longest since they were last unchoked take the freed slots
// (ties: higher upload rate, then lower id). A holder whose time is up keeps
// its slot while nobody else is waiting: choking it would gain nothing.
//
// Optimistic slots (both modes): each goes to an interested peer without a
// regular slot, new peers first (never unchoked, connected within
// `new_peer_window`: they have no rate to be judged by and need a first piece
// to trade with), then the one waiting longest since it was last unchoked.
// It stays `optimistic_period` unless it leaves, loses interest, or earns a
// regular slot (then the optimistic slot goes to someone else at once). This is
// how a peer gets a first chance to show it uploads well, and how a snubbed
// peer gets a second one (snubbed peers may be chosen optimistically).
// Deterministic rather than random like the original client's: tests can
// predict it, and "waited longest" is fair without a random source.
//
// Never unchoked: seeds (they have every piece and would request nothing) and
// peers not interested. An unchoked peer that lost interest is choked at the
// next round even when slots are free (as libtorrent does): a slot held by a
// peer that requests nothing is wasted, and should it become interested again
// on_interested() unchokes it at once if a slot is free.
//
// Complexity: round() is O(n log n) in the number of peers passed;
// on_interested() is O(number of remembered peers); memory is O(peers that
// were ever unchoked and not yet forgotten).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace actorrent::logic {

using choker_clock = std::chrono::steady_clock;

struct choker_config {
  /// Regular unchoke slots (0 leaves only the optimistic ones).
  std::uint32_t regular_slots = 4;
  /// Optimistic unchoke slots.
  std::uint32_t optimistic_slots = 1;
  /// How long an optimistic peer keeps its slot (three 10 s rounds).
  std::chrono::seconds optimistic_period{30};
  /// Seeding: how long a peer keeps a regular slot while others wait.
  std::chrono::seconds seed_slot_time{30};
  /// Seeding: bytes after which a peer's regular slot also ends early; 0 means
  /// time only. Off by default: the choker does not know the piece length, and
  /// a quota below one piece would leave peers with partial pieces they cannot
  /// trade yet; a caller that sets it should use a few pieces' worth.
  std::uint64_t seed_slot_quota = 0;
  /// A peer never unchoked and connected less than this ago is "new" and goes
  /// first for the optimistic slot.
  std::chrono::seconds new_peer_window{30};
};

/// What the caller knows of one connected peer at this moment.
struct choker_peer {
  std::uint32_t id = 0;
  /// The peer wants to download from us.
  bool interested = false;
  /// The peer has every piece.
  bool is_seed = false;
  /// We download from it, but it sent us nothing for a timeout. Only
  /// meaningful while we download; a seed should pass false.
  bool snubbed = false;
  /// Bytes/s the peer gives us.
  double down_rate = 0;
  /// Bytes/s we give the peer.
  double up_rate = 0;
  /// Total bytes we sent the peer (only used for seed_slot_quota).
  std::uint64_t uploaded = 0;
  /// When the connection was established.
  choker_clock::time_point connected_at{};
};

/// Changes only: peers to send unchoke, peers to send choke (each sorted by id).
struct choke_decision {
  std::vector<std::uint32_t> unchoke;
  std::vector<std::uint32_t> choke;
};

class choker {
public:
  explicit choker(choker_config cfg = {}) : cfg_(cfg) {}

  /// Runs one choking round over the connected peers (call every 10 s). Peers
  /// remembered but absent from `peers` are treated as gone and forgotten
  /// (no choke is sent to them). `seeding`: we have every piece.
  choke_decision round(std::span<const choker_peer> peers, bool seeding,
                       choker_clock::time_point now);

  /// `peer` just became interested between rounds. Returns true (and counts it
  /// as holding a regular slot) when it is eligible, not yet unchoked, and a
  /// regular slot is free: the caller unchokes it now instead of letting it
  /// wait for the next round.
  bool on_interested(const choker_peer& peer, choker_clock::time_point now);

  /// The peer is gone: free its slot and forget when it was last unchoked.
  void forget(std::uint32_t id) { peers_.erase(id); }

  /// Whether the peer holds a slot (regular or optimistic).
  bool is_unchoked(std::uint32_t id) const;

  /// Number of peers holding a slot.
  std::size_t unchoked_count() const;

  /// The peers holding an optimistic slot, sorted by id.
  std::vector<std::uint32_t> optimistic() const;

  const choker_config& config() const noexcept { return cfg_; }

  /// New slot counts (the daemon's global cap shares them out). Fewer slots
  /// take effect at the next round(), more at once for on_interested().
  void set_slots(std::uint32_t regular, std::uint32_t optimistic) {
    cfg_.regular_slots = regular;
    cfg_.optimistic_slots = optimistic;
  }

private:
  enum class slot { none, regular, optimistic };

  // What the choker remembers of a peer it unchoked at least once.
  struct memory {
    slot held = slot::none;
    // When the current slot began (regular or optimistic).
    choker_clock::time_point since{};
    // `uploaded` when the current regular slot began (for the quota).
    std::uint64_t uploaded_at_start = 0;
    // When it lost its last slot (valid once it held one; `held` is none).
    choker_clock::time_point last_unchoked{};
  };

  std::size_t count(slot s) const;

  choker_config cfg_;
  std::unordered_map<std::uint32_t, memory> peers_;
};

} // namespace actorrent::logic
