// A token bucket for a rate limit in bytes per second, and the smoothed rate
// a peer connection reports every second. Plain classes: the caller passes
// the time, so tests drive them with any clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace actorrent::logic {

/// Tokens are bytes. The bucket fills at `rate` bytes/s up to a burst of half a
/// second's worth (at least `min_burst`, so one block of that size always
/// fits). A rate of 0 means unlimited: every take succeeds.
class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  explicit token_bucket(double min_burst = 16 * 1024) : min_burst_(min_burst) {}

  /// Sets the rate (bytes/s, 0: unlimited). Switching a limit on starts with
  /// an empty bucket, so a new limit cannot be exceeded by a stale burst.
  void set_rate(double bytes_per_second, clock::time_point now);

  bool limited() const noexcept { return rate_ > 0; }
  double rate() const noexcept { return rate_; }
  double tokens() const noexcept { return tokens_; }
  double burst() const noexcept;

  /// Adds the tokens earned since the last refill.
  void refill(clock::time_point now);

  /// Refills, then takes `n` tokens if the bucket holds them.
  bool take(std::uint64_t n, clock::time_point now);

  /// How long until the bucket holds `n` tokens (zero when it does, or when
  /// unlimited); `n` above the burst is treated as the burst.
  clock::duration wait_for(std::uint64_t n) const;

private:
  double min_burst_;
  double rate_ = 0;
  double tokens_ = 0;
  clock::time_point refilled_{};
};

/// Bytes counted as they pass, turned into a rate once a second.
class rate_meter {
public:
  void add(std::uint64_t n) noexcept {
    total_ += n;
    this_tick_ += n;
  }
  /// Call once a second: the rate becomes 0.6 of the old one plus 0.4 of the
  /// bytes of the last second. Returns those bytes.
  std::uint64_t tick() noexcept;

  std::uint64_t total() const noexcept { return total_; }
  double rate() const noexcept { return rate_; }

private:
  std::uint64_t total_ = 0;
  std::uint64_t this_tick_ = 0;
  double rate_ = 0;
};

} // namespace actorrent::logic
