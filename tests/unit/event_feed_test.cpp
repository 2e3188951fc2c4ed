// The change feed's ring (api/event_feed.*): ids, waiting readers, resets, and its
// SSE route stopping with the server.
#define CAF_SUITE event_feed
#include <caf/test/unit_test.hpp>

#include "api/event_feed.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <future>
#include <thread>

using namespace actorrent::api;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

event_feed::options opts(std::size_t capacity, std::uint64_t first = 100) {
  event_feed::options o;
  o.capacity = capacity;
  o.first_seq = first;
  return o;
}

} // namespace

CAF_TEST(events get increasing ids and are read after a cursor) {
  event_feed f{opts(8)};
  CAF_CHECK_EQUAL(f.latest(), 99u); // nothing yet: first_seq - 1
  auto r0 = f.read_after(99);
  CAF_CHECK(!r0.reset);
  CAF_CHECK(r0.events.empty());
  CAF_CHECK_EQUAL(f.publish(json{{"type", "added"}, {"id", "aa"}}), 100u);
  CAF_CHECK_EQUAL(f.publish(json{{"type", "state"}, {"id", "aa"}, {"state", "seeding"}}), 101u);
  CAF_CHECK_EQUAL(f.publish(json{{"no_type", 1}}), 102u);
  CAF_CHECK_EQUAL(f.publish(json::array({1, 2})), 103u);
  auto r = f.read_after(99);
  CAF_REQUIRE_EQUAL(r.events.size(), 4u);
  CAF_CHECK_EQUAL(r.events[0].seq, 100u);
  CAF_CHECK_EQUAL(r.events[0].type, "added");
  auto second = json::parse(r.events[1].data);
  CAF_CHECK_EQUAL(second.value("state", ""), "seeding");
  CAF_CHECK_EQUAL(r.events[2].type, "message");
  CAF_CHECK_EQUAL(r.events[3].type, "message");
  CAF_CHECK_EQUAL(r.oldest, 100u);
  CAF_CHECK_EQUAL(r.latest, 103u);
  auto tail = f.read_after(101);
  CAF_REQUIRE_EQUAL(tail.events.size(), 2u);
  CAF_CHECK_EQUAL(tail.events[0].seq, 102u);
  CAF_CHECK(f.read_after(103).events.empty());
}

CAF_TEST(event data is one line of JSON and the type is a safe name) {
  event_feed f{opts(4)};
  f.publish(json{{"type", "bad\nname: x"}, {"name", "two\nlines \xFF"}});
  auto r = f.read_after(99);
  CAF_REQUIRE_EQUAL(r.events.size(), 1u);
  CAF_CHECK_EQUAL(r.events[0].type, "bad_name__x");
  CAF_CHECK(r.events[0].data.find('\n') == std::string::npos);
  CAF_CHECK(r.events[0].data.find("\\n") != std::string::npos);
  CAF_CHECK(r.events[0].data.find("\xEF\xBF\xBD") != std::string::npos); // invalid UTF-8 replaced
}

CAF_TEST(the ring is bounded and an old cursor gets a reset) {
  event_feed f{opts(3)};
  for (int i = 0; i < 10; ++i)
    f.publish(json{{"type", "stats"}, {"n", i}});
  CAF_CHECK_EQUAL(f.size(), 3u);
  auto r = f.read_after(106); // 107..109 held
  CAF_CHECK(!r.reset);
  CAF_CHECK_EQUAL(r.events.size(), 3u);
  CAF_CHECK_EQUAL(r.oldest, 107u);
  auto old = f.read_after(105); // 106 is gone
  CAF_CHECK(old.reset);
  CAF_CHECK(old.events.empty());
  CAF_CHECK_EQUAL(old.latest, 109u);
  auto future = f.read_after(500); // a cursor beyond the latest (another daemon)
  CAF_CHECK(future.reset);
  auto fresh = f.read_after(f.latest());
  CAF_CHECK(!fresh.reset);
  CAF_CHECK(fresh.events.empty());
}

CAF_TEST(a cursor from an earlier run is older than the first event) {
  event_feed earlier; // first seq from the wall clock
  for (int i = 0; i < 50; ++i)
    earlier.publish(json{{"type", "added"}});
  auto cursor = earlier.latest();
  std::this_thread::sleep_for(2ms);
  event_feed later;
  CAF_CHECK_GREATER(later.first_seq(), cursor);
  CAF_CHECK(later.read_after(cursor).reset); // empty ring, old cursor
  later.publish(json{{"type", "added"}});
  CAF_CHECK(later.read_after(cursor).reset);
  CAF_CHECK_LESS(later.first_seq(), std::uint64_t{1} << 53); // exact in JavaScript
}

CAF_TEST(reads are bounded by max_batch) {
  event_feed::options o = opts(100);
  o.max_batch = 4;
  event_feed f{o};
  for (int i = 0; i < 10; ++i)
    f.publish(json{{"type", "x"}});
  auto r = f.read_after(99);
  CAF_CHECK_EQUAL(r.events.size(), 4u);
  r = f.read_after(r.events.back().seq);
  CAF_CHECK_EQUAL(r.events.front().seq, 104u);
}

CAF_TEST(a waiting reader wakes on publish and times out otherwise) {
  event_feed f{opts(16)};
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.wait_after(99, 50ms);
  auto waited = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(r.events.empty());
  CAF_CHECK_GREATER_OR_EQUAL(waited, 45ms);
  auto reader = std::async(std::launch::async, [&] { return f.wait_after(99, 5s); });
  std::this_thread::sleep_for(20ms);
  t0 = std::chrono::steady_clock::now();
  f.publish(json{{"type", "completed"}});
  auto got = reader.get();
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - t0, 2s);
  CAF_REQUIRE_EQUAL(got.events.size(), 1u);
  CAF_CHECK_EQUAL(got.events[0].type, "completed");
}

CAF_TEST(close wakes readers and refuses new events) {
  event_feed f{opts(16)};
  auto reader = std::async(std::launch::async, [&] { return f.wait_after(99, 10s); });
  std::this_thread::sleep_for(20ms);
  auto t0 = std::chrono::steady_clock::now();
  f.close();
  auto r = reader.get();
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - t0, 2s);
  CAF_CHECK(r.closed);
  CAF_CHECK_EQUAL(f.publish(json{{"type", "x"}}), 0u);
  CAF_CHECK(f.closed());
}

CAF_TEST(many publishers and readers see every event in order) {
  event_feed f{opts(100000)};
  std::vector<std::thread> pubs;
  for (int t = 0; t < 4; ++t)
    pubs.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        f.publish(json{{"type", "stats"}});
    });
  std::uint64_t after = 99, seen = 0;
  bool in_order = true;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (seen < 8000 && std::chrono::steady_clock::now() < deadline) {
    auto r = f.wait_after(after, 100ms);
    for (auto& e : r.events) {
      in_order = in_order && e.seq == after + 1;
      after = e.seq;
      ++seen;
    }
  }
  for (auto& t : pubs)
    t.join();
  CAF_CHECK(in_order);
  CAF_CHECK_EQUAL(seen, 8000u);
}

CAF_TEST(an open event stream ends when the server stops) {
  event_feed f{opts(64)};
  httplib::Server svr;
  events_options eo;
  eo.heartbeat = 100ms;
  eo.poll = 50ms;
  auto ep = mount_events(svr, f, {}, eo);
  int port = svr.bind_to_any_port("127.0.0.1");
  CAF_REQUIRE_GREATER(port, 0);
  std::thread server([&] { svr.listen_after_bind(); });
  for (int i = 0; i < 500 && !svr.is_running(); ++i)
    std::this_thread::sleep_for(10ms);
  std::string received;
  std::mutex mtx;
  std::thread client([&] {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(10, 0);
    cli.Get("/api/v1/events?cursor=0", [&](const char* data, size_t len) {
      std::lock_guard<std::mutex> guard{mtx};
      received.append(data, len);
      return true;
    });
  });
  // wait (bounded) for the stream to be open, then publish
  for (int i = 0; i < 200 && ep->open_streams() == 0; ++i)
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_EQUAL(ep->open_streams(), 1u);
  f.publish(json{{"type", "added"}, {"id", "cafe"}});
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    std::this_thread::sleep_for(10ms);
    std::lock_guard<std::mutex> guard{mtx};
    seen = received.find("event: added") != std::string::npos;
  }
  CAF_CHECK(seen);
  std::this_thread::sleep_for(250ms); // a heartbeat or two
  auto t0 = std::chrono::steady_clock::now();
  svr.stop();
  server.join(); // returns only once the stream's worker has ended
  auto took = std::chrono::steady_clock::now() - t0;
  client.join();
  CAF_CHECK_LESS(took, 3s);
  CAF_CHECK_EQUAL(ep->open_streams(), 0u);
  std::lock_guard<std::mutex> guard{mtx};
  CAF_CHECK(received.rfind("retry: ", 0) == 0);
  CAF_CHECK(received.find("id: 100\nevent: added\ndata: {\"id\":\"cafe\",\"type\":\"added\"}\n\n")
            != std::string::npos);
  CAF_CHECK(received.find(": heartbeat\n\n") != std::string::npos);
}
