#include "net/udp_announce.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace actorrent::net {

namespace {

using std::chrono::milliseconds;

std::uint32_t read_u32(std::string_view p, std::size_t pos) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[pos + i]);
  return v;
}

} // namespace

udp_transaction::udp_transaction(udp_transaction&& other) noexcept { *this = std::move(other); }

udp_transaction& udp_transaction::operator=(udp_transaction&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    family_ = other.family_;
    request_string_ = std::move(other.request_string_);
    deadline_ = other.deadline_;
    cancel_ = other.cancel_;
    max_tries_ = other.max_tries_;
    rto_ = other.rto_;
    timeout_ms_ = other.timeout_ms_;
    buf_ = std::move(other.buf_);
  }
  return *this;
}

udp_transaction::~udp_transaction() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<udp_transaction> udp_transaction::open(const std::string& url_text, std::uint32_t timeout_ms, int max_tries,
                                              const std::atomic<bool>* cancel) {
  udp_transaction t;
  t.deadline_ = clock::now() + milliseconds{timeout_ms};
  t.cancel_ = cancel;
  t.max_tries_ = std::max(1, max_tries);
  t.timeout_ms_ = timeout_ms;
  t.rto_ = std::clamp(milliseconds{timeout_ms / 8}, milliseconds{100}, milliseconds{1000});
  auto url = tracker::udp::parse_url(url_text);
  if (!url)
    return make_error("bad tracker url: " + url.error().message);
  t.request_string_ = url->request_string;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port = std::to_string(url->port);
  if (int rc = ::getaddrinfo(url->host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error("cannot resolve " + url->host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addrs{found, &::freeaddrinfo};
  std::string connect_error = "no usable address for " + url->host;
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    int fd = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      connect_error = std::string{"udp socket: "} + std::strerror(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      connect_error = std::string{"udp connect: "} + std::strerror(errno);
      ::close(fd);
      continue;
    }
    t.fd_ = fd;
    t.family_ = ai->ai_family == AF_INET6 ? address_family::v6 : address_family::v4;
    break;
  }
  if (t.fd_ < 0)
    return make_error(connect_error);
  t.buf_.resize(65536);
  return t;
}

result<tracker::udp::response> udp_transaction::exchange(const std::string& packet, std::uint32_t tid,
                                                         tracker::udp::action expected) {
  int tries = 0;
  auto rto = rto_;
  for (;;) {
    auto now = clock::now();
    if (now >= deadline_)
      return make_error(timed_out(timeout_ms_) + " (udp " + tracker::udp::to_string(expected) + ", "
                        + std::to_string(tries) + " tries)");
    if (tries < max_tries_) {
      ++tries;
      auto n = ::send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == ECONNREFUSED)
        return make_error("connection refused");
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return make_error(std::string{"udp send failed: "} + std::strerror(errno));
    }
    auto wait_until = tries < max_tries_ ? std::min(now + rto, deadline_) : deadline_;
    rto *= 2;
    while ((now = clock::now()) < wait_until) {
      if (cancel_ != nullptr && cancel_->load())
        return make_error("cancelled");
      auto left = std::chrono::duration_cast<milliseconds>(wait_until - now).count() + 1;
      pollfd pfd{fd_, POLLIN, 0};
      auto pr = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left, 100)));
      if (pr <= 0)
        continue; // timeout slice, or EINTR
      auto n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          continue;
        if (errno == ECONNREFUSED)
          return make_error("connection refused");
        return make_error(std::string{"udp receive failed: "} + std::strerror(errno));
      }
      std::string_view p{buf_.data(), static_cast<std::size_t>(n)};
      if (p.size() < 8 || read_u32(p, 4) != tid)
        continue; // not ours (late answer to an earlier try, or junk)
      return tracker::udp::parse_response(p, expected, tid, family_);
    }
  }
}

announce_answer udp_transaction::announce(const tracker::announce_request& req, std::uint64_t connection_id,
                                          std::uint64_t rng_seed) {
  namespace udp = tracker::udp;
  announce_answer out;
  std::mt19937_64 rng{rng_seed};
  auto next_tid = [&rng] { return static_cast<std::uint32_t>(rng()); };
  auto conn_id = connection_id;
  bool cached = conn_id != 0;
  for (;;) {
    if (conn_id == 0) {
      auto tid = next_tid();
      auto r = exchange(udp::encode(udp::connect_request{tid}), tid, udp::action::connect);
      if (!r) {
        out.error = r.error().message;
        return out;
      }
      conn_id = std::get<udp::connect_response>(*r).connection_id;
    }
    auto tid = next_tid();
    auto r = exchange(udp::encode(udp::make_announce_request(req, conn_id, tid, request_string_)), tid,
                      udp::action::announce);
    if (!r) {
      // A cached connection id may have expired at the tracker: one fresh
      // connect, if the tracker answered with an error and time is left.
      bool tracker_said_no = r.error().message.rfind("tracker error", 0) == 0;
      if (cached && tracker_said_no && !expired()) {
        cached = false;
        conn_id = 0;
        continue;
      }
      out.error = r.error().message;
      return out;
    }
    auto& a = std::get<udp::announce_response>(*r);
    out.ok = true;
    out.udp_connection_id = conn_id;
    out.peers = std::move(a.peers);
    out.interval = a.interval;
    out.seeders = a.seeders;
    out.leechers = a.leechers;
    return out;
  }
}

announce_answer udp_announce(const announce_params& p, const std::atomic<bool>* cancel) {
  auto t = udp_transaction::open(p.url, p.timeout_ms, p.udp_max_tries, cancel);
  if (!t) {
    announce_answer out;
    out.error = t.error().message;
    return out;
  }
  return t->announce(p.request, p.udp_connection_id, p.rng_seed);
}

} // namespace actorrent::net
