// The schedule of the lab's userspace delayer (lab/delayer.*), which gives a
// packets of a peer's link their `delay` and `jitter` on a kernel without netem:
// each packet is held until arrival + delay + a jitter drawn uniformly from
// [-jitter, +jitter] (netem's default, without a distribution table), at least 0.
// The draws come from the plan's seed and a name (the peer's), so the same seed
// and the same arrivals give the same schedule.
//
// Order: packets of one flow (same protocol, addresses and ports) are never
// reordered: a packet is not released before the one of its flow before it
// (its release time is raised to that one's). netem reorders packets when
// jitter exceeds their spacing; TCP reads that as loss (duplicate ACKs, fast
// retransmits), which would make jitter a loss fault too. Packets of different
// flows may pass each other.
//
// Bounded: at most `capacity` packets held; a packet arriving at a full line is
// refused (the caller drops it) and counted. CAF-free, no I/O: the caller gives
// the times (microseconds on any monotonic clock).
#pragma once

#include "lab/plan.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace actorrent::lab {

struct delay_line_config {
  std::uint64_t delay_us = 0;
  std::uint64_t jitter_us = 0;
  std::size_t capacity = 1000; ///< packets held at most (netem's default limit)
};

class delay_line {
public:
  /// `seed` and `purpose` (e.g. "delay-leechers-1") seed the jitter draws.
  delay_line(const delay_line_config& cfg, std::uint64_t seed, std::string_view purpose);

  /// A packet `id` of flow `flow` arrives at `now_us`: its release time, or
  /// nothing when the line is full (the packet is to be dropped; counted).
  std::optional<std::uint64_t> admit(std::uint32_t id, std::uint64_t flow, std::uint64_t now_us);
  /// When the next held packet is due (nothing when none is held).
  std::optional<std::uint64_t> next_release() const;
  /// Appends the ids due at `now_us` to `out`, earliest first (ties in arrival order).
  void take_due(std::uint64_t now_us, std::vector<std::uint32_t>& out);
  /// Appends every held id to `out` in release order (shutting down: let them go now).
  void take_all(std::uint64_t now_us, std::vector<std::uint32_t>& out);

  std::size_t held() const { return heap_.size(); }
  std::size_t max_held() const { return max_held_; }
  /// Packets released so far (their delay given).
  std::uint64_t delayed() const { return delayed_; }
  /// Packets refused because the line was full.
  std::uint64_t dropped() const { return dropped_; }
  /// Sum and maximum of the time released packets were held (µs).
  std::uint64_t total_hold_us() const { return total_hold_us_; }
  std::uint64_t max_hold_us() const { return max_hold_us_; }
  /// Packets whose release was raised to keep their flow in order.
  std::uint64_t order_waits() const { return order_waits_; }
  /// Flows with packets held now (the table never outgrows the held packets).
  std::size_t flows() const { return flows_.size(); }

private:
  struct entry {
    std::uint64_t release, seq, arrival, flow;
    std::uint32_t id;
    bool operator>(const entry& o) const { return release != o.release ? release > o.release : seq > o.seq; }
  };
  struct flow_state {
    std::uint64_t last_release = 0;
    std::size_t pending = 0;
  };
  void release_top(std::uint64_t now_us, std::vector<std::uint32_t>& out);

  delay_line_config cfg_;
  seeded_rng rng_;
  std::priority_queue<entry, std::vector<entry>, std::greater<entry>> heap_;
  std::unordered_map<std::uint64_t, flow_state> flows_;
  std::uint64_t seq_ = 0, delayed_ = 0, dropped_ = 0, total_hold_us_ = 0, max_hold_us_ = 0, order_waits_ = 0;
  std::size_t max_held_ = 0;
};

} // namespace actorrent::lab
