#define CAF_SUITE announce_transport
#include <caf/test/unit_test.hpp>

#include "net/announce_transport.hpp"
#include "net/http_announce.hpp"
#include "net/udp_announce.hpp"
#include "protocol/tracker_udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace actorrent;
namespace udp = actorrent::tracker::udp;

namespace {

using clock_type = std::chrono::steady_clock;

// A UDP tracker on 127.0.0.1 in a thread: `answer` turns each request into the
// packet to send back (empty: stay silent). Stops when destroyed (bounded:
// polls every 50 ms).
struct fake_udp_tracker {
  int fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> done{false};
  std::atomic<int> received{0};
  std::function<std::string(const udp::request&)> answer;
  std::thread thread;

  explicit fake_udp_tracker(std::function<std::string(const udp::request&)> f) : answer(std::move(f)) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CAF_REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CAF_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    CAF_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port = ntohs(sa.sin_port);
    thread = std::thread{[this] { run(); }};
  }

  ~fake_udp_tracker() {
    done = true;
    thread.join();
    ::close(fd);
  }

  void run() {
    std::vector<char> buf(65536);
    while (!done) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0)
        continue;
      ++received;
      auto req = udp::parse_request(std::string_view{buf.data(), static_cast<std::size_t>(n)});
      if (!req)
        continue;
      auto out = answer(*req);
      if (!out.empty())
        ::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::string url() const { return "udp://127.0.0.1:" + std::to_string(port) + "/announce"; }
};

net::announce_params params(const std::string& url, std::uint32_t timeout_ms = 2000) {
  net::announce_params p;
  p.url = url;
  p.request.port = 6881;
  p.request.left = 1000;
  p.request.event = tracker::event::started;
  p.timeout_ms = timeout_ms;
  p.udp_max_tries = 3;
  p.rng_seed = 42;
  return p;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

} // namespace

CAF_TEST(udp connects then announces and returns the peers) {
  std::atomic<int> connects{0};
  std::atomic<std::uint16_t> port_seen{0};
  fake_udp_tracker t{[&](const udp::request& r) -> std::string {
    if (auto* c = std::get_if<udp::connect_request>(&r)) {
      ++connects;
      return udp::encode(udp::connect_response{c->transaction_id, 0x1122334455667788ull});
    }
    auto& a = std::get<udp::announce_request>(r);
    if (a.connection_id != 0x1122334455667788ull)
      return udp::encode(udp::error_response{a.transaction_id, "bad connection id"});
    port_seen = a.port;
    udp::announce_response resp;
    resp.transaction_id = a.transaction_id;
    resp.interval = 900;
    resp.seeders = 3;
    resp.leechers = 4;
    resp.peers.push_back(peer_endpoint::v4(10, 0, 0, 1, 5000));
    return udp::encode(resp);
  }};
  auto out = net::announce(params(t.url()));
  CAF_REQUIRE(out.ok);
  CAF_CHECK_EQUAL(out.interval, 900u);
  CAF_CHECK_EQUAL(out.seeders, 3u);
  CAF_CHECK_EQUAL(out.leechers, 4u);
  CAF_REQUIRE_EQUAL(out.peers.size(), 1u);
  CAF_CHECK_EQUAL(out.peers[0].port, 5000);
  CAF_CHECK_EQUAL(port_seen.load(), 6881);
  CAF_CHECK_EQUAL(out.udp_connection_id, 0x1122334455667788ull);
  CAF_CHECK_EQUAL(connects.load(), 1);
  // the cached id is used as it is: no connect
  auto p = params(t.url());
  p.udp_connection_id = 0x1122334455667788ull;
  CAF_CHECK(net::announce(p).ok);
  CAF_CHECK_EQUAL(connects.load(), 1);
  // a cached id the tracker rejects is replaced by one fresh connect
  p.udp_connection_id = 7;
  auto again = net::announce(p);
  CAF_CHECK(again.ok);
  CAF_CHECK_EQUAL(again.udp_connection_id, 0x1122334455667788ull);
  CAF_CHECK_EQUAL(connects.load(), 2);
}

CAF_TEST(a silent udp tracker gets every retransmission and times out within the bound) {
  fake_udp_tracker t{[](const udp::request&) { return std::string{}; }};
  auto start = clock_type::now();
  auto out = net::announce(params(t.url(), 1500));
  auto took = seconds_since(start);
  CAF_CHECK(!out.ok);
  CAF_CHECK_EQUAL(out.error, "timed out after 1500 ms (udp connect, 3 tries)");
  CAF_CHECK_GREATER_OR_EQUAL(took, 1.4);
  CAF_CHECK_LESS(took, 2.5);
  CAF_CHECK_EQUAL(t.received.load(), 3);
}

CAF_TEST(an error packet is the tracker error and a cancel stops the wait) {
  fake_udp_tracker t{[](const udp::request& r) {
    auto tid = std::visit([](auto& x) { return x.transaction_id; }, r);
    return udp::encode(udp::error_response{tid, "not authorized"});
  }};
  auto out = net::announce(params(t.url()));
  CAF_CHECK_EQUAL(out.error, "tracker error: not authorized");
  fake_udp_tracker silent{[](const udp::request&) { return std::string{}; }};
  std::atomic<bool> cancel{false};
  std::thread stopper{[&] {
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    cancel = true;
  }};
  auto start = clock_type::now();
  auto cancelled = net::announce(params(silent.url(), 10'000), &cancel);
  auto took = seconds_since(start);
  stopper.join();
  CAF_CHECK_EQUAL(cancelled.error, "cancelled");
  CAF_CHECK_LESS(took, 1.0);
}

CAF_TEST(schemes and urls are checked before any traffic) {
  CAF_CHECK_EQUAL(net::announce(params("ftp://127.0.0.1/announce")).error, "unsupported tracker url scheme");
  CAF_CHECK_EQUAL(net::announce(params("udp://127.0.0.1/announce")).error.rfind("bad tracker url: ", 0), 0u);
  CAF_CHECK_EQUAL(net::announce(params("HTTP://127.0.0.1:1/a b")).error.rfind("bad tracker url: ", 0), 0u);
  // nothing listens on port 1: refused at once, over HTTP and UDP
  auto http = net::announce(params("http://127.0.0.1:1/announce"));
  CAF_CHECK(!http.ok);
  CAF_CHECK(!http.error.empty());
  auto u = net::announce(params("udp://127.0.0.1:1/announce"));
  CAF_CHECK(!u.ok);
  CAF_CHECK_EQUAL(u.error, "connection refused");
}

CAF_TEST(tracker text is cleaned and schemes compare without case) {
  CAF_CHECK_EQUAL(net::clean_text("a\x01" "b\x7f"), "a?b?");
  CAF_CHECK_EQUAL(net::clean_text(std::string(300, 'x')), std::string(256, 'x') + "...");
  CAF_CHECK(net::starts_with_nocase("HtTp://x", "http://"));
  CAF_CHECK(!net::starts_with_nocase("htt", "http://"));
  CAF_CHECK_EQUAL(net::timed_out(5), "timed out after 5 ms");
}
