#include "protocol/bitfield.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace actorrent {

namespace {

// Loads 8 bytes as a big-endian word, so that bit 63 is the first bit on the
// wire (the compiler turns this into a load plus bswap).
std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | p[i];
  return v;
}

std::uint64_t load_native64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

} // namespace

bitfield::bitfield(std::size_t num_bits, bool value)
  : size_(num_bits), bytes_(bytes_for(num_bits), value ? 0xFF : 0x00) {
  clear_spare_bits();
}

result<bitfield> bitfield::from_wire(std::span<const std::uint8_t> bytes,
                                     std::size_t num_pieces) {
  const auto expected = bytes_for(num_pieces);
  if (bytes.size() != expected)
    return make_error("bitfield has " + std::to_string(bytes.size()) + " bytes, expected "
                      + std::to_string(expected) + " for " + std::to_string(num_pieces)
                      + " pieces");
  bitfield out;
  out.size_ = num_pieces;
  out.bytes_.assign(bytes.begin(), bytes.end());
  if (num_pieces % 8 != 0) {
    const auto last = out.bytes_.back();
    const auto spare = static_cast<std::uint8_t>(last & ~out.last_byte_mask());
    if (spare != 0) {
      // The first spare bit that is set, counted as a piece index.
      const auto bit = (expected - 1) * 8 + static_cast<std::size_t>(std::countl_zero(spare));
      return make_error("bitfield sets spare bit " + std::to_string(bit) + " beyond "
                          + std::to_string(num_pieces) + " pieces",
                        expected - 1);
    }
  }
  return out;
}

std::uint8_t bitfield::last_byte_mask() const noexcept {
  const auto rem = size_ % 8;
  return rem == 0 ? std::uint8_t{0xFF} : static_cast<std::uint8_t>(0xFF00u >> rem);
}

void bitfield::clear_spare_bits() noexcept {
  if (!bytes_.empty())
    bytes_.back() = static_cast<std::uint8_t>(bytes_.back() & last_byte_mask());
}

void bitfield::set_all() noexcept {
  std::fill(bytes_.begin(), bytes_.end(), std::uint8_t{0xFF});
  clear_spare_bits();
}

void bitfield::clear_all() noexcept {
  std::fill(bytes_.begin(), bytes_.end(), std::uint8_t{0});
}

std::size_t bitfield::count() const noexcept {
  const auto* p = bytes_.data();
  const auto n = bytes_.size();
  std::size_t total = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    total += static_cast<std::size_t>(std::popcount(load_native64(p + i)));
  for (; i < n; ++i)
    total += static_cast<std::size_t>(std::popcount(p[i]));
  return total;
}

bool bitfield::all() const noexcept {
  if (bytes_.empty())
    return true;
  const auto* p = bytes_.data();
  const auto full = bytes_.size() - 1; // every byte but the last must be 0xFF
  std::size_t i = 0;
  for (; i + 8 <= full; i += 8)
    if (load_native64(p + i) != ~std::uint64_t{0})
      return false;
  for (; i < full; ++i)
    if (p[i] != 0xFF)
      return false;
  return bytes_.back() == last_byte_mask();
}

bool bitfield::none() const noexcept {
  const auto* p = bytes_.data();
  const auto n = bytes_.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    if (load_native64(p + i) != 0)
      return false;
  for (; i < n; ++i)
    if (p[i] != 0)
      return false;
  return true;
}

std::size_t bitfield::find_next_set(std::size_t from) const noexcept {
  if (from >= size_)
    return npos;
  const auto* p = bytes_.data();
  const auto n = bytes_.size();
  auto byte = from / 8;
  const auto first = static_cast<std::uint8_t>(p[byte] & (0xFFu >> (from % 8)));
  if (first != 0)
    return byte * 8 + static_cast<std::size_t>(std::countl_zero(first));
  ++byte;
  for (; byte + 8 <= n; byte += 8)
    if (auto w = load_be64(p + byte); w != 0)
      return byte * 8 + static_cast<std::size_t>(std::countl_zero(w));
  for (; byte < n; ++byte)
    if (p[byte] != 0)
      return byte * 8 + static_cast<std::size_t>(std::countl_zero(p[byte]));
  return npos; // spare bits are zero, so every hit above is < size_
}

std::size_t bitfield::find_next_clear(std::size_t from) const noexcept {
  if (from >= size_)
    return npos;
  const auto* p = bytes_.data();
  const auto n = bytes_.size();
  auto hit = [this](std::size_t bit) { return bit < size_ ? bit : npos; };
  auto byte = from / 8;
  const auto first = static_cast<std::uint8_t>(~p[byte] & (0xFFu >> (from % 8)));
  if (first != 0)
    return hit(byte * 8 + static_cast<std::size_t>(std::countl_zero(first)));
  ++byte;
  for (; byte + 8 <= n; byte += 8)
    if (auto w = ~load_be64(p + byte); w != 0)
      return hit(byte * 8 + static_cast<std::size_t>(std::countl_zero(w)));
  for (; byte < n; ++byte)
    if (auto b = static_cast<std::uint8_t>(~p[byte]); b != 0)
      return hit(byte * 8 + static_cast<std::size_t>(std::countl_zero(b)));
  return npos;
}

bool bitfield::has_any_not_in(const bitfield& other) const noexcept {
  const auto* a = bytes_.data();
  const auto* b = other.bytes_.data();
  const auto n = bytes_.size();
  const auto common = std::min(n, other.bytes_.size());
  std::size_t i = 0;
  for (; i + 8 <= common; i += 8)
    if ((load_native64(a + i) & ~load_native64(b + i)) != 0)
      return true;
  for (; i < common; ++i)
    if ((a[i] & ~b[i]) != 0)
      return true;
  // other's spare bits are zero, so its short last byte was handled above;
  // whatever lies past other's bytes is missing from it.
  for (; i < n; ++i)
    if (a[i] != 0)
      return true;
  return false;
}

void bitfield::resize(std::size_t num_bits, bool value) {
  const auto old = size_;
  bytes_.resize(bytes_for(num_bits), 0);
  size_ = num_bits;
  if (value && num_bits > old) {
    auto i = old;
    for (; i < num_bits && i % 8 != 0; ++i)
      set(i);
    if (i < num_bits) // i is byte-aligned here: every later byte is fresh
      std::fill(bytes_.begin() + static_cast<std::ptrdiff_t>(i / 8), bytes_.end(),
                std::uint8_t{0xFF});
  }
  clear_spare_bits();
}

} // namespace actorrent
