// Maps byte ranges of a torrent (piece, offset in piece, length) onto the files
// that hold them. Files are laid end to end in metainfo order; BEP 47 pad files
// take part in the byte stream but are never on disk (they read as zeroes and
// must be written as zeroes); zero-length files and symlink entries take no
// bytes at all and never appear in a mapping.
//
// A file_layout is immutable after creation, so every const method is safe to
// call from several threads at once.
#pragma once

#include "protocol/metainfo.hpp"
#include "protocol/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace actorrent::storage {

/// One contiguous part of a mapped range that lies inside one file.
struct file_slice {
  std::size_t file_index = 0;     ///< index into metainfo::files
  std::uint64_t file_offset = 0;  ///< first byte inside that file
  std::uint64_t length = 0;       ///< always > 0
  std::uint64_t buffer_offset = 0; ///< where this part starts inside the mapped range
  bool pad = false;               ///< a pad file: zeroes, not on disk

  bool operator==(const file_slice&) const = default;
};

class file_layout {
public:
  /// Copies the geometry out of `mi` and checks that it is consistent: a
  /// positive piece length, contiguous file offsets adding up to total_size,
  /// one 20-byte hash per piece, symlink entries of size 0. (parse_metainfo
  /// guarantees all of this; the check matters for hand-built metainfo.)
  static result<file_layout> create(const metainfo& mi);

  std::uint64_t piece_length() const noexcept { return piece_length_; }
  std::uint64_t total_size() const noexcept { return total_size_; }
  std::size_t num_pieces() const noexcept { return num_pieces_; }
  /// Length of piece `piece` (the last one may be shorter); 0 if out of range.
  std::uint64_t piece_size(std::size_t piece) const noexcept;

  std::size_t num_files() const noexcept { return files_.size(); }
  const file_entry& file(std::size_t index) const { return files_[index]; }
  const std::vector<file_entry>& files() const noexcept { return files_; }

  /// Success if [offset, offset + length) lies inside piece `piece`.
  status check_block(std::size_t piece, std::uint64_t offset, std::uint64_t length) const;

  /// The file slices of a block inside one piece, in order, in O(log files +
  /// slices). Fails (without mapping) if the block does not fit the piece.
  result<std::vector<file_slice>> map_block(std::size_t piece, std::uint64_t offset,
                                            std::uint64_t length) const;

  /// The file slices of [torrent_offset, torrent_offset + length), clamped to
  /// the torrent's size.
  std::vector<file_slice> map_range(std::uint64_t torrent_offset, std::uint64_t length) const;

  /// BEP 47: pad data is zeroes. Fails if `data`, a block at (piece, offset),
  /// has a non-zero byte where it overlaps a pad file, which means the sender
  /// sent corrupt data. The error's offset is the index of the first bad byte
  /// inside `data`. Also fails if the block does not fit the piece.
  status check_pad(std::size_t piece, std::uint64_t offset,
                   std::span<const std::uint8_t> data) const;

  /// Pieces [first, end) that hold bytes of file `file_index`; empty (first ==
  /// end) for zero-length files and symlink entries.
  struct piece_range {
    std::size_t first = 0;
    std::size_t end = 0;
  };
  piece_range file_pieces(std::size_t file_index) const;

private:
  file_layout() = default;

  std::vector<file_entry> files_;
  std::uint64_t piece_length_ = 0;
  std::uint64_t total_size_ = 0;
  std::size_t num_pieces_ = 0;
  /// Indices of the files with size > 0, and their offsets (strictly
  /// increasing), for the binary search.
  std::vector<std::size_t> data_files_;
  std::vector<std::uint64_t> data_offsets_;
};

} // namespace actorrent::storage
