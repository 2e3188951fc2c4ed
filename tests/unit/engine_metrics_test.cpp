// The engine's shared counters for the daemon's /metrics (logic/engine_metrics.*):
// fixed-bucket histograms, the reason and result labels, and the shares that
// keep one component's figure inside a shared gauge or counter.
#define CAF_SUITE engine_metrics
#include <caf/test/unit_test.hpp>

#include "actors/connector.hpp"
#include "api/metrics.hpp"
#include "logic/engine_metrics.hpp"
#include "test_util.hpp"

#include <cerrno>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace actorrent;
using namespace actorrent::logic;
using actorrent::test::throws_invalid;

CAF_TEST(a fixed histogram counts each value in the first bucket whose bound holds it) {
  fixed_histogram h{{0.001, 0.01, 0.1}};
  h.observe(0.0005);
  h.observe(0.001); // a bound belongs to its own bucket (le)
  h.observe(0.05);
  h.observe(5);     // +Inf
  h.observe(std::nan(""));
  h.observe(-1);    // a clock step: counted as 0
  auto s = h.snapshot();
  CAF_REQUIRE_EQUAL(s.counts.size(), 4u);
  CAF_CHECK_EQUAL(s.counts[0], 3u);
  CAF_CHECK_EQUAL(s.counts[1], 0u);
  CAF_CHECK_EQUAL(s.counts[2], 1u);
  CAF_CHECK_EQUAL(s.counts[3], 1u);
  CAF_CHECK_EQUAL(s.count, 5u);
  CAF_CHECK_LESS(std::fabs(s.sum - 5.0515), 1e-9);
  CAF_CHECK_EQUAL(h.bounds(), (std::vector<double>{0.001, 0.01, 0.1}));
}

CAF_TEST(a fixed histogram refuses bounds it cannot hold) {
  CAF_CHECK(throws_invalid([] { fixed_histogram h{{0.1, 0.1}}; }));
  CAF_CHECK(throws_invalid([] { fixed_histogram h{{0.2, 0.1}}; }));
  CAF_CHECK(throws_invalid([] { fixed_histogram h{{std::numeric_limits<double>::infinity()}}; }));
  CAF_CHECK(throws_invalid([] { fixed_histogram h{std::vector<double>(fixed_histogram::max_bounds + 1, 1.0)}; }));
  std::vector<double> most;
  for (std::size_t i = 0; i < fixed_histogram::max_bounds; ++i)
    most.push_back(static_cast<double>(i));
  fixed_histogram h{most};
  h.observe(1e9);
  auto snap = h.snapshot(); // CAF_CHECK_EQUAL keeps references: no member of a temporary
  CAF_CHECK_EQUAL(snap.counts.back(), 1u);
  fixed_histogram none;
  none.observe(3);
  auto one = none.snapshot();
  CAF_CHECK_EQUAL(one.counts, std::vector<std::uint64_t>{1});
}

CAF_TEST(a fixed histogram loses no observation from many threads) {
  fixed_histogram h{{1, 2, 3}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i)
        h.observe(static_cast<double>(t));
    });
  for (auto& t : threads)
    t.join();
  auto s = h.snapshot();
  CAF_CHECK_EQUAL(s.count, 40000u);
  CAF_CHECK_EQUAL(s.counts, (std::vector<std::uint64_t>{20000, 10000, 10000, 0}));
  CAF_CHECK_EQUAL(s.sum, 60000.0);
}

CAF_TEST(the engine buckets are those of the exposition) {
  // the session ships the engine's counts into api::daemon_metrics, which
  // ignores histogram data of another shape
  engine_metrics m;
  CAF_CHECK_EQUAL(m.hash_seconds.bounds(), api::daemon_metrics::hash_check_bounds());
  CAF_CHECK_EQUAL(m.disk_seconds[0].bounds(), api::daemon_metrics::disk_op_bounds());
  CAF_CHECK_EQUAL(engine_metrics::default_hash_bounds(), api::daemon_metrics::hash_check_bounds());
  CAF_CHECK_EQUAL(engine_metrics::default_disk_bounds(), api::daemon_metrics::disk_op_bounds());
}

CAF_TEST(every reason a connection closes with has its label) {
  // the texts of the close() calls in actors/peer_*.cpp and of the torrent's drops
  std::vector<std::pair<std::string, disconnect_reason>> cases = {
    {"connection closed by the peer", disconnect_reason::peer_closed},
    {"handshake timed out", disconnect_reason::timeout},
    {"no data for 180 s", disconnect_reason::timeout},
    {"peer does not read: 2097152 bytes unsent for 60 s", disconnect_reason::timeout},
    {"banned: sent corrupt data (piece 3)", disconnect_reason::banned},
    {"protocol error: message too long", disconnect_reason::protocol_error},
    {"unexpected w_piece_atom while handshaking", disconnect_reason::protocol_error},
    {"invalid block (piece 1 offset 0 length 1)", disconnect_reason::protocol_error},
    {"invalid request (piece 9 offset 0 length 16384)", disconnect_reason::protocol_error},
    {"unrequested block (piece 1 offset 0 length 16384)", disconnect_reason::protocol_error},
    {"have for piece 4 of 4", disconnect_reason::protocol_error},
    {"bad bitfield: spare bits set", disconnect_reason::protocol_error},
    {"reject without the fast extension", disconnect_reason::protocol_error},
    {"have all without the fast extension", disconnect_reason::protocol_error},
    {"allowed fast for piece 9", disconnect_reason::protocol_error},
    {"request for piece 2 we do not have", disconnect_reason::protocol_error},
    {"more than 2000 queued requests", disconnect_reason::protocol_error},
    {"more than 2000 requests while choked", disconnect_reason::protocol_error},
    {"sent a duplicate block of piece 4", disconnect_reason::protocol_error},
    {"duplicate connection to the same peer", disconnect_reason::duplicate},
    {"connected to ourselves", disconnect_reason::duplicate},
    {"shutting down", disconnect_reason::shutdown},
    {"paused", disconnect_reason::shutdown},
    {"download complete", disconnect_reason::shutdown},
    {"both are seeds", disconnect_reason::seed_to_seed},
    {"not accepting peers now", disconnect_reason::refused},
    {"handshake for another torrent (abcd)", disconnect_reason::refused},
    {"cannot write to the peer: Broken pipe", disconnect_reason::io_error},
    {"cannot read a block to upload: its file was cut short", disconnect_reason::io_error},
    {"cannot upload piece 1 offset 0 length 16384: Bad address", disconnect_reason::io_error},
    {"short read of piece 1 offset 0 length 16384", disconnect_reason::io_error},
    {"something new", disconnect_reason::other},
    {"", disconnect_reason::other},
  };
  for (auto& [why, want] : cases) {
    CAF_MESSAGE(why);
    CAF_CHECK_EQUAL(to_string(classify_disconnect(why)), std::string{to_string(want)});
  }
  engine_metrics m;
  m.disconnected("handshake timed out");
  m.disconnected("no data for 180 s");
  m.disconnected("what?");
  CAF_CHECK_EQUAL(m.disconnects[static_cast<std::size_t>(disconnect_reason::timeout)].load(), 2u);
  CAF_CHECK_EQUAL(m.disconnects[static_cast<std::size_t>(disconnect_reason::other)].load(), 1u);
  // the labels are distinct and valid label values
  std::set<std::string> names;
  for (std::size_t i = 0; i < disconnect_reason_count; ++i)
    names.insert(to_string(static_cast<disconnect_reason>(i)));
  CAF_CHECK_EQUAL(names.size(), disconnect_reason_count);
}

CAF_TEST(connect errors map to a few results) {
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(0)), std::string{"connected"});
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(ECONNREFUSED)), std::string{"refused"});
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(ETIMEDOUT)), std::string{"timeout"});
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(ENETUNREACH)), std::string{"unreachable"});
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(EHOSTUNREACH)), std::string{"unreachable"});
  CAF_CHECK_EQUAL(to_string(classify_connect_errno(EMFILE)), std::string{"error"});
}

CAF_TEST(a connect to a closed port says refused and one to a listener connected) {
  // a port that was just free: bind, note it, close (nothing listens there now)
  auto bound_port = [](bool listen_too, int& fd_out) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CAF_REQUIRE_EQUAL(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    if (listen_too)
      CAF_REQUIRE_EQUAL(::listen(fd, 4), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    fd_out = fd;
    return ntohs(a.sin_port);
  };
  auto loopback = [](std::uint16_t port) {
    peer_endpoint ep;
    ep.addr = {127, 0, 0, 1};
    ep.port = port;
    return ep;
  };
  int closed_fd = -1;
  auto closed_port = bound_port(false, closed_fd);
  ::close(closed_fd);
  connect_result how = connect_result::connected;
  auto r = connect_with_timeout(loopback(closed_port), std::chrono::milliseconds{2000}, nullptr, &how);
  CAF_CHECK(!r);
  CAF_CHECK_EQUAL(to_string(how), std::string{"refused"});
  int listen_fd = -1;
  auto open_port = bound_port(true, listen_fd);
  how = connect_result::error;
  auto ok = connect_with_timeout(loopback(open_port), std::chrono::milliseconds{2000}, nullptr, &how);
  CAF_CHECK(ok);
  CAF_CHECK_EQUAL(to_string(how), std::string{"connected"});
  if (ok)
    ::close(*ok);
  ::close(listen_fd);
}

CAF_TEST(gauge shares add their changes and take their value back when gone) {
  std::atomic<std::int64_t> total{0};
  {
    gauge_share a{&total};
    gauge_share b{&total};
    a.set(5);
    b.set(3);
    CAF_CHECK_EQUAL(total.load(), 8);
    a.set(2);
    CAF_CHECK_EQUAL(total.load(), 5);
    gauge_share c{std::move(b)}; // b's share moves, it is not counted twice
    CAF_CHECK_EQUAL(total.load(), 5);
    c.set(0);
    CAF_CHECK_EQUAL(total.load(), 2);
    c.set(4);
  }
  CAF_CHECK_EQUAL(total.load(), 0); // every share is gone
  gauge_share detached;
  detached.set(7); // no target: nothing happens
  CAF_CHECK_EQUAL(detached.value(), 7);
}

CAF_TEST(counter shares report growth only) {
  std::atomic<std::uint64_t> total{100};
  counter_share s{&total};
  s.report(10);
  s.report(8); // the component's figure went down for a moment: ignored
  s.report(15);
  CAF_CHECK_EQUAL(total.load(), 115u);
  CAF_CHECK_EQUAL(s.reported(), 15u);
}
