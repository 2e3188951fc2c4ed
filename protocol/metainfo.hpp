// Metainfo (.torrent) loading: BEP 3 v1 single- and multi-file torrents, BEP 12
// tracker tiers, BEP 19 url-list, BEP 27 private flag, BEP 47 pad files and file
// attributes. Hybrid v1/v2 torrents (BEP 52) load as v1; v2-only ones are
// rejected as unsupported.
//
// Every path is sanitised so that it stays inside the download directory: `..`,
// `.` and empty components are dropped, separators inside a component split it,
// absolute paths become relative, NUL and control characters become '_', over-long
// components are shortened, and duplicate paths get a ".N" suffix.
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent {

/// Bounds for hostile files; defaults accept every real torrent we know of.
struct metainfo_limits {
  std::size_t max_file_bytes = 64 * 1024 * 1024;   ///< size of the .torrent itself
  std::size_t max_pieces = 1u << 21;                ///< as libtorrent's default
  std::size_t max_files = 1'000'000;
  std::size_t max_path_depth = 128;                 ///< components in one path
  std::size_t max_component_bytes = 255;            ///< longer ones are shortened
  std::uint64_t max_piece_length = 512ull << 20;    ///< 512 MiB
  std::uint64_t max_total_size = 1ull << 53;        ///< 8 PiB
  std::size_t max_bencode_depth = 100;
};

struct file_entry {
  std::string path;        ///< relative to the download directory, '/'-separated
  std::uint64_t size = 0;
  std::uint64_t offset = 0; ///< of its first byte in the torrent's byte stream
  bool pad = false;         ///< BEP 47 pad file: zeroes, never written to disk
  bool executable = false;
  bool hidden = false;
  bool symlink = false;
  std::string symlink_target; ///< sanitised, relative to the torrent's root
};

struct metainfo {
  std::string name;            ///< sanitised top-level name
  sha1_hash info_hash;         ///< SHA-1 over the exact bytes of `info`
  std::uint64_t piece_length = 0;
  std::uint64_t total_size = 0; ///< pad files included
  std::string piece_hashes;    ///< 20 bytes per piece
  std::vector<file_entry> files;
  bool multi_file = false;
  bool is_private = false;
  bool hybrid = false;         ///< also carries v2 metadata (ignored for now)
  std::vector<std::vector<std::string>> trackers; ///< BEP 12 tiers
  std::vector<std::string> url_list;
  std::string comment;
  std::string created_by;
  std::optional<std::int64_t> creation_date;

  std::size_t num_pieces() const { return piece_hashes.size() / 20; }
  sha1_hash piece_hash(std::size_t index) const;
  /// Length of piece `index` (the last one may be shorter).
  std::uint64_t piece_size(std::size_t index) const;
  /// All tracker URLs, tier by tier.
  std::vector<std::string> all_trackers() const;
};

/// Parses and validates a .torrent file's bytes.
result<metainfo> parse_metainfo(std::string_view bytes, const metainfo_limits& lim = {});

/// Reads a .torrent file from disk (bounded by `lim.max_file_bytes`) and parses it.
result<metainfo> load_metainfo_file(const std::string& path, const metainfo_limits& lim = {});

/// Sanitises one path element as a list of components; exposed for tests and
/// for `create`. Returns the components that remain (possibly none).
std::vector<std::string> sanitize_path_element(std::string_view element,
                                               std::size_t max_component_bytes = 255);

} // namespace actorrent
