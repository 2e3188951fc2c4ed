// Quantities in swarm-lab plans: sizes ("64MiB"), durations ("10s", "250ms"),
// rates ("20mbit", "5MB/s") and loss ("1%"). CAF-free; every parser takes
// untrusted text and returns a value or an error saying what was expected.
#pragma once

#include "protocol/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace actorrent::lab {

inline constexpr std::uint64_t max_size_bytes = 1ull << 40;          // 1 TiB
inline constexpr std::uint64_t max_duration_ms = 7ull * 24 * 3600 * 1000; // a week
inline constexpr std::uint64_t max_rate_bits = 100'000'000'000ull;   // 100 gbit/s

/// Bytes: a number with a unit B, KB/MB/GB/TB (1000-based), KiB/MiB/GiB/TiB or
/// K/M/G/T (1024-based), or a plain integer (bytes); at most 1 TiB. Fractions are
/// allowed with a unit ("1.5MiB") and must give a whole number of bytes.
result<std::uint64_t> parse_size(std::string_view text);

/// Milliseconds: a number with a unit ms, s, m (minutes) or h ("250ms", "1.5s",
/// "2m"); at most a week; a whole number of milliseconds.
result<std::uint64_t> parse_duration_ms(std::string_view text);

/// Bits per second: bit, kbit, mbit, gbit (1000-based, as tc counts), or bytes
/// per second B/s, KB/s, MB/s, GB/s (1000-based), KiB/s, MiB/s, GiB/s; more
/// than 0 and at most 100 gbit/s.
result<std::uint64_t> parse_rate_bits(std::string_view text);

/// A percentage "0.5%" or "20%", from 0 to 100, as parts per million of the
/// whole (0.5% -> 5000), so it stays exact for tc.
result<std::uint32_t> parse_percent_ppm(std::string_view text);

/// Printed forms (round-trip through the parsers above).
std::string format_size(std::uint64_t bytes);       // "64MiB", "1000B"
std::string format_duration_ms(std::uint64_t ms);   // "10s", "250ms", "1500ms"
std::string format_rate_bits(std::uint64_t bits);   // "20mbit", "1500kbit", "7bit"
std::string format_percent_ppm(std::uint32_t ppm);  // "0.5%", "20%"

/// The tc forms: "20000000bit", "250ms"/"250000us", "0.5%".
std::string tc_rate(std::uint64_t bits);
std::string tc_time_us(std::uint64_t us);
std::string tc_percent(std::uint32_t ppm);

} // namespace actorrent::lab
