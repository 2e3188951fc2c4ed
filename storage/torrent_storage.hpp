// The disk side of one torrent: reads and writes blocks in the torrent's files
// below a download directory, hashes and verifies pieces, and checks which
// pieces already exist on disk.
//
// Safety: every file is reached from the download directory component by
// component (openat/mkdirat with O_NOFOLLOW), so a symbolic link planted inside
// the download tree never redirects a read or a write outside it; paths that
// are absolute or contain "." / ".." / empty components are refused when the
// storage is opened. Pad files and symlink entries are never opened.
//
// Files are opened lazily and kept in a bounded LRU cache of descriptors; a
// file is created sparse (ftruncate to its full size) when first written.
//
// Thread safety: every method may be called from several threads at once; the
// descriptor cache and the set of files to sync are guarded by an internal
// mutex and the I/O itself (pread/pwrite on shared descriptors) runs outside
// it. Concurrent writes to, or a write and a read of, the same bytes give
// unspecified data, as with any file. A moved-from torrent_storage may only be
// destroyed or assigned to.
#pragma once

#include "protocol/metainfo.hpp"
#include "protocol/result.hpp"
#include "protocol/sha1.hpp"
#include "storage/file_layout.hpp"
#include "storage/mapped_file.hpp"
#include "storage/resume_data.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::storage {

struct storage_options {
  /// Upper bound on cached open descriptors (at least 1). Descriptors in use by
  /// an ongoing read or write stay open until it finishes.
  std::size_t max_open_files = 64;
};

/// Success if `path` is relative, '/'-separated, and has no empty, "." or ".."
/// component and no NUL byte.
status validate_relative_path(std::string_view path);

class torrent_storage {
public:
  /// Called from worker threads with the number of pieces hashed so far and
  /// the number to hash.
  using progress_fn = std::function<void(std::size_t done, std::size_t total)>;

  /// Prepares storage for `mi` below `root`, creating `root` (and its parents)
  /// if needed. No file inside it is created or opened yet. Fails on an
  /// inconsistent layout, an unsafe path or an unusable root.
  static result<torrent_storage> open(const metainfo& mi, const std::string& root,
                                      const storage_options& opts = {});

  torrent_storage(torrent_storage&&) noexcept;
  torrent_storage& operator=(torrent_storage&&) noexcept;
  ~torrent_storage();

  const file_layout& layout() const;
  const std::string& root() const;

  /// Writes a block at (piece, offset); it may span several files. Fails
  /// before writing anything if the block does not fit the piece or has
  /// non-zero bytes over a pad file (see file_layout::check_pad: that error is
  /// the sender's fault; call check_pad first to tell the two apart). Other
  /// errors name the file and the errno text. Creates directories and files
  /// as needed.
  status write(std::size_t piece, std::uint64_t offset, std::span<const std::uint8_t> data);

  /// Reads a block; pad bytes read as zeroes. Fails (naming the file) if a file
  /// is missing or shorter than it should be.
  status read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) const;

  /// A block as a view into a read-only shared mapping of its file (see
  /// storage/mapped_file.hpp; read it only through the kernel or copy_mapped):
  /// the bytes stay valid while `mapping` is held. nullopt when the block is
  /// not one range of one file on disk (it straddles files, or touches a pad or
  /// a skipped file), or its file is missing, shorter than the torrent says or
  /// cannot be mapped: read() it instead (which also names the problem).
  /// Nothing is read here: see populate_pages().
  struct mapped_range {
    std::shared_ptr<const file_mapping> mapping;
    const char* data = nullptr;
  };
  std::optional<mapped_range> map_range(std::size_t piece, std::uint64_t offset, std::uint64_t length) const;

  /// SHA-1 of piece `piece` as it is on disk.
  result<sha1_hash> hash_piece(std::size_t piece) const;

  /// True if the piece on disk matches its hash in the metainfo (false on any
  /// error, including a missing file).
  bool verify_piece(std::size_t piece) const;

  /// Starts writing the piece's dirty pages out to the device without waiting
  /// for it (sync_file_range SYNC_FILE_RANGE_WRITE), so that the flush at the end
  /// has little left to wait for. Best effort: an error here changes nothing,
  /// flush() still syncs everything.
  void start_writeback(std::size_t piece);

  /// fdatasync()s every file written since the last successful flush. On an
  /// error (naming the file) the files not yet synced stay pending.
  status flush();

  /// Which pieces already verify from the data on disk. Pieces touching a file
  /// that is missing, or shorter than the bytes the piece needs, are false
  /// without being read. Creates nothing. Closes the cached descriptors first,
  /// so that files deleted or replaced behind our back are seen as they are. Hashes on `threads` threads (0: one
  /// per core), in the background with `nice` above 0 (see hash_in_parallel). Fails on I/O errors other than "does not exist", and on
  /// symbolic links in the way.
  ///
  /// With `only` (one entry per piece, else an error), only the pieces p with
  /// (*only)[p] are looked at; the others come back false. Pieces whose bytes
  /// on disk all lie in holes of sparse files (SEEK_DATA/SEEK_HOLE; where the
  /// filesystem can't tell, everything counts as data) are not read: they read
  /// as zeroes, so they are true exactly when the piece's hash is that of
  /// zeroes. `progress` counts only the pieces actually hashed: its `total` is
  /// their number.
  result<std::vector<bool>> check_existing(unsigned threads = 0, progress_fn progress = {},
                                           const std::vector<bool>* only = nullptr, int nice = 0) const;

  /// stat() of every file of the layout, in layout order, reached the same
  /// safe way as reads (no symlink followed). A missing file (or directory on
  /// the way) is exists = false. Pad files and symlink entries are never
  /// looked at: they get {true, their size, 0}. Fails on other errors, on a
  /// symbolic link in the way, and on something that is not a regular file.
  result<std::vector<file_stamp>> file_stamps() const;

  /// Creates every file that is not a pad file or symlink entry, at its full
  /// size (sparse), including zero-length files, with their directories.
  status create_all_files();

  /// Cuts file `file_index` to the size the torrent gives it if it is longer
  /// (reached the safe way; a missing file is left missing). Errors name the file.
  status truncate_to_size(std::size_t file_index);

  /// Files not selected (--select-file): `skip` has one flag per file of the
  /// layout. A skipped file is never created, opened, written or stamped
  /// (file_stamps() reports it absent, so resume data never vouches for a piece
  /// touching it); the bytes of it that a piece holds are written to and read
  /// from the part file `part_path` (relative to the root, reached the same
  /// safe way, created with its directories on first write) at their offset
  /// in the torrent, so the part file is sparse and only the boundary pieces
  /// that are downloaded take space. Call before any I/O.
  status skip_files(const std::vector<bool>& skip, const std::string& part_path);

  /// Closes every cached descriptor and drops the file mappings of map_range
  /// (views still held stay valid; both reopen on demand).
  void close_files();

  /// Number of descriptors currently in the cache.
  std::size_t open_file_count() const;

  /// root + "/" + the file's path, as used in error messages.
  std::string full_path(std::size_t file_index) const;

private:
  struct impl;
  explicit torrent_storage(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace actorrent::storage
