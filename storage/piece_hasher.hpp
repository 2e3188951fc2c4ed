// Hashes the v1 pieces of files laid end to end, on several threads (used by
// `actorrent create`), through the batch hasher (storage/batch_hasher.hpp).
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace actorrent::storage {

/// One file of the concatenated content. `path` empty means zeroes (a pad file).
struct hash_source {
  std::string path;
  std::uint64_t size = 0;
};

struct hash_options {
  std::uint64_t piece_length = 256 * 1024;
  unsigned threads = 0; ///< 0: one per core
  /// Called from worker threads with the number of pieces hashed so far.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

/// SHA-1 of every piece of the concatenation of `files`. Reads with pread, one
/// piece buffer per thread; fails with the file name on any I/O error or if a
/// file is shorter than its stated size.
result<std::vector<sha1_hash>> hash_pieces(const std::vector<hash_source>& files,
                                           const hash_options& opts);

} // namespace actorrent::storage
