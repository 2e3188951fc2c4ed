// splitmix64: an 8-byte pseudo-random generator (a UniformRandomBitGenerator),
// the same sequence on every platform. Where a daemon holds one per torrent
// (announcers, pickers), std::mt19937_64 would cost 2.5 KB each.
#pragma once

#include <cstdint>
#include <limits>

namespace actorrent::logic {

struct splitmix64 {
  using result_type = std::uint64_t;

  std::uint64_t state = 0;

  splitmix64() = default;
  explicit splitmix64(std::uint64_t seed) noexcept : state(seed) {}

  void seed(std::uint64_t s) noexcept { state = s; }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    state += 0x9e3779b97f4a7c15ull;
    auto z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, n) for n > 0 (multiply-shift; bias below n / 2^64).
  std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>((*this)()) * n) >> 64);
  }
};

} // namespace actorrent::logic
