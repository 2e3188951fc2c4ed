// Small POSIX helpers shared by the storage code: an owning descriptor and the
// text of an errno value.
#pragma once

#include <string>
#include <utility>

#include <unistd.h>

namespace actorrent::storage {

/// strerror_r's text for `e`, thread-safe.
std::string errno_text(int e);

/// Owns a file descriptor and closes it on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~unique_fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

private:
  int fd_ = -1;
};

} // namespace actorrent::storage
