#include "actors/connector.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace actorrent {

result<int> connect_with_timeout(const peer_endpoint& ep, std::chrono::milliseconds timeout,
                                 const cancel_flag& cancel, logic::connect_result* how) {
  logic::connect_result ignored;
  if (how == nullptr)
    how = &ignored;
  *how = logic::connect_result::error;
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (ep.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(ep.port);
    std::memcpy(&a->sin6_addr, ep.addr.data(), 16);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(ep.port);
    std::memcpy(&a->sin_addr, ep.addr.data(), 4);
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_error(std::string{"socket: "} + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto fail = [fd](std::string what) -> result<int> {
    ::close(fd);
    return make_error(std::move(what));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) {
      *how = logic::classify_connect_errno(errno);
      return fail(std::string{"connect: "} + std::strerror(errno));
    }
    pollfd p{fd, POLLOUT, 0};
    int r = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) { // in slices of at most 100 ms, to notice a cancel
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        r = 0;
        break;
      }
      r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
      if (r > 0 || (r < 0 && errno != EINTR))
        break;
      if (cancel && cancel->load()) {
        *how = logic::connect_result::cancelled;
        return fail("connect: cancelled");
      }
    }
    if (r == 0) {
      *how = logic::connect_result::timeout;
      return fail("connect: timed out after " + std::to_string(timeout.count()) + " ms");
    }
    if (r < 0)
      return fail(std::string{"poll: "} + std::strerror(errno));
    int err = 0;
    socklen_t elen = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      *how = logic::classify_connect_errno(err);
      return fail(std::string{"connect: "} + std::strerror(err));
    }
  }
  *how = logic::connect_result::connected;
  return fd;
}

void spawn_connector(caf::actor_system& sys, peer_endpoint ep, std::chrono::milliseconds timeout,
                     torrent_actor torrent, peer_index index, cancel_flag cancel,
                     std::shared_ptr<logic::engine_metrics> metrics) {
  // the arguments go through spawn (not a capture): CAF 0.17 dereferences a null
  // tuple pointer when a function-based actor is spawned without arguments
  sys.spawn<caf::detached>(
    [](caf::event_based_actor* self, peer_endpoint to, std::chrono::milliseconds limit, torrent_actor t,
       peer_index idx, const cancel_flag& stop, const std::shared_ptr<logic::engine_metrics>& m) {
      logic::connect_result how;
      auto fd = connect_with_timeout(to, limit, stop, &how);
      if (m)
        m->connect_ended(how);
      if (fd)
        self->send(t, dialed_atom_v, idx, *fd);
      else
        self->send(t, peer_failed_atom_v, idx, fd.error().message);
      self->quit();
    },
    ep, timeout, std::move(torrent), index, std::move(cancel), std::move(metrics));
}

} // namespace actorrent
