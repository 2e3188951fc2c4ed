// Writing v1 .torrent files in canonical bencoding (sorted keys), so the same
// input always gives the same bytes and the same info-hash.
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actorrent {

struct torrent_spec {
  struct file {
    std::vector<std::string> path; ///< components below the torrent's name
    std::uint64_t size = 0;
    bool executable = false;
  };
  std::string name;
  bool multi_file = false;     ///< false: exactly one file, stored as `length`
  std::vector<file> files;
  std::uint64_t piece_length = 0;
  std::string piece_hashes;    ///< 20 bytes per piece
  std::vector<std::vector<std::string>> trackers; ///< BEP 12 tiers
  std::vector<std::string> url_list;
  bool is_private = false;
  std::string comment;
  std::string created_by;
  std::optional<std::int64_t> creation_date;
};

/// Checks `spec` (piece count matches the sizes, names non-empty, ...) and
/// returns the bencoded file.
result<std::string> write_metainfo(const torrent_spec& spec);

/// The piece length `create` picks when none is given: a power of two from
/// 16 KiB to 16 MiB giving about 1,000 to 2,000 pieces.
std::uint64_t default_piece_length(std::uint64_t total_size);

} // namespace actorrent
