#include "lab/units.hpp"

#include "protocol/text.hpp"

#include <array>
#include <optional>
#include <utility>

namespace actorrent::lab {

namespace {

/// "12.5" + unit: the digits as an integer and how many of them follow the point.
struct decimal {
  std::uint64_t mantissa = 0;
  unsigned decimals = 0;
};

/// Splits `text` into a decimal number and the unit after it. At most 18
/// digits, at most one point, digits on both sides of it.
std::optional<std::pair<decimal, std::string_view>> split_number(std::string_view text) {
  decimal d;
  std::size_t i = 0, digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      if (++digits > 18)
        return std::nullopt;
      d.mantissa = d.mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      if (point)
        ++d.decimals;
    } else if (c == '.' && !point && digits > 0) {
      point = true;
    } else {
      break;
    }
  }
  if (digits == 0 || (point && d.decimals == 0))
    return std::nullopt;
  return std::pair{d, text.substr(i)};
}

/// mantissa * mult / 10^decimals when that is a whole number no larger than `max`.
std::optional<std::uint64_t> scale(decimal d, std::uint64_t mult, std::uint64_t max) {
  unsigned __int128 v = static_cast<unsigned __int128>(d.mantissa) * mult;
  unsigned __int128 div = 1;
  for (unsigned i = 0; i < d.decimals; ++i)
    div *= 10;
  if (v % div != 0)
    return std::nullopt;
  v /= div;
  if (v > max)
    return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

struct unit {
  std::string_view name;
  std::uint64_t mult;
};

std::optional<std::uint64_t> parse_with(std::string_view text, const unit* units, std::size_t n,
                                        std::uint64_t max, bool unit_required) {
  auto split = split_number(text);
  if (!split)
    return std::nullopt;
  auto [d, u] = *split;
  if (u.empty()) {
    if (unit_required || d.decimals != 0)
      return std::nullopt;
    return scale(d, 1, max);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (units[i].name == u)
      return scale(d, units[i].mult, max);
  return std::nullopt;
}

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024;

constexpr std::array size_units{
  unit{"B", 1},           unit{"KB", 1000},      unit{"MB", 1000'000}, unit{"GB", 1000'000'000},
  unit{"TB", 1000'000'000'000}, unit{"KiB", KiB}, unit{"MiB", MiB},   unit{"GiB", GiB},
  unit{"TiB", TiB},       unit{"K", KiB},        unit{"M", MiB},       unit{"G", GiB},
  unit{"T", TiB}};

constexpr std::array duration_units{unit{"ms", 1}, unit{"s", 1000}, unit{"m", 60'000}, unit{"h", 3600'000}};

constexpr std::array rate_units{
  unit{"bit", 1},          unit{"kbit", 1000},         unit{"mbit", 1000'000},    unit{"gbit", 1000'000'000},
  unit{"B/s", 8},          unit{"KB/s", 8'000},        unit{"MB/s", 8'000'000},   unit{"GB/s", 8'000'000'000},
  unit{"KiB/s", 8 * KiB},  unit{"MiB/s", 8 * MiB},     unit{"GiB/s", 8 * GiB}};

std::string got(std::string_view text) { return ", got " + text::quote(text); }

} // namespace

result<std::uint64_t> parse_size(std::string_view text) {
  if (auto v = parse_with(text, size_units.data(), size_units.size(), max_size_bytes, false))
    return *v;
  return make_error("expected a size like 64MiB, 256KiB or 1000000B (at most 1TiB)" + got(text));
}

result<std::uint64_t> parse_duration_ms(std::string_view text) {
  if (auto v = parse_with(text, duration_units.data(), duration_units.size(), max_duration_ms, true))
    return *v;
  return make_error("expected a duration like 10s, 250ms or 2m (at most a week)" + got(text));
}

result<std::uint64_t> parse_rate_bits(std::string_view text) {
  if (auto v = parse_with(text, rate_units.data(), rate_units.size(), max_rate_bits, true); v && *v > 0)
    return *v;
  return make_error("expected a rate like 20mbit, 500kbit or 5MB/s (more than 0, at most 100gbit)" + got(text));
}

result<std::uint32_t> parse_percent_ppm(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    auto split = split_number(text.substr(0, text.size() - 1));
    if (split && split->second.empty())
      if (auto v = scale(split->first, 10'000, 1'000'000))
        return static_cast<std::uint32_t>(*v);
  }
  return make_error("expected a percentage like 1% or 0.5% (0% to 100%, at most 4 decimals)" + got(text));
}

namespace {

/// `v` / `div` with up to `max_decimals` decimals (trailing zeros dropped).
std::string fixed(std::uint64_t v, std::uint64_t div, unsigned max_decimals) {
  std::string s = std::to_string(v / div);
  auto rest = v % div;
  if (rest == 0)
    return s;
  s.push_back('.');
  for (unsigned i = 0; i < max_decimals && rest != 0; ++i) {
    rest *= 10;
    s.push_back(static_cast<char>('0' + rest / div));
    rest %= div;
  }
  return s;
}

} // namespace

std::string format_size(std::uint64_t bytes) {
  for (auto [name, mult] : {std::pair{"TiB", TiB}, std::pair{"GiB", GiB}, std::pair{"MiB", MiB}, std::pair{"KiB", KiB}})
    if (bytes >= mult && bytes % mult == 0)
      return std::to_string(bytes / mult) + name;
  return std::to_string(bytes) + "B";
}

std::string format_duration_ms(std::uint64_t ms) {
  if (ms >= 1000 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_rate_bits(std::uint64_t bits) {
  for (auto [name, mult] : {std::pair{"gbit", 1000'000'000ull}, std::pair{"mbit", 1000'000ull}, std::pair{"kbit", 1000ull}})
    if (bits >= mult && bits % mult == 0)
      return std::to_string(bits / mult) + name;
  return std::to_string(bits) + "bit";
}

std::string format_percent_ppm(std::uint32_t ppm) { return fixed(ppm, 10'000, 4) + "%"; }

std::string tc_rate(std::uint64_t bits) { return std::to_string(bits) + "bit"; }

std::string tc_time_us(std::uint64_t us) { return std::to_string(us) + "us"; }

std::string tc_percent(std::uint32_t ppm) { return format_percent_ppm(ppm); }

} // namespace actorrent::lab
