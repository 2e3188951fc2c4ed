#define CAF_SUITE quiet_sendfile
#include <caf/test/unit_test.hpp>

#include "net/quiet_sendfile.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace actorrent;

namespace {

// A file of 64 KiB in /tmp, open for reading; unlinked at once.
int temp_file() {
  char name[] = "/tmp/actorrent-sendfile-XXXXXX";
  int fd = ::mkstemp(name);
  if (fd < 0)
    return -1;
  ::unlink(name);
  std::string bytes(64 * 1024, 'x');
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    return -1;
  return fd;
}

// Runs `body` in a child with SIGPIPE at its default action (death), so the
// runner's own disposition cannot hide the signal. Returns "exit N" or
// "signal N".
template <class F>
std::string in_child(F body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::_exit(body());
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid)
    return "no child";
  if (WIFSIGNALED(status))
    return "signal " + std::to_string(WTERMSIG(status));
  return "exit " + std::to_string(WEXITSTATUS(status));
}

// A stream socket whose peer has closed, and a file: what the uploader meets
// when a leecher hangs up.
struct closed_peer {
  int sock = -1;
  int file = -1;
  closed_peer() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
      sock = sv[0];
      ::close(sv[1]);
    }
    file = temp_file();
  }
};

} // namespace

CAF_TEST(a peer that hung up gives EPIPE and does not kill the process) {
  auto r = in_child([] {
    closed_peer p;
    if (p.sock < 0 || p.file < 0)
      return 3;
    off_t off = 0;
    auto n = net::quiet_sendfile(p.sock, p.file, &off, 4096);
    if (n != -1 || errno != EPIPE)
      return 4;
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1)
      return 5; // left pending: it would kill the thread once unblocked
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    if (sigismember(&mask, SIGPIPE) == 1)
      return 6; // the mask was not restored
    return 0;
  });
  CAF_CHECK_EQUAL(r, "exit 0");
}

CAF_TEST(plain sendfile to the same socket dies of SIGPIPE: the case is real) {
  auto r = in_child([] {
    closed_peer p;
    if (p.sock < 0 || p.file < 0)
      return 3;
    off_t off = 0;
    (void) ::sendfile(p.sock, p.file, &off, 4096);
    return 0;
  });
  CAF_CHECK_EQUAL(r, "signal " + std::to_string(SIGPIPE));
}

CAF_TEST(a SIGPIPE pending before the call is left pending) {
  auto r = in_child([] {
    closed_peer p;
    if (p.sock < 0 || p.file < 0)
      return 3;
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    ::raise(SIGPIPE);
    off_t off = 0;
    if (net::quiet_sendfile(p.sock, p.file, &off, 4096) != -1 || errno != EPIPE)
      return 4;
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1 ? 0 : 5;
  });
  CAF_CHECK_EQUAL(r, "exit 0");
}

CAF_TEST(an open socket takes the bytes) {
  int sv[2];
  CAF_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int file = temp_file();
  CAF_REQUIRE(file >= 0);
  off_t off = 0;
  auto n = net::quiet_sendfile(sv[0], file, &off, 4096);
  CAF_CHECK_EQUAL(n, 4096);
  CAF_CHECK_EQUAL(off, 4096);
  char buf[4096];
  CAF_CHECK_EQUAL(::read(sv[1], buf, sizeof(buf)), 4096);
  CAF_CHECK_EQUAL(buf[0], 'x');
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(file);
}

CAF_TEST(once SIGPIPE is ignored a peer that hung up still gives EPIPE) {
  auto r = in_child([] {
    net::ignore_sigpipe(); // in_child set SIG_DFL first: this sets it back to SIG_IGN
    struct sigaction sa {};
    sigaction(SIGPIPE, nullptr, &sa);
    if (sa.sa_handler != SIG_IGN)
      return 7;
    closed_peer p;
    if (p.sock < 0 || p.file < 0)
      return 3;
    off_t off = 0;
    if (net::quiet_sendfile(p.sock, p.file, &off, 4096) != -1 || errno != EPIPE)
      return 4;
    return 0;
  });
  CAF_CHECK_EQUAL(r, "exit 0");
}
