// The one piece-hashing pipeline of the project, used by the disk store's
// batches (actors/disk_store), the start-up check (torrent_storage::
// check_existing) and `create` (piece_hasher).
//
// Full-length pieces are hashed side by side, one per SIMD lane of the SHA-1
// kernel (protocol/sha1_multi: 16 lanes with AVX-512, 8 with AVX2), fed in
// chunks of at most `chunk` bytes (256 KiB) of each piece at a time
// (sha1_stream), so memory stays bounded whatever the piece length. A piece of
// another length (the torrent's last one) is hashed on its own. Where the bytes
// come from is the caller's: a piece_source reads them (from files, a torrent's
// storage) or hands out parts already in memory (blocks as they came off the
// wire), which are hashed without a copy.
//
// CAF-free. A batch_hasher is used by one thread at a time; hash_in_parallel()
// runs one per thread.
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace actorrent::storage {

/// Where the bytes of pieces come from.
class piece_source {
public:
  virtual ~piece_source() = default;

  /// Fills `out` with the bytes of piece `piece` starting `offset` bytes into
  /// it. true: done; false: the piece is not there (its digest is marked
  /// absent, the other pieces go on); an error stops the whole run.
  virtual result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) = 0;

  /// For a piece held in memory in parts of hash_settings::memory_part bytes:
  /// the part that starts `offset` bytes into the piece (a multiple of the
  /// part length). nullptr at offset 0: the piece is read with read(). Called
  /// with offset 0 first; a piece in memory must then answer every part.
  virtual const std::uint8_t* memory(std::size_t /*piece*/, std::uint64_t /*offset*/) { return nullptr; }
};

struct hash_settings {
  std::uint64_t piece_length = 0; ///< every piece but the last (>= 1)
  std::uint64_t total_size = 0;   ///< of the content; the last piece is what is left
  /// Full pieces hashed side by side; 0 (and at most): as many as the SHA-1
  /// kernel has lanes (16 with AVX-512, 1 for OpenSSL).
  std::size_t lanes = 0;
  /// Bytes of each piece read at a time (rounded down to a multiple of 64 and of
  /// memory_part; never more than the piece length).
  std::size_t chunk = 256 * 1024;
  /// Part length of pieces the source holds in memory (a multiple of 64 that
  /// divides the piece length); 0: no piece is in memory.
  std::size_t memory_part = 0;
};

/// The digest of one piece; `present` false when the source said the piece
/// is not there (its hash is then meaningless).
struct piece_digest {
  sha1_hash hash;
  bool present = false;
};

class batch_hasher {
public:
  /// Settings out of range are brought into range (see hash_settings).
  explicit batch_hasher(const hash_settings& s);

  /// Full pieces hashed side by side in one pass.
  std::size_t lanes() const { return lanes_; }
  /// Bytes read per piece at a time.
  std::size_t chunk() const { return chunk_; }

  /// Length of piece `piece` (0 past the end).
  std::uint64_t piece_size(std::size_t piece) const;

  /// Number of pieces of the content.
  std::size_t num_pieces() const;

  /// Hashes pieces[i] into out[i] (out.size() == pieces.size()), full-length
  /// pieces in groups of lanes(). A piece past the end is absent. The read
  /// buffer holds one chunk per piece of a group that is read, none for those
  /// in memory; it is kept for the next call.
  status hash(std::span<const std::size_t> pieces, piece_source& src, std::span<piece_digest> out);

  /// Bytes the read buffer holds now (for tests).
  std::size_t buffer_bytes() const { return buffer_.size(); }

private:
  status hash_group(std::span<const std::size_t> pieces, piece_source& src, std::span<piece_digest> out);
  status hash_alone(std::size_t piece, piece_source& src, piece_digest& out);

  hash_settings settings_;
  std::size_t lanes_ = 1;
  std::size_t chunk_ = 0;
  std::size_t part_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t*> slots_;
  std::vector<const std::uint8_t*> ptrs_;
};

/// Called with the number of pieces hashed so far and the number to hash.
using hash_progress_fn = std::function<void(std::size_t done, std::size_t total)>;

/// Hashes pieces[i] into out[i] on `threads` threads (0: one per core; at most
/// one per group of lanes() pieces), each with its own batch_hasher taking
/// groups of consecutive entries. `src` must allow concurrent calls.
/// `progress` is called once per piece, from the worker threads. The first
/// error stops every thread and is returned.
/// With `nice` above 0 the work is background work: every worker runs on a
/// thread of its own whose scheduling priority is lowered by `nice` (the
/// caller only waits), so that hashing on every core does not slow the
/// threads that answer peers and API calls.
/// A job of fewer than `background_min_bytes` (pieces times the piece length)
/// is hashed at once, as if `nice` were 0.
status hash_in_parallel(const hash_settings& s, std::span<const std::size_t> pieces, piece_source& src,
                        unsigned threads, std::span<piece_digest> out, const hash_progress_fn& progress = {},
                        int nice = 0);

/// Below this many bytes, a background job runs on the caller's thread.
inline constexpr std::uint64_t background_min_bytes = 16 << 20;


} // namespace actorrent::storage
