// Resume data: what a torrent's storage looked like at the last save, so that a
// restart (after a clean exit or a crash) re-hashes only what may have changed
// instead of every piece.
//
// A resume file records the pieces verified at the time and, for every file of
// the layout, whether it existed, its size and its modification time in
// nanoseconds. On restart the caller reads the file, stats the files again
// (torrent_storage::file_stamps) and asks plan_resume which pieces to trust and
// which to hash (torrent_storage::check_existing with the `to_check` mask).
//
// Why trusting a verified piece of an unchanged file is sound:
//  - we are the only writer of the download directory and we never rewrite a
//    piece once it has verified, so the bytes of a verified piece only change
//    if someone else changes them;
//  - such an external change can't be told apart from one of our own writes
//    to the same file (both only move the size or the mtime), so as soon as a
//    file's stamp differs from the saved one, every piece touching that file is
//    hashed again, verified or not;
//  - pieces that were not verified at the save are always hashed: they may
//    have been completed after it (a crash between two saves), or written in
//    the same timestamp tick as the stamp was taken, so the stamp says nothing
//    about them. check_existing skips cheaply the ones with no data on disk.
// What it can't see: a change that keeps a file's size and restores its mtime
// (e.g. `touch -r`). Only a full check (no resume data) catches that.
//
// Saving: flush() the storage first, so that every piece the file says is
// verified is durable before the record that says so, then take the stamps,
// then write_resume_file (which replaces the file atomically).
//
// Nothing here trusts the bytes of a resume file: decoding is strict, and any
// mismatch with the torrent (info-hash, piece or file count) is an error, after
// which the caller ignores the file and does a full check.
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"
#include "storage/file_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::storage {

/// What stat() said about one file of the layout.
struct file_stamp {
  bool exists = false;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0; ///< st_mtim in nanoseconds since the epoch (may be negative)

  bool operator==(const file_stamp&) const = default;
};

struct resume_data {
  sha1_hash info_hash;
  std::vector<bool> pieces;      ///< verified pieces, one per piece of the layout
  std::vector<file_stamp> files; ///< one per layout file, in layout order
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t seconds_active = 0;

  bool operator==(const resume_data&) const = default;
};

/// The value of the "version" key this code writes and accepts.
inline constexpr std::int64_t resume_format_version = 1;

/// The largest resume file accepted for `layout`: what encode_resume can
/// produce for its piece and file count, with room to spare.
std::size_t max_resume_size(const file_layout& layout);

/// The bencoded resume file (canonical: sorted keys, so equal data gives equal
/// bytes):
///
///     d
///       10:downloaded i<bytes>e
///       5:files l l i<0|1>e i<size>e i<mtime_ns>e e ... e
///       9:info-hash 20:<raw info-hash>
///       6:pieces <bitfield: BEP 3 wire layout, spare bits zero>
///       14:seconds-active i<n>e
///       8:uploaded i<bytes>e
///       7:version i1e
///     e
///
/// A missing file is [0 0 0] (its size and mtime_ns are not written). Sizes
/// and counters above INT64_MAX are written as INT64_MAX (bencode integers are
/// signed 64-bit).
std::string encode_resume(const resume_data& data);

/// Decodes a resume file for the torrent with `layout` and `expected_info_hash`.
/// Strict: unknown, missing or unsorted keys, a wrong version, info-hash, piece
/// or file count, spare bits set in the bitfield, negative sizes or counters,
/// an `exists` flag other than 0 or 1, a missing file with a non-zero size or
/// mtime, values of the wrong type, and input over max_resume_size(layout) are
/// errors that say what is wrong.
result<resume_data> decode_resume(std::string_view bytes, const file_layout& layout,
                                  const sha1_hash& expected_info_hash);

/// Writes `data` to `path` atomically: into `path.tmp-<pid>` in the same
/// directory, fsync, rename over `path`, fsync the directory. Creates the
/// directory (and its parents) if missing. On failure the temporary file is
/// removed and `path` is as it was; the error names the path and the errno
/// text. One writer per path at a time (the temporary name is per process).
status write_resume_file(const std::string& path, const resume_data& data);

/// Reads and decodes `path`. A missing file (ENOENT) is not an error: it gives
/// std::nullopt ("no resume data"). Every other failure is an error: a file
/// larger than max_resume_size(layout), I/O errors, and anything
/// decode_resume rejects ("corrupt": ignore it and check everything).
result<std::optional<resume_data>> read_resume_file(const std::string& path, const file_layout& layout,
                                                    const sha1_hash& expected_info_hash);

/// What to do with each piece on restart. For every piece exactly one of
/// trusted[p] and to_check[p] is true.
struct resume_plan {
  std::vector<bool> trusted;  ///< verified at the save and nothing it touches changed
  std::vector<bool> to_check; ///< hash it (it may or may not be on disk)
};

/// A file matches when its stamp in `now` equals the saved one (exists, size
/// and mtime_ns). Pad files and zero-length files always match (they are never
/// read from disk). trusted[p] = saved.pieces[p] and every file piece p touches
/// matches; to_check[p] = !trusted[p]. If `saved` or `now` does not have one
/// entry per piece / file of `layout`, nothing is trusted.
resume_plan plan_resume(const file_layout& layout, const resume_data& saved,
                        const std::vector<file_stamp>& now);

} // namespace actorrent::storage
