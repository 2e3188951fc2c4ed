#include "net/quiet_sendfile.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>

#include <pthread.h>
#include <sys/sendfile.h>

namespace actorrent::net {

ssize_t quiet_sendfile(int out, int in, off_t* offset, std::size_t count) {
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
  ssize_t n = -1;
  do
    n = ::sendfile(out, in, offset, count);
  while (n < 0 && errno == EINTR);
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
