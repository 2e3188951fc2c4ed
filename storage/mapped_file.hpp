// Read-only shared mappings of a torrent's files, for uploads: a block is
// written to the socket straight from the page cache (writev from the
// mapping) instead of being copied by pread into a buffer first.
//
// A page of a mapping whose file was cut shorter behind our back raises
// SIGBUS when user space touches it; the kernel, copying it for a syscall,
// fails that syscall with EFAULT instead. So the mapped bytes are only ever
// read by the kernel (writev, madvise) or through copy_mapped(), which turns
// the signal into a failed copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace actorrent::storage {

/// One read-only MAP_SHARED mapping of a whole file; unmapped on destruction.
class file_mapping {
public:
  /// Maps `length` bytes of `fd` from offset 0 (nullptr on failure or length 0).
  static std::shared_ptr<const file_mapping> map(int fd, std::uint64_t length);
  ~file_mapping();
  file_mapping(const file_mapping&) = delete;
  file_mapping& operator=(const file_mapping&) = delete;

  const char* data() const noexcept { return static_cast<const char*>(addr_); }
  std::uint64_t size() const noexcept { return length_; }
  /// A descriptor of the mapped file, open for reading (for sendfile), or -1.
  int fd() const noexcept { return fd_; }

private:
  file_mapping(void* a, std::uint64_t n, int fd) : addr_(a), length_(n), fd_(fd) {}
  void* addr_;
  std::uint64_t length_;
  int fd_;
};

/// Maps the pages of [p, p + n) (part of a file mapping) into the page
/// tables, reading them from disk if needed, so that a later read of them does
/// not wait for the disk (MADV_POPULATE_READ). False if a page cannot be read
/// (e.g. beyond the end of a file cut short) or the kernel lacks the call.
bool populate_pages(const void* p, std::size_t n);

/// Whether every page of [p, p + n) (part of a file mapping) is in the page
/// cache (mincore), without mapping any of them: a piece that goes out by
/// sendfile needs its pages cached, not mapped, so populate_pages() is only
/// needed when this is false. False also when mincore fails.
bool resident_pages(const void* p, std::size_t n);

/// Drops the page-table entries of the whole pages inside [p, p + n) (the page
/// cache keeps the data; the next read maps them again): bounds the resident
/// set of a process that maps large files. Best effort.
void release_pages(const void* p, std::size_t n);

/// memcpy from a file mapping that returns false instead of dying with SIGBUS
/// when the source page is gone (its file was cut short).
bool copy_mapped(void* dst, const void* src, std::size_t n);

} // namespace actorrent::storage
