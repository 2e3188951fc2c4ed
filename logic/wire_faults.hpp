// The wire-fault layer's plan and decisions (issue 12, "Faults -> Wire level"):
// what a deliberately misbehaving actorrent peer does on the peer wire, parsed
// from a spec string, and the deterministic choices it makes. CAF-free; the
// peer connection carries the behaviours out (actors/wire_fault_hooks.*).
//
//   corrupt_blocks=20%,claim_unserved=10%,seed=42,peer=liars-1
//
// Names and values are those of a lab plan's `behavior:` map (lab/plan.cpp),
// in the printed form the plan keeps ("20%", "true", "2s", "20mbit"), so the
// lab turns a group's behaviour into `--wire-fault` by joining key=value
// pairs. A flag may be given bare ("snub"); a bare percentage means 100%, a
// bare choke_flapping 1s, a bare slow_reads 1mbit. "false" and "0%" turn a
// behaviour off. `seed=N` and `peer=NAME` feed the decisions; a few aliases
// are accepted (fake_have and fake_bitfield for claim_unserved, free_riding,
// snubbing, unknown_ids, flood).
//
// Decisions are a pure function of (seed, peer name, piece, block): whether a
// block is corrupted is a 64-bit mix of them compared with the share, so the
// same seed corrupts the same blocks on every run and every connection.
#pragma once

#include "protocol/result.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace actorrent::logic {

/// Every misbehaviour of issue 12, in the lab plan's names.
enum class wire_behavior : std::uint8_t {
  corrupt_blocks,        ///< percent: a share of the blocks we upload have bytes flipped
  claim_unserved,        ///< percent: a share of the pieces are claimed (bitfield/have) and never served
  bad_bitfield_length,   ///< flag: our bitfield has one byte too many
  have_out_of_range,     ///< flag: a have for a piece past the end
  oversize_length,       ///< flag: a message length prefix far over any limit
  unknown_messages,      ///< flag: messages with ids no extension uses, every few seconds
  truncated_handshake,   ///< flag: half a handshake, then silence
  wrong_info_hash,       ///< flag: a handshake naming another torrent
  requests_out_of_range, ///< flag: a request for a piece past the end
  request_flood,         ///< flag: thousands of requests at once
  unrequested_pieces,    ///< flag: a block nobody asked for
  choke_flapping,        ///< duration: choke/unchoke the remote every period (at least 1 s)
  free_ride,             ///< flag: never unchoke, never upload
  snub,                  ///< flag: unchoke, then never answer a request
  slow_reads,            ///< rate: read from the socket no faster than this
};
inline constexpr std::size_t wire_behavior_count = 15;

/// The value each behaviour takes.
enum class wire_value { percent, flag, duration, rate };

std::string_view to_string(wire_behavior b);
wire_value value_type(wire_behavior b);

/// Every behaviour, in order.
const std::array<wire_behavior, wire_behavior_count>& all_wire_behaviors();

/// Whether a peer doing `b` sends data that fails a hash check (what honest
/// peers must ban it for: the lab's misbehaving_banned oracle).
bool sends_bad_data(wire_behavior b);

/// A parsed spec. `value[b]` is 0 when off; otherwise parts per million
/// (percent), 1 (flag), milliseconds (duration) or bits/s (rate).
struct wire_fault_spec {
  std::uint64_t seed = 0;
  std::string peer;  ///< the misbehaving peer's name, mixed into every decision
  std::array<std::uint64_t, wire_behavior_count> value{};

  std::uint64_t get(wire_behavior b) const { return value[static_cast<std::size_t>(b)]; }
  bool on(wire_behavior b) const { return get(b) != 0; }
  /// At least one behaviour is on.
  bool any() const;
  /// The canonical spec: "corrupt_blocks=20%,snub=true,seed=42,peer=liars-1"
  /// (behaviours in order; parses back to the same spec).
  std::string to_string() const;
};

/// Parses a comma-separated spec. Empty (or only blanks) is an empty spec (all
/// off). Unknown names, bad values, names given twice and a peer name with
/// anything but letters, digits, '-', '_' and '.' are errors naming the item.
result<wire_fault_spec> parse_wire_fault_spec(std::string_view text);

/// The spec string of a lab plan's behaviour entries (key, printed value),
/// with the decisions' seed and the peer's name.
std::string wire_fault_spec_string(const std::vector<std::pair<std::string, std::string>>& entries,
                                   std::uint64_t seed, const std::string& peer);

/// What a torrent's wire-fault layer actually did, cumulative over spec
/// changes. Shared by the torrent and its peer connections (which run on
/// other threads): counters are atomic, the per-peer map is locked.
class wire_fault_counters {
public:
  void add(wire_behavior b, std::uint64_t n = 1) {
    counts_[static_cast<std::size_t>(b)].fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t get(wire_behavior b) const { return counts_[static_cast<std::size_t>(b)].load(std::memory_order_relaxed); }

  /// Corrupted blocks sent to the connection with this index (the torrent's peer index).
  void corrupted_to(std::uint32_t peer_index, std::uint64_t n = 1);
  std::map<std::uint32_t, std::uint64_t> corrupted_by_peer() const;

  /// {"wire.corrupt_blocks": "12", ...}: every behaviour that did something.
  std::map<std::string, std::string> values() const;

private:
  std::array<std::atomic<std::uint64_t>, wire_behavior_count> counts_{};
  mutable std::mutex mtx_;
  std::map<std::uint32_t, std::uint64_t> corrupted_;
};

/// One active spec and its decisions; immutable once built (a new spec is a
/// new object), so connections on any thread read it without locks.
class wire_faults {
public:
  wire_faults(wire_fault_spec spec, std::shared_ptr<wire_fault_counters> counters);

  const wire_fault_spec& spec() const { return spec_; }
  bool on(wire_behavior b) const { return spec_.on(b); }
  wire_fault_counters& counters() const { return *counters_; }

  /// Whether the block at `block` (offset / 16 KiB) of `piece` is corrupted.
  bool corrupt(std::uint32_t piece, std::uint32_t block) const;
  /// Whether `piece` is claimed to every peer and never served.
  bool unserved(std::uint32_t piece) const;

  /// The decision mix: 64 bits from (seed, peer, purpose, piece, block).
  static std::uint64_t mix(std::uint64_t seed, std::string_view peer, std::uint32_t purpose, std::uint32_t piece,
                           std::uint32_t block);

private:
  bool below_share(std::uint32_t purpose, std::uint32_t piece, std::uint32_t block, std::uint64_t ppm) const;

  wire_fault_spec spec_;
  std::shared_ptr<wire_fault_counters> counters_;
};

} // namespace actorrent::logic
