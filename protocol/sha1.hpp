// SHA-1 through OpenSSL's EVP interface, plus the 20-byte hash type used for
// info-hashes, piece hashes and peer ids.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actorrent {

/// A 20-byte SHA-1 digest (also the shape of a peer id).
struct sha1_hash {
  std::array<std::uint8_t, 20> bytes{};

  static constexpr std::size_t size = 20;

  /// Lower-case, 40 hex digits.
  std::string hex() const;
  /// The 20 raw bytes as a string.
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  /// Parses exactly 40 hex digits (either case).
  static std::optional<sha1_hash> from_hex(std::string_view hex);
  /// Copies exactly 20 raw bytes; nullopt on any other length.
  static std::optional<sha1_hash> from_bytes(std::string_view raw);

  bool is_zero() const;
  auto operator<=>(const sha1_hash&) const = default;
};

/// One-shot SHA-1 of a byte range.
sha1_hash sha1(const void* data, std::size_t len);
inline sha1_hash sha1(std::string_view data) { return sha1(data.data(), data.size()); }

/// Incremental SHA-1 (move-only; owns an EVP_MD_CTX).
class sha1_hasher {
public:
  sha1_hasher();
  ~sha1_hasher();
  sha1_hasher(sha1_hasher&& other) noexcept;
  sha1_hasher& operator=(sha1_hasher&& other) noexcept;
  sha1_hasher(const sha1_hasher&) = delete;
  sha1_hasher& operator=(const sha1_hasher&) = delete;

  void update(const void* data, std::size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Returns the digest and resets the hasher for reuse.
  sha1_hash finish();

private:
  void* ctx_; // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of ours
};

/// Hex helpers shared by the codecs.
std::string to_hex(std::string_view raw);

} // namespace actorrent

template <>
struct std::hash<actorrent::sha1_hash> {
  std::size_t operator()(const actorrent::sha1_hash& h) const noexcept {
    std::size_t out = 0;
    for (std::size_t i = 0; i < sizeof(std::size_t); ++i)
      out = (out << 8) | h.bytes[i];
    return out;
  }
};
