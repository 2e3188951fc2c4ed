#include "net/quiet_sendfile.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>

#include <pthread.h>
#include <sys/sendfile.h>

namespace actorrent::net {

namespace {

std::atomic<bool> sigpipe_ignored{false};

ssize_t sendfile_retrying(int out, int in, off_t* offset, std::size_t count) {
  ssize_t n = -1;
  do
    n = ::sendfile(out, in, offset, count);
  while (n < 0 && errno == EINTR);
  return n;
}

} // namespace

void ignore_sigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
  sigpipe_ignored.store(true, std::memory_order_relaxed);
}

ssize_t quiet_sendfile(int out, int in, off_t* offset, std::size_t count) {
  if (sigpipe_ignored.load(std::memory_order_relaxed))
    return sendfile_retrying(out, in, offset, count); // the upload's hot path: no mask to change
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  // A SIGPIPE already pending (raised elsewhere in this thread and blocked)
  // belongs to someone else: leave it.
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = sendfile_retrying(out, in, offset, count);
  const int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    // SIGPIPE goes to the thread that wrote: take ours off, without waiting.
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

} // namespace actorrent::net
