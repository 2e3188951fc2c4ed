// Multi-buffer SHA-1: hashes several equal-length buffers at once, one per
// SIMD lane (16 with AVX-512, 8 with AVX2). SHA-1 is sequential within one
// message, so a single piece cannot go faster than OpenSSL's ~550 MB/s on the
// project's machines; independent pieces side by side can. Verifying pieces
// is the largest CPU cost of a download, so the disk store and the piece
// hashers gather pieces into batches and hash them here.
#pragma once

#include "protocol/sha1.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace actorrent {

enum class sha1_kernel {
  scalar, ///< OpenSSL, one buffer at a time
  avx2,   ///< 8 lanes
  avx512, ///< 16 lanes (AVX-512 F + BW)
};

/// "scalar", "avx2" or "avx512".
const char* to_string(sha1_kernel k);
std::optional<sha1_kernel> sha1_kernel_from_string(std::string_view name);

/// Buffers hashed side by side by one call of the kernel (1 for scalar).
std::size_t sha1_lanes(sha1_kernel k);

/// Whether this CPU (and its OS) runs the kernel.
bool sha1_kernel_available(sha1_kernel k);

/// The widest available kernel, unless the environment variable
/// ACTORRENT_SHA1 (scalar, avx2 or avx512) names a narrower one. Read once.
sha1_kernel sha1_default_kernel();

/// SHA-1 of each of the `count` buffers `data[i]`, all `len` bytes long, into
/// `out[i]`. Buffers beyond a multiple of the lane count are hashed with a
/// narrower kernel, so any count works. `k` must be available.
void sha1_many(const std::uint8_t* const* data, std::size_t count, std::size_t len, sha1_hash* out,
               sha1_kernel k);

inline void sha1_many(const std::uint8_t* const* data, std::size_t count, std::size_t len,
                      sha1_hash* out) {
  sha1_many(data, count, len, out, sha1_default_kernel());
}

/// As sha1_many, for buffers kept in `parts` separate parts of `part_len` bytes
/// each (blocks of a piece as they came off the wire): part j of buffer i is
/// data[i * parts + j]. With more than one part, part_len must be a multiple
/// of 64 (invalid_argument otherwise).
void sha1_many_parts(const std::uint8_t* const* data, std::size_t count, std::size_t parts, std::size_t part_len,
                     sha1_hash* out, sha1_kernel k);

inline void sha1_many_parts(const std::uint8_t* const* data, std::size_t count, std::size_t parts,
                            std::size_t part_len, sha1_hash* out) {
  sha1_many_parts(data, count, parts, part_len, out, sha1_default_kernel());
}

/// The kernel sha1_many uses for `count` buffers when allowed up to `k`: a
/// SIMD call costs the same with idle lanes, so a few buffers go narrower.
sha1_kernel sha1_kernel_for(std::size_t count, sha1_kernel k);

/// Up to 16 equal-length messages hashed side by side and fed in chunks, so a
/// group of big pieces needs only a chunk of each in memory at a time.
class sha1_stream {
public:
  /// `count` messages, with kernel `k` or the narrower one sha1_kernel_for
  /// picks for that count. `count` is 1 to sha1_lanes(k) (any for scalar).
  explicit sha1_stream(std::size_t count, sha1_kernel k = sha1_default_kernel());

  /// The next `len` bytes of every message: data[i] for message i. `len` must
  /// be a multiple of 64 except in the last call (std::logic_error after it).
  void update(const std::uint8_t* const* data, std::size_t len);

  /// The digests into out[0..count).
  void finish(sha1_hash* out);

  sha1_kernel kernel() const { return kernel_; }

private:
  std::size_t count_;
  sha1_kernel kernel_ = sha1_kernel::scalar;
  std::vector<sha1_hasher> scalar_;
  alignas(64) std::array<std::uint32_t, 5 * 16> state_{};
  std::array<std::array<std::uint8_t, 128>, 16> tail_{};
  std::size_t rest_ = 0; ///< bytes of the last partial block, in tail_
  std::uint64_t total_ = 0;
  bool closed_ = false;
};

namespace detail {

// The compression function over `nblocks` 64-byte blocks of each lane, the
// state stored lane-minor: state[word * lanes + lane]. Defined in
// sha1_multi_avx2.cpp / sha1_multi_avx512.cpp, which alone are compiled with
// those instruction sets.
void sha1_blocks_avx2(const std::uint8_t* const* lanes, std::size_t nblocks, std::uint32_t* state);
void sha1_blocks_avx512(const std::uint8_t* const* lanes, std::size_t nblocks, std::uint32_t* state);

} // namespace detail

} // namespace actorrent
