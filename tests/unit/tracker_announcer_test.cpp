#define CAF_SUITE tracker_announcer
#include <caf/test/unit_test.hpp>

#include "actors/tracker_announcer.hpp"
#include "protocol/text.hpp"
#include "protocol/tracker_http.hpp"
#include "protocol/tracker_udp.hpp"
#include "test_util.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

using namespace actorrent;
using namespace std::chrono_literals;
namespace udp = actorrent::tracker::udp;

namespace {

using steady = std::chrono::steady_clock;

sha1_hash counting_hash() { // bytes 0x00 .. 0x13
  sha1_hash h;
  for (std::size_t i = 0; i < 20; ++i)
    h.bytes[i] = static_cast<std::uint8_t>(i);
  return h;
}

const std::string peer_id_text = "-AT0001-123456789012";

sha1_hash our_peer_id() { return *sha1_hash::from_bytes(peer_id_text); }

std::int64_t ms_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count();
}

// ---- query strings ------------------------------------------------------------------

std::string url_decode(std::string_view s) {
  using text::hex_digit;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// The decoded parameters of a request target "/announce?a=1&b=2".
std::map<std::string, std::string> query_params(std::string_view target) {
  std::map<std::string, std::string> out;
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    auto eq = part.find('=');
    if (eq != std::string_view::npos)
      out[url_decode(part.substr(0, eq))] = url_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

// ---- sockets -------------------------------------------------------------------------

int bound_socket(int type, bool v6, std::uint16_t& port) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
            : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

/// A loopback TCP port with nothing listening (connection refused).
std::uint16_t closed_port() {
  std::uint16_t port = 0;
  int fd = bound_socket(SOCK_STREAM, false, port);
  ::close(fd);
  return port;
}

bool poll_in(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// ---- a fake HTTP tracker -------------------------------------------------------------

struct http_answer {
  int status = 200;
  std::string body;
  bool hang = false; ///< accept and read the request, never answer
};

/// Accepts connections on 127.0.0.1 in a thread, records each request target
/// ("/announce?...") and answers what `respond` says, then closes.
class fake_http_tracker {
public:
  using responder = std::function<http_answer(const std::string& target)>;

  explicit fake_http_tracker(responder respond) : respond_(std::move(respond)) {
    fd_ = bound_socket(SOCK_STREAM, false, port_);
    CAF_REQUIRE(fd_ >= 0);
    CAF_REQUIRE_EQUAL(::listen(fd_, 16), 0);
    thread_ = std::thread{[this] { run(); }};
  }

  ~fake_http_tracker() {
    stop_ = true;
    thread_.join();
    for (int fd : hanging_)
      ::close(fd);
    ::close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/announce"; }

  /// Waits until `n` requests arrived (at most `timeout`); returns all so far.
  std::vector<std::string> wait_requests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, timeout, [&] { return targets_.size() >= n; });
    return targets_;
  }

  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return targets_;
  }

private:
  void run() {
    while (!stop_) {
      if (!poll_in(fd_, 50))
        continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      serve(c);
    }
  }

  void serve(int c) {
    std::string in;
    auto deadline = steady::now() + 2s;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536
           && steady::now() < deadline && !stop_) {
      if (!poll_in(c, 50))
        continue;
      auto n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    // "GET <target> HTTP/1.1"
    auto line = in.substr(0, in.find("\r\n"));
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    std::string target = sp1 != std::string::npos && sp2 > sp1 ? line.substr(sp1 + 1, sp2 - sp1 - 1)
                                                               : std::string{};
    auto answer = respond_(target);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      targets_.push_back(target);
    }
    cv_.notify_all();
    if (answer.hang) {
      hanging_.push_back(c);
      return;
    }
    std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\nContent-Length: "
                      + std::to_string(answer.body.size())
                      + "\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + answer.body;
    std::size_t off = 0;
    while (off < out.size()) {
      auto n = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      off += static_cast<std::size_t>(n);
    }
    ::close(c);
  }

  responder respond_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> targets_;
  std::vector<int> hanging_; // only touched by the thread, then the destructor
};

std::vector<peer_endpoint> sample_peers() {
  return {peer_endpoint::v4(10, 0, 0, 1, 6881), peer_endpoint::v4(10, 0, 0, 2, 51413),
          *peer_endpoint::from_ip("2001:db8::7", 6882)};
}

tracker::announce_response sample_response() {
  tracker::announce_response r;
  r.interval = 900;
  r.min_interval = 60;
  r.complete = 5;
  r.incomplete = 7;
  r.warning_message = "be nice";
  r.peers = sample_peers();
  return r;
}

http_answer ok_answer(const tracker::announce_response& r = sample_response()) {
  return {200, tracker::encode_announce_response(r), false};
}

// ---- a fake UDP tracker ----------------------------------------------------------------

/// Answers BEP 15 connect and announce requests on 127.0.0.1 or ::1 in a thread
/// (or stays silent), recording every request it could parse.
class fake_udp_tracker {
public:
  static constexpr std::uint64_t connection_id = 0x1122334455667788ULL;

  fake_udp_tracker(bool v6, bool silent, udp::announce_response answer = {})
      : v6_(v6), silent_(silent), answer_(std::move(answer)) {
    fd_ = bound_socket(SOCK_DGRAM, v6, port_);
    if (fd_ >= 0)
      thread_ = std::thread{[this] { run(); }};
  }

  ~fake_udp_tracker() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    if (fd_ >= 0)
      ::close(fd_);
  }

  bool ok() const { return fd_ >= 0; }

  std::string url() const {
    auto host = v6_ ? std::string{"[::1]"} : std::string{"127.0.0.1"};
    return "udp://" + host + ":" + std::to_string(port_) + "/announce";
  }

  std::vector<udp::request> wait_requests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, timeout, [&] { return requests_.size() >= n; });
    return requests_;
  }

  std::vector<udp::request> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return requests_;
  }

private:
  void run() {
    std::vector<char> buf(65536);
    while (!stop_) {
      if (!poll_in(fd_, 50))
        continue;
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      auto n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0)
        continue;
      auto req = udp::parse_request({buf.data(), static_cast<std::size_t>(n)});
      if (!req)
        continue;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        requests_.push_back(*req);
      }
      cv_.notify_all();
      if (silent_)
        continue;
      std::string out;
      if (auto* c = std::get_if<udp::connect_request>(&*req)) {
        out = udp::encode(udp::connect_response{c->transaction_id, connection_id});
      } else if (auto* a = std::get_if<udp::announce_request>(&*req)) {
        if (a->connection_id != connection_id) {
          out = udp::encode(udp::error_response{a->transaction_id, "bad connection id"});
        } else {
          auto r = answer_;
          r.transaction_id = a->transaction_id;
          out = udp::encode(r, v6_ ? address_family::v6 : address_family::v4);
        }
      }
      if (!out.empty())
        ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  bool v6_;
  bool silent_;
  udp::announce_response answer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<udp::request> requests_;
};

std::size_t count_connects(const std::vector<udp::request>& rs) {
  return static_cast<std::size_t>(std::count_if(rs.begin(), rs.end(), [](const udp::request& r) {
    return std::holds_alternative<udp::connect_request>(r);
  }));
}

std::vector<udp::announce_request> announces_of(const std::vector<udp::request>& rs) {
  std::vector<udp::announce_request> out;
  for (auto& r : rs)
    if (auto* a = std::get_if<udp::announce_request>(&r))
      out.push_back(*a);
  return out;
}

// ---- the actor side --------------------------------------------------------------------

/// One message the announcer sent to the torrent.
struct report {
  enum kind_t { none, peers, failed } kind = none;
  announce_reply reply;
  std::string url;
  std::string reason;
};

report next_report(caf::scoped_actor& self, std::chrono::milliseconds timeout) {
  report r;
  self->receive(
    [&](peers_atom, const announce_reply& rep) {
      r.kind = report::peers;
      r.reply = rep;
    },
    [&](failed_atom, const std::string& url, const std::string& reason) {
      r.kind = report::failed;
      r.url = url;
      r.reason = reason;
    },
    caf::after(timeout) >> [&] { r.kind = report::none; });
  return r;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  announcer_config config(std::vector<std::vector<std::string>> tiers, caf::scoped_actor& self) {
    announcer_config c;
    c.tiers = std::move(tiers);
    c.info_hash = counting_hash();
    c.peer_id = our_peer_id();
    c.port = 6881;
    c.seed = 42;
    c.torrent = caf::actor_cast<torrent_actor>(self.ptr());
    return c;
  }

  /// Sends stop and returns the reply (nullopt: no reply within `timeout`).
  std::optional<bool> stop(caf::scoped_actor& self, const announcer_actor& a,
                           std::chrono::milliseconds timeout = 5000ms) {
    std::optional<bool> out;
    self->request(a, timeout, stop_atom_v, transfer_totals{}).receive(
      [&](bool ok) { out = ok; }, [&](caf::error&) {});
    return out;
  }
};

/// validate()'s message, "" when valid (status::error() must not outlive the status).
std::string invalid_because(const announcer_config& c) {
  auto st = validate(c);
  return st.ok() ? std::string{} : st.error().message;
}

} // namespace

// ---- plain parts ---------------------------------------------------------------------------

CAF_TEST(tiers are shuffled once per tier and an answering url moves to the front) {
  std::vector<std::vector<std::string>> in{{"a", "b", "c", "d"}, {}, {"e"}, {"a", "f", ""}};
  logic::splitmix64 rng1{7};
  announce::tracker_tiers t1{in, rng1};
  CAF_REQUIRE_EQUAL(t1.tiers().size(), 3u);
  CAF_CHECK_EQUAL(t1.tiers()[1], std::vector<std::string>{"e"});
  CAF_CHECK_EQUAL(t1.tiers()[2], std::vector<std::string>{"f"}); // repeated "a" and "" dropped
  auto first = t1.tiers()[0];
  CAF_CHECK_EQUAL(std::set<std::string>(first.begin(), first.end()),
                  (std::set<std::string>{"a", "b", "c", "d"}));
  // Same seed, same order; some seed gives another order.
  logic::splitmix64 rng2{7};
  announce::tracker_tiers t2{in, rng2};
  CAF_CHECK_EQUAL(t2.tiers()[0], first);
  bool other = false;
  for (std::uint64_t seed = 0; seed < 20 && !other; ++seed) {
    logic::splitmix64 r{seed};
    other = announce::tracker_tiers{in, r}.tiers()[0] != first;
  }
  CAF_CHECK(other);
  // order() is tier by tier.
  auto expected = first;
  expected.push_back("e");
  expected.push_back("f");
  CAF_CHECK_EQUAL(t1.order(), expected);
  // BEP 12: the URL that answered moves to the front, the rest keep their order.
  auto third = first[2];
  CAF_CHECK(t1.answered(third));
  std::vector<std::string> promoted{first[2], first[0], first[1], first[3]};
  CAF_CHECK_EQUAL(t1.tiers()[0], promoted);
  CAF_CHECK(t1.answered("f"));
  CAF_CHECK_EQUAL(t1.tiers()[2], std::vector<std::string>{"f"});
  CAF_CHECK(!t1.answered("zzz"));
}

CAF_TEST(back off doubles from the initial delay up to the maximum) {
  using std::chrono::seconds;
  auto d = [](unsigned n) {
    return std::chrono::duration_cast<seconds>(
             announce::backoff_delay(n, seconds{15}, std::chrono::minutes{30}))
      .count();
  };
  CAF_CHECK_EQUAL(d(1), 15);
  CAF_CHECK_EQUAL(d(2), 30);
  CAF_CHECK_EQUAL(d(3), 60);
  CAF_CHECK_EQUAL(d(7), 960);
  CAF_CHECK_EQUAL(d(8), 1800);
  CAF_CHECK_EQUAL(d(1000), 1800);
}

CAF_TEST(back off after a failure is capped by the tracker interval) {
  using std::chrono::seconds;
  // the default schedule: 5 s doubling; once a tracker gave 120 s, never above that
  auto d = [](unsigned n, seconds interval) {
    return std::chrono::duration_cast<seconds>(
             announce::backoff_delay(n, seconds{5}, std::chrono::minutes{30}, interval))
      .count();
  };
  std::vector<long> unknown, known;
  for (unsigned n = 1; n <= 10; ++n) {
    unknown.push_back(static_cast<long>(d(n, seconds{0})));
    known.push_back(static_cast<long>(d(n, seconds{120})));
  }
  CAF_CHECK_EQUAL(unknown, (std::vector<long>{5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800}));
  CAF_CHECK_EQUAL(known, (std::vector<long>{5, 10, 20, 40, 80, 120, 120, 120, 120, 120}));
  // a tracker interval below the first delay does not make retries sooner
  CAF_CHECK_EQUAL(d(1, seconds{2}), 5);
  CAF_CHECK_EQUAL(d(3, seconds{2}), 5);
  // an interval above retry_max: retry_max still bounds it
  CAF_CHECK_EQUAL(d(20, seconds{7200}), 1800);
}

CAF_TEST(retries are spread over half the back off after it) {
  using std::chrono::seconds;
  const caf::timespan d = seconds{40};
  logic::splitmix64 rng{3};
  std::set<caf::timespan::rep> seen;
  for (int i = 0; i < 200; ++i) {
    auto j = announce::jittered(d, rng());
    CAF_CHECK_GREATER_OR_EQUAL(j, d);
    CAF_CHECK_LESS(j, d + d / 2);
    seen.insert(std::chrono::duration_cast<std::chrono::milliseconds>(j).count() / 1000);
  }
  CAF_CHECK_GREATER(seen.size(), 15u); // spread over most of the 20 s
  CAF_CHECK_EQUAL(announce::jittered(d, 0).count(), d.count());
  CAF_CHECK_EQUAL(announce::jittered(caf::timespan{0}, 77).count(), 0);
}

CAF_TEST(config validation) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  announcer_config c;
  c.torrent = caf::actor_cast<torrent_actor>(self.ptr());
  CAF_CHECK_EQUAL(invalid_because(c), "no tracker urls");
  c.tiers = {{}, {"http://x/announce"}};
  CAF_CHECK(validate(c).ok());
  c.numwant = -2;
  CAF_CHECK_EQUAL(invalid_because(c), "numwant -2 is below -1");
  c.numwant = 10;
  c.stopped_timeout = caf::timespan{0};
  CAF_CHECK_EQUAL(invalid_because(c), "stopped timeout must be positive");
  c.stopped_timeout = 1s;
  c.retry_max = 1s;
  CAF_CHECK_EQUAL(invalid_because(c), "retry_max is below retry_initial");
  c.retry_max = 60s;
  c.udp_max_tries = 0;
  CAF_CHECK_EQUAL(invalid_because(c), "udp_max_tries must be at least 1");
  c.udp_max_tries = 1;
  c.torrent = nullptr;
  CAF_CHECK_EQUAL(invalid_because(c), "no torrent actor");
}

CAF_TEST(one http request sends every announce parameter and parses the answer) {
  auto resp = sample_response();
  resp.tracker_id = "tid-1";
  fake_http_tracker tracker{[&](const std::string&) { return ok_answer(resp); }};
  announce::tracker_job job;
  job.url = tracker.url();
  job.info_hash = counting_hash();
  job.peer_id = our_peer_id();
  job.port = 51413;
  job.totals = {100, 200, 300};
  job.event = announce_event::completed;
  job.numwant = 30;
  job.key = 0xDEADBEEF;
  job.trackerid = "abc";
  job.timeout_ms = 5000;
  auto out = announce::perform_announce(job);
  CAF_REQUIRE(out.ok);
  CAF_CHECK_EQUAL(out.error, "");
  CAF_CHECK_EQUAL(out.url, tracker.url());
  CAF_CHECK_EQUAL(out.reply.tracker, tracker.url());
  CAF_CHECK(out.reply.peers == sample_peers());
  CAF_CHECK_EQUAL(out.reply.interval, 900u);
  CAF_CHECK_EQUAL(out.reply.min_interval, 60u);
  CAF_CHECK_EQUAL(out.reply.seeders, 5u);
  CAF_CHECK_EQUAL(out.reply.leechers, 7u);
  CAF_CHECK_EQUAL(out.reply.warning, "be nice");
  CAF_CHECK(out.has_trackerid);
  CAF_CHECK_EQUAL(out.trackerid, "tid-1");
  auto reqs = tracker.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  CAF_CHECK_EQUAL(reqs[0].substr(0, 10), "/announce?");
  auto q = query_params(reqs[0]);
  CAF_CHECK_EQUAL(q["info_hash"], std::string(counting_hash().view()));
  CAF_CHECK_EQUAL(q["peer_id"], peer_id_text);
  CAF_CHECK_EQUAL(q["port"], "51413");
  CAF_CHECK_EQUAL(q["uploaded"], "100");
  CAF_CHECK_EQUAL(q["downloaded"], "200");
  CAF_CHECK_EQUAL(q["left"], "300");
  CAF_CHECK_EQUAL(q["event"], "completed");
  CAF_CHECK_EQUAL(q["compact"], "1");
  CAF_CHECK_EQUAL(q["numwant"], "30");
  CAF_CHECK_EQUAL(q["key"], "DEADBEEF");
  CAF_CHECK_EQUAL(q["trackerid"], "abc");
}

CAF_TEST(http errors - status and oversized or bad body and bad scheme) {
  std::atomic<int> mode{0};
  fake_http_tracker tracker{[&](const std::string&) -> http_answer {
    switch (mode.load()) {
      case 0:
        return {404, "not here", false};
      case 1:
        return {200, std::string(200, 'x'), false};
      default:
        return {200, "d8:intervali-5ee", false};
    }
  }};
  announce::tracker_job job;
  job.url = tracker.url();
  job.timeout_ms = 5000;
  job.max_response_bytes = 100;
  CAF_CHECK_EQUAL(announce::perform_announce(job).error, "http status 404");
  mode = 1;
  CAF_CHECK_EQUAL(announce::perform_announce(job).error, "response larger than 100 bytes");
  mode = 2;
  auto bad = announce::perform_announce(job);
  CAF_CHECK(!bad.ok);
  CAF_CHECK_EQUAL(bad.error.rfind("bad tracker response: ", 0), 0u);
  job.url = "wss://tracker.example/announce";
  CAF_CHECK_EQUAL(announce::perform_announce(job).error, "unsupported tracker url scheme");
  job.url = "udp://tracker.example";
  CAF_CHECK_EQUAL(announce::perform_announce(job).error.rfind("bad tracker url: ", 0), 0u);
}

// ---- the actor --------------------------------------------------------------------------------

CAF_TEST_FIXTURE_SCOPE(announcer_actor_tests, fixture)

CAF_TEST(started announce reaches the http tracker and peers reach the torrent) {
  fake_http_tracker tracker{[](const std::string&) { return ok_answer(); }};
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{tracker.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{1, 2, 3});
  auto r = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r.kind, report::peers);
  CAF_CHECK_EQUAL(r.reply.tracker, tracker.url());
  CAF_CHECK(r.reply.peers == sample_peers());
  CAF_CHECK_EQUAL(r.reply.interval, 900u);
  CAF_CHECK_EQUAL(r.reply.min_interval, 60u);
  CAF_CHECK_EQUAL(r.reply.seeders, 5u);
  CAF_CHECK_EQUAL(r.reply.leechers, 7u);
  CAF_CHECK_EQUAL(r.reply.warning, "be nice");
  auto reqs = tracker.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  auto q = query_params(reqs[0]);
  CAF_CHECK_EQUAL(q["info_hash"], std::string(counting_hash().view()));
  CAF_CHECK_EQUAL(q["peer_id"], peer_id_text);
  CAF_CHECK_EQUAL(q["port"], "6881");
  CAF_CHECK_EQUAL(q["uploaded"], "1");
  CAF_CHECK_EQUAL(q["downloaded"], "2");
  CAF_CHECK_EQUAL(q["left"], "3");
  CAF_CHECK_EQUAL(q["event"], "started");
  CAF_CHECK_EQUAL(q["numwant"], "50");
  CAF_CHECK_EQUAL(q["key"].size(), 8u);
  CAF_CHECK_EQUAL(q.count("trackerid"), 0u);
  // The stopped announce: numwant 0, the same key, acknowledged.
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{true});
  reqs = tracker.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto q2 = query_params(reqs[1]);
  CAF_CHECK_EQUAL(q2["event"], "stopped");
  CAF_CHECK_EQUAL(q2["numwant"], "0");
  CAF_CHECK_EQUAL(q2["key"], q["key"]);
  CAF_CHECK_EQUAL(q2["left"], "0");
}

CAF_TEST(a refused first tier falls back to the second) {
  auto dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/announce";
  fake_http_tracker tracker{[](const std::string&) { return ok_answer(); }};
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{dead}, {tracker.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 10});
  auto r1 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r1.kind, report::failed);
  CAF_CHECK_EQUAL(r1.url, dead);
  CAF_MESSAGE("refused: " << r1.reason);
  CAF_CHECK(r1.reason.find("onnect") != std::string::npos);
  auto r2 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r2.kind, report::peers);
  CAF_CHECK_EQUAL(r2.reply.tracker, tracker.url());
  CAF_CHECK(r2.reply.peers == sample_peers());
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{true});
}

CAF_TEST(a failure reason is reported and the next tier answers) {
  tracker::announce_response no;
  no.failure_reason = "torrent not registered\n";
  fake_http_tracker refusing{[&](const std::string&) { return ok_answer(no); }};
  fake_http_tracker good{[](const std::string&) { return ok_answer(); }};
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{refusing.url()}, {good.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 10});
  auto r1 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r1.kind, report::failed);
  CAF_CHECK_EQUAL(r1.url, refusing.url());
  CAF_CHECK_EQUAL(r1.reason, "tracker failure: torrent not registered?");
  auto r2 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r2.kind, report::peers);
  CAF_CHECK_EQUAL(r2.reply.tracker, good.url());
  CAF_CHECK_EQUAL(refusing.requests().size(), 1u);
  CAF_CHECK_EQUAL(good.requests().size(), 1u);
}

CAF_TEST(within a tier the url that answered is tried first next time) {
  auto dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/announce";
  fake_http_tracker tracker{[](const std::string&) { return ok_answer(); }};
  caf::scoped_actor self{sys};
  // Find a seed whose shuffle puts the dead URL first.
  auto c = config({{dead, tracker.url()}}, self);
  for (std::uint64_t seed = 0;; ++seed) {
    logic::splitmix64 rng{seed};
    rng(); // the announcer draws its key first
    if (announce::tracker_tiers{c.tiers, rng}.order().front() == dead) {
      c.seed = seed;
      break;
    }
    CAF_REQUIRE(seed < 64);
  }
  auto a = spawn_announcer(sys, c);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 10});
  auto r1 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r1.kind, report::failed);
  CAF_CHECK_EQUAL(r1.url, dead);
  CAF_REQUIRE_EQUAL(next_report(self, 5000ms).kind, report::peers);
  // The next announce goes straight to the URL that answered.
  self->send(a, announce_atom_v, announce_event::completed, transfer_totals{0, 10, 0});
  auto r3 = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r3.kind, report::peers);
  CAF_CHECK_EQUAL(r3.reply.tracker, tracker.url());
  auto reqs = tracker.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto q2 = query_params(reqs[1]);
  CAF_CHECK_EQUAL(q2["event"], "completed");
  CAF_CHECK_EQUAL(q2["left"], "0");
}

CAF_TEST(udp announce connects then announces and returns peers) {
  udp::announce_response answer;
  answer.interval = 1200;
  answer.leechers = 3;
  answer.seeders = 4;
  answer.peers = {peer_endpoint::v4(192, 168, 1, 9, 7000), peer_endpoint::v4(8, 8, 4, 4, 7001)};
  fake_udp_tracker tracker{false, false, answer};
  CAF_REQUIRE(tracker.ok());
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{tracker.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{5, 6, 7});
  auto r = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r.kind, report::peers);
  CAF_CHECK_EQUAL(r.reply.tracker, tracker.url());
  CAF_CHECK(r.reply.peers == answer.peers);
  CAF_CHECK_EQUAL(r.reply.interval, 1200u);
  CAF_CHECK_EQUAL(r.reply.min_interval, 0u);
  CAF_CHECK_EQUAL(r.reply.seeders, 4u);
  CAF_CHECK_EQUAL(r.reply.leechers, 3u);
  auto reqs = tracker.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  CAF_CHECK(std::holds_alternative<udp::connect_request>(reqs[0]));
  auto ann = announces_of(reqs);
  CAF_REQUIRE_EQUAL(ann.size(), 1u);
  CAF_CHECK_EQUAL(ann[0].connection_id, fake_udp_tracker::connection_id);
  CAF_CHECK(ann[0].info_hash == counting_hash());
  CAF_CHECK(ann[0].peer_id == our_peer_id());
  CAF_CHECK_EQUAL(ann[0].uploaded, 5u);
  CAF_CHECK_EQUAL(ann[0].downloaded, 6u);
  CAF_CHECK_EQUAL(ann[0].left, 7u);
  CAF_CHECK(ann[0].event == tracker::event::started);
  CAF_CHECK_EQUAL(ann[0].num_want, 50);
  CAF_CHECK_EQUAL(ann[0].port, 6881u);
  CAF_CHECK_EQUAL(ann[0].url_data, "/announce"); // BEP 41
  // A second announce within a minute reuses the connection id.
  self->send(a, announce_atom_v, announce_event::completed, transfer_totals{5, 13, 0});
  CAF_REQUIRE_EQUAL(next_report(self, 5000ms).kind, report::peers);
  reqs = tracker.requests();
  CAF_CHECK_EQUAL(count_connects(reqs), 1u);
  ann = announces_of(reqs);
  CAF_REQUIRE_EQUAL(ann.size(), 2u);
  CAF_CHECK(ann[1].event == tracker::event::completed);
  CAF_CHECK_EQUAL(ann[1].key, ann[0].key);
  CAF_CHECK_EQUAL(ann[1].left, 0u);
  // stopped over UDP: num_want 0, acknowledged.
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{true});
  ann = announces_of(tracker.requests());
  CAF_REQUIRE_EQUAL(ann.size(), 3u);
  CAF_CHECK(ann[2].event == tracker::event::stopped);
  CAF_CHECK_EQUAL(ann[2].num_want, 0);
}

CAF_TEST(udp announce over ipv6 returns ipv6 peers) {
  udp::announce_response answer;
  answer.interval = 600;
  answer.peers = {*peer_endpoint::from_ip("2001:db8::1", 6000),
                  *peer_endpoint::from_ip("::ffff:10.1.2.3", 6001)};
  fake_udp_tracker tracker{true, false, answer};
  if (!tracker.ok()) {
    ACTORRENT_SKIP("cannot bind udp [::1] (no IPv6 loopback)");
  }
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{tracker.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  auto r = next_report(self, 5000ms);
  CAF_REQUIRE_EQUAL(r.kind, report::peers);
  CAF_CHECK(r.reply.peers == answer.peers);
  CAF_CHECK_EQUAL(r.reply.interval, 600u);
}

CAF_TEST(a silent udp tracker times out within the bound after retransmitting) {
  fake_udp_tracker tracker{false, true};
  CAF_REQUIRE(tracker.ok());
  caf::scoped_actor self{sys};
  auto c = config({{tracker.url()}}, self);
  c.request_timeout = 1s;
  auto a = spawn_announcer(sys, c);
  auto t0 = steady::now();
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  auto r = next_report(self, 5000ms);
  auto elapsed = ms_since(t0);
  CAF_REQUIRE_EQUAL(r.kind, report::failed);
  CAF_CHECK_EQUAL(r.url, tracker.url());
  CAF_CHECK_EQUAL(r.reason, "timed out after 1000 ms (udp connect, 4 tries)");
  CAF_MESSAGE("udp timeout after " << elapsed << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(elapsed, 950);
  CAF_CHECK_LESS(elapsed, 2500);
  auto reqs = tracker.requests();
  CAF_CHECK_EQUAL(count_connects(reqs), 4u); // udp_max_tries
  CAF_CHECK_EQUAL(reqs.size(), 4u);
}

CAF_TEST(stop replies within the stopped timeout while the tracker hangs) {
  fake_http_tracker tracker{[](const std::string&) { return http_answer{200, "", true}; }};
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{tracker.url()}}, self)); // request timeout 10 s
  self->monitor(a);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  // The started announce is in flight and hangs.
  CAF_REQUIRE_EQUAL(tracker.wait_requests(1, 5000ms).size(), 1u);
  auto t0 = steady::now();
  auto reply = stop(self, a);
  auto elapsed = ms_since(t0);
  CAF_CHECK_EQUAL(reply, std::optional<bool>{false});
  CAF_MESSAGE("stop answered after " << elapsed << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(elapsed, 900);
  CAF_CHECK_LESS(elapsed, 2000);
  // The stopped announce reached the (hanging) tracker, and its failure was reported.
  auto reqs = tracker.wait_requests(2, 1000ms);
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto q2 = query_params(reqs[1]);
  CAF_CHECK_EQUAL(q2["event"], "stopped");
  auto r = next_report(self, 1000ms);
  CAF_CHECK_EQUAL(r.kind, report::failed);
  CAF_CHECK_EQUAL(r.reason.rfind("timed out after", 0), 0u);
  // The announcer is gone after stop.
  bool down = false;
  self->receive([&](caf::down_msg& dm) { down = dm.source == a.address(); },
                caf::after(2s) >> [] {});
  CAF_CHECK(down);
}

CAF_TEST(re-announce after the interval with the latest totals and the tracker id) {
  auto resp = sample_response();
  resp.interval = 1;
  resp.min_interval = 1;
  resp.tracker_id = "tid-9";
  fake_http_tracker tracker{[&](const std::string&) { return ok_answer(resp); }};
  caf::scoped_actor self{sys};
  auto c = config({{tracker.url()}}, self);
  c.interval_floor = caf::timespan{0};
  auto a = spawn_announcer(sys, c);
  auto t0 = steady::now();
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 100});
  CAF_REQUIRE_EQUAL(next_report(self, 5000ms).kind, report::peers);
  // An early event-none announce is deferred to the min interval, with these totals.
  self->send(a, announce_atom_v, announce_event::none, transfer_totals{0, 40, 60});
  auto reqs = tracker.wait_requests(2, 5000ms);
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto second_ms = ms_since(t0);
  CAF_MESSAGE("second announce after " << second_ms << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(second_ms, 900);
  CAF_REQUIRE_EQUAL(next_report(self, 5000ms).kind, report::peers);
  // And then on its own after the interval.
  reqs = tracker.wait_requests(3, 5000ms);
  CAF_REQUIRE_EQUAL(reqs.size(), 3u);
  auto third_ms = ms_since(t0);
  CAF_MESSAGE("third announce after " << third_ms << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(third_ms, 1800);
  auto q1 = query_params(reqs[0]);
  auto q2 = query_params(reqs[1]);
  auto q3 = query_params(reqs[2]);
  CAF_CHECK_EQUAL(q1["event"], "started");
  CAF_CHECK_EQUAL(q1.count("trackerid"), 0u);
  CAF_CHECK_EQUAL(q2.count("event"), 0u);
  CAF_CHECK_EQUAL(q2["left"], "60");
  CAF_CHECK_EQUAL(q2["downloaded"], "40");
  CAF_CHECK_EQUAL(q2["trackerid"], "tid-9");
  CAF_CHECK_EQUAL(q3.count("event"), 0u);
  CAF_CHECK_EQUAL(q3["left"], "60");
  CAF_CHECK_EQUAL(q3["trackerid"], "tid-9");
  CAF_CHECK_EQUAL(q3["key"], q1["key"]);
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{true});
}

CAF_TEST(when every tracker fails the announce is retried with exponential back-off) {
  auto dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/announce";
  caf::scoped_actor self{sys};
  auto c = config({{dead}}, self);
  c.retry_initial = 300ms;
  c.retry_max = 10s;
  auto a = spawn_announcer(sys, c);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  std::vector<steady::time_point> at;
  for (int i = 0; i < 3; ++i) {
    auto r = next_report(self, 5000ms);
    CAF_REQUIRE_EQUAL(r.kind, report::failed);
    CAF_CHECK_EQUAL(r.url, dead);
    at.push_back(steady::now());
  }
  auto gap = [&](std::size_t i) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at[i] - at[i - 1]).count();
  };
  CAF_MESSAGE("retry gaps " << gap(1) << " ms, " << gap(2) << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(gap(1), 250);
  CAF_CHECK_LESS(gap(1), 1000);
  CAF_CHECK_GREATER_OR_EQUAL(gap(2), 550);
  CAF_CHECK_LESS(gap(2), 1500);
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{false});
}

CAF_TEST(a sleeping announcer hands over its state and one spawned from it goes on) {
  auto resp = sample_response();
  resp.interval = 2;
  resp.min_interval = 1;
  resp.tracker_id = "tid-7";
  fake_http_tracker tracker{[&](const std::string&) { return ok_answer(resp); }};
  caf::scoped_actor self{sys};
  auto c = config({{tracker.url()}}, self);
  c.interval_floor = caf::timespan{0};
  auto a = spawn_announcer(sys, c);
  self->monitor(a);
  auto t0 = steady::now();
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{5, 0, 0});
  CAF_REQUIRE_EQUAL(next_report(self, 5000ms).kind, report::peers);
  announce_nap_ptr nap;
  self->request(a, 5s, sleep_atom_v).receive([&](announce_nap_ptr& n) { nap = std::move(n); },
                                              [&](caf::error& err) { CAF_FAIL("sleep refused: " << err); });
  CAF_REQUIRE(nap != nullptr);
  // It quit without a word to the tracker.
  bool down = false;
  self->receive([&](caf::down_msg& dm) { down = dm.source == a.address(); }, caf::after(2s) >> [] {});
  CAF_CHECK(down);
  CAF_CHECK_EQUAL(tracker.requests().size(), 1u);
  CAF_REQUIRE(nap->due.has_value());
  auto due_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*nap->due - t0).count();
  CAF_MESSAGE("re-announce due " << due_ms << " ms after the first");
  CAF_CHECK_GREATER_OR_EQUAL(due_ms, 1900);
  CAF_CHECK_LESS(due_ms, 4000);
  CAF_CHECK_EQUAL(nap->trackerids.at(tracker.url()), "tid-7");
  CAF_CHECK_EQUAL(nap->failures, 0u);
  CAF_CHECK_EQUAL(nap->last_answered, tracker.url());
  // A new one from the nap: no `started` again; it announces when the old one would have.
  c.nap = nap;
  c.seed = 7; // ignored: the key and tier order come from the nap
  auto b = spawn_announcer(sys, c);
  auto reqs = tracker.wait_requests(2, 5000ms);
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto second_ms = ms_since(t0);
  CAF_MESSAGE("second announce after " << second_ms << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(second_ms, 1900);
  auto q1 = query_params(reqs[0]);
  auto q2 = query_params(reqs[1]);
  CAF_CHECK_EQUAL(q1["event"], "started");
  CAF_CHECK_EQUAL(q2.count("event"), 0u);
  CAF_CHECK_EQUAL(q2["key"], q1["key"]);
  CAF_CHECK_EQUAL(q2["trackerid"], "tid-7");
  CAF_CHECK_EQUAL(q2["uploaded"], "5"); // the totals it was given before the sleep
  CAF_CHECK_EQUAL(next_report(self, 5000ms).kind, report::peers);
  CAF_CHECK_EQUAL(stop(self, b), std::optional<bool>{true});
}

CAF_TEST(an announcer does not sleep while a request is in flight) {
  fake_http_tracker tracker{[](const std::string&) { return http_answer{200, "", true}; }};
  caf::scoped_actor self{sys};
  auto a = spawn_announcer(sys, config({{tracker.url()}}, self));
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  CAF_REQUIRE_EQUAL(tracker.wait_requests(1, 5000ms).size(), 1u); // in flight, hanging
  bool refused = false;
  self->request(a, 5s, sleep_atom_v).receive([&](announce_nap_ptr&) {}, [&](caf::error&) { refused = true; });
  CAF_CHECK(refused);
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{false}); // still there: it answers the stop
}

CAF_TEST(announcers sharing a gate of one slot talk to trackers one at a time) {
  fake_http_tracker tracker{[](const std::string&) { return http_answer{200, "", true}; }};
  caf::scoped_actor self{sys};
  auto gate = logic::slot_gate::make(1);
  auto c = config({{tracker.url()}}, self);
  c.gate = gate;
  c.request_timeout = 1s;
  auto a = spawn_announcer(sys, c);
  auto b = spawn_announcer(sys, c);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  CAF_REQUIRE_EQUAL(tracker.wait_requests(1, 5000ms).size(), 1u); // a's, hanging
  auto t0 = steady::now();
  self->send(b, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  // b waits for a's turn to end (its request times out after 1 s)
  CAF_CHECK_EQUAL(tracker.wait_requests(2, 500ms).size(), 1u);
  CAF_CHECK_EQUAL(gate->waiting(), 1u);
  CAF_CHECK_EQUAL(gate->in_use(), 1u);
  CAF_REQUIRE_EQUAL(tracker.wait_requests(2, 5000ms).size(), 2u);
  auto waited = ms_since(t0);
  CAF_MESSAGE("b's request came " << waited << " ms after it was asked for");
  CAF_CHECK_GREATER_OR_EQUAL(waited, 500);
  CAF_CHECK_EQUAL(gate->waiting(), 0u);
  CAF_CHECK_EQUAL(gate->in_use(), 1u);
  CAF_CHECK_EQUAL(gate->granted(), 2u);
  // the final announces do not wait for a turn: both answer within their bound
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{false});
  CAF_CHECK_EQUAL(stop(self, b), std::optional<bool>{false});
  for (int i = 0; i < 100 && gate->in_use() > 0; ++i)
    std::this_thread::sleep_for(20ms);
  CAF_CHECK_EQUAL(gate->in_use(), 0u);
}

CAF_TEST(an announcer stopped while it waits for a turn gives the turn on) {
  fake_http_tracker tracker{[](const std::string&) { return http_answer{200, "", true}; }};
  caf::scoped_actor self{sys};
  auto gate = logic::slot_gate::make(1);
  auto c = config({{tracker.url()}}, self);
  c.gate = gate;
  auto a = spawn_announcer(sys, c); // its request hangs up to 10 s, holding the slot
  auto b = spawn_announcer(sys, c);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  CAF_REQUIRE_EQUAL(tracker.wait_requests(1, 5000ms).size(), 1u);
  self->send(b, announce_atom_v, announce_event::started, transfer_totals{0, 0, 1});
  for (int i = 0; i < 100 && gate->waiting() == 0; ++i)
    std::this_thread::sleep_for(20ms);
  CAF_REQUIRE_EQUAL(gate->waiting(), 1u);
  // b is stopped while it waits (a sleeping torrent's announcer cannot nap while it waits)
  bool refused = false;
  self->request(b, 5s, sleep_atom_v).receive([&](announce_nap_ptr&) {}, [&](caf::error&) { refused = true; });
  CAF_CHECK(refused);
  CAF_CHECK_EQUAL(stop(self, b), std::optional<bool>{false}); // its `stopped` went out (and hung)
  auto reqs = tracker.wait_requests(2, 2000ms);
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto q = query_params(reqs[1]);
  CAF_CHECK_EQUAL(q["event"], "stopped");
  // a's stop ends its turn; b, gone, does not hold it: nothing is out, nobody waits
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{false});
  for (int i = 0; i < 100 && (gate->in_use() > 0 || gate->waiting() > 0); ++i)
    std::this_thread::sleep_for(20ms);
  CAF_CHECK_EQUAL(gate->in_use(), 0u);
  CAF_CHECK_EQUAL(gate->waiting(), 0u);
  CAF_CHECK_EQUAL(gate->granted(), 2u); // a's, and b's turn that passed on at once
}

CAF_TEST(an invalid config makes an inert announcer that says why) {
  caf::scoped_actor self{sys};
  auto c = config({}, self);
  auto a = spawn_announcer(sys, c);
  self->send(a, announce_atom_v, announce_event::started, transfer_totals{});
  auto r = next_report(self, 2000ms);
  CAF_REQUIRE_EQUAL(r.kind, report::failed);
  CAF_CHECK_EQUAL(r.url, "");
  CAF_CHECK_EQUAL(r.reason, "invalid announcer config: no tracker urls");
  CAF_CHECK_EQUAL(stop(self, a), std::optional<bool>{false});
}

CAF_TEST(opentracker answers over http and udp) {
  const char* bin = "/usr/bin/opentracker";
  if (::access(bin, X_OK) != 0) {
    ACTORRENT_SKIP(std::string{bin} + " is not installed");
  }
  // A run directory readable by `nobody` (opentracker drops privileges).
  char tmpl[] = "/tmp/actorrent-opentracker-XXXXXX";
  CAF_REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  ::chmod(dir.c_str(), 0755);
  {
    std::ofstream wl{dir + "/whitelist"};
    wl << counting_hash().hex() << "\n";
  }
  ::chmod((dir + "/whitelist").c_str(), 0644);
  // A port free for both TCP and UDP.
  std::uint16_t port = 0;
  for (int attempt = 0; attempt < 20 && port == 0; ++attempt) {
    std::uint16_t p = 0;
    int t = bound_socket(SOCK_STREAM, false, p);
    std::uint16_t p2 = p;
    int u = -1;
    {
      int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa.sin_port = htons(p2);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0)
        u = fd;
      else
        ::close(fd);
    }
    if (u >= 0) {
      port = p;
      ::close(u);
    }
    ::close(t);
  }
  CAF_REQUIRE(port != 0);
  auto port_text = std::to_string(port);
  pid_t pid = ::fork();
  CAF_REQUIRE(pid >= 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::execl(bin, bin, "-i", "127.0.0.1", "-p", port_text.c_str(), "-P", port_text.c_str(), "-d",
            dir.c_str(), "-w", "whitelist", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto cleanup = [&] {
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid)
        break;
      std::this_thread::sleep_for(20ms);
      if (i == 49) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  // Wait until it listens (bounded).
  bool up = false;
  bool exited = false;
  for (int i = 0; i < 100 && !up && !exited; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true; // e.g. it could not drop privileges when not run as root
      break;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    up = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    ::close(fd);
    if (!up)
      std::this_thread::sleep_for(50ms);
  }
  if (exited) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    ACTORRENT_SKIP("opentracker exited at start (it drops privileges to nobody: not root?)");
  }
  if (!up) {
    cleanup();
    CAF_FAIL("opentracker did not start listening on port " << port);
  }
  {
    caf::scoped_actor self{sys};
    auto http_url = "http://127.0.0.1:" + port_text + "/announce";
    auto udp_url = "udp://127.0.0.1:" + port_text + "/announce";
    // Two peers: one over HTTP, one over UDP; each sees the other.
    auto c1 = config({{http_url}}, self);
    c1.port = 7001;
    auto a1 = spawn_announcer(sys, c1);
    self->send(a1, announce_atom_v, announce_event::started, transfer_totals{0, 0, 0});
    auto r1 = next_report(self, 5000ms);
    CAF_CHECK_EQUAL(r1.kind, report::peers);
    CAF_MESSAGE("http: " << r1.reason << " peers " << r1.reply.peers.size());
    auto c2 = config({{udp_url}}, self);
    c2.port = 7002;
    c2.peer_id.bytes[19] ^= 1;
    auto a2 = spawn_announcer(sys, c2);
    self->send(a2, announce_atom_v, announce_event::started, transfer_totals{0, 0, 100});
    auto r2 = next_report(self, 5000ms);
    CAF_CHECK_EQUAL(r2.kind, report::peers);
    CAF_MESSAGE("udp: " << r2.reason << " peers " << r2.reply.peers.size());
    CAF_CHECK(std::find(r2.reply.peers.begin(), r2.reply.peers.end(),
                        peer_endpoint::v4(127, 0, 0, 1, 7001))
              != r2.reply.peers.end());
    CAF_CHECK_EQUAL(r2.reply.seeders, 1u);
    CAF_CHECK_EQUAL(r2.reply.leechers, 1u);
    CAF_CHECK_EQUAL(stop(self, a1), std::optional<bool>{true});
    CAF_CHECK_EQUAL(stop(self, a2), std::optional<bool>{true});
  }
  cleanup();
}

CAF_TEST_FIXTURE_SCOPE_END()
