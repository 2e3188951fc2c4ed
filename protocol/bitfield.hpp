// The piece bitfield (BEP 3): one bit per piece, most significant bit first,
// in exactly the byte layout of the wire `bitfield` message.
#pragma once

#include "protocol/result.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace actorrent {

/// A fixed-size set of piece indices stored as the BitTorrent wire bitfield:
/// piece `i` is bit `0x80 >> (i % 8)` of byte `i / 8`.
///
/// Invariant: the spare bits of the last byte (those past `size()`) are always
/// zero, so `bytes()` can be sent as-is and equality compares bytes.
///
/// Index arguments are bounds-checked rather than trusted: `test()` of an index
/// `>= size()` is false and `set()`/`clear()` of one do nothing, so a piece index
/// taken straight from a peer can never write out of bounds.
class bitfield {
public:
  /// Returned by the `find_*` functions when there is no such bit.
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  /// Number of bytes needed to hold `bits` bits.
  static constexpr std::size_t bytes_for(std::size_t bits) noexcept {
    return bits / 8 + (bits % 8 != 0 ? 1 : 0);
  }

  bitfield() = default;
  /// `num_bits` bits, all set to `value`.
  explicit bitfield(std::size_t num_bits, bool value = false);

  /// Validates the payload of a wire `bitfield` message for a torrent with
  /// `num_pieces` pieces: it must be exactly bytes_for(num_pieces) bytes long and
  /// must not set any spare bit past the last piece. Errors:
  /// "bitfield has 5 bytes, expected 4 for 30 pieces" and
  /// "bitfield sets spare bit 31 beyond 30 pieces" (offset: the byte holding it).
  static result<bitfield> from_wire(std::span<const std::uint8_t> bytes,
                                    std::size_t num_pieces);

  /// Number of bits (pieces).
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Number of bytes of the wire form, bytes_for(size()).
  std::size_t num_bytes() const noexcept { return bytes_.size(); }

  /// Whether bit `i` is set; false when `i >= size()`.
  bool test(std::size_t i) const noexcept {
    return i < size_ && (bytes_[i / 8] & mask(i)) != 0;
  }
  bool operator[](std::size_t i) const noexcept { return test(i); }
  /// Sets bit `i`; does nothing when `i >= size()`.
  void set(std::size_t i) noexcept {
    if (i < size_)
      bytes_[i / 8] = static_cast<std::uint8_t>(bytes_[i / 8] | mask(i));
  }
  /// Clears bit `i`; does nothing when `i >= size()`.
  void clear(std::size_t i) noexcept {
    if (i < size_)
      bytes_[i / 8] = static_cast<std::uint8_t>(bytes_[i / 8] & ~mask(i));
  }
  /// Sets or clears bit `i`; does nothing when `i >= size()`.
  void assign(std::size_t i, bool value) noexcept {
    if (value)
      set(i);
    else
      clear(i);
  }

  /// Sets every bit (spare bits stay zero).
  void set_all() noexcept;
  /// Clears every bit.
  void clear_all() noexcept;

  /// Number of set bits (word-wise popcount).
  std::size_t count() const noexcept;
  /// Whether every bit is set (true for an empty bitfield).
  bool all() const noexcept;
  /// Whether no bit is set (true for an empty bitfield).
  bool none() const noexcept;
  bool any() const noexcept { return !none(); }

  /// Index of the first set bit at or after `from`, or npos.
  std::size_t find_next_set(std::size_t from = 0) const noexcept;
  /// Index of the first clear bit at or after `from`, or npos.
  std::size_t find_next_clear(std::size_t from = 0) const noexcept;

  /// Whether some bit set here is clear in `other`, i.e. whether a peer with
  /// this bitfield has a piece that `other` lacks ("interesting"). Bits past
  /// `other.size()` count as clear in `other`.
  bool has_any_not_in(const bitfield& other) const noexcept;

  /// Changes the number of bits, keeping the first min(old, new) bits; added bits
  /// are `value`, bits dropped by shrinking are gone (spare bits stay zero).
  void resize(std::size_t num_bits, bool value = false);

  /// The wire bytes (bytes_for(size()) of them, spare bits zero), valid until the
  /// next resize or destruction.
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

  friend bool operator==(const bitfield&, const bitfield&) = default;

private:
  static constexpr std::uint8_t mask(std::size_t i) noexcept {
    return static_cast<std::uint8_t>(0x80u >> (i % 8));
  }
  /// Mask of the valid bits in the last byte (0xFF when size() % 8 == 0).
  std::uint8_t last_byte_mask() const noexcept;
  void clear_spare_bits() noexcept;

  std::size_t size_ = 0;
  std::vector<std::uint8_t> bytes_;
};

} // namespace actorrent
