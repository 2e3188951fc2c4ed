// Lists the content to put into a new torrent: one file, or a directory tree in
// a deterministic (bytewise sorted) order.
#pragma once

#include "protocol/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace actorrent::storage {

struct scanned_file {
  std::vector<std::string> components; ///< below the top-level name
  std::string full_path;
  std::uint64_t size = 0;
  bool executable = false;
};

struct scanned_content {
  std::string name;      ///< base name of the path
  bool is_directory = false;
  std::vector<scanned_file> files;
  std::uint64_t total_size = 0;
  std::vector<std::string> skipped; ///< special files and symbolic links left out
};

/// Regular files only. Symbolic links are never followed, as download and seed
/// never follow them in a torrent's tree: links below a directory are skipped
/// (listed in `skipped`), a `path` that is itself a link is an error. Errors
/// name the path.
result<scanned_content> scan_content(const std::string& path);

} // namespace actorrent::storage
