// The daemon's change feed: a bounded ring of events with increasing ids, and its
// HTTP side (Server-Sent Events on cpp-httplib), plus the /metrics route. CAF-free.
//
// The session publishes nlohmann::json events {"type": "added"|"state"|"completed"|
// "removed"|"error"|"stats", "id": <torrent id>, ...} (the "id" inside an event is the
// torrent's; the feed's own sequence number is event::seq). Readers ask for the events
// after a sequence number they have seen; when the ring has dropped some of those, the
// reader is told to reset (re-read the state with torrents.list, then follow the feed
// from `latest`).
//
// Sequence numbers start, by default, at the wall clock in microseconds at the feed's
// construction: a cursor kept by a client across a daemon restart is then older than
// any event of the new daemon and gets a reset, never a silent gap. They stay below
// 2^53, so JavaScript reads them exactly.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace actorrent::api {

struct feed_event {
  std::uint64_t seq = 0;
  std::string type; // the event's "type" ("message" if it had none)
  std::string data; // the event as compact JSON, one line
};

struct feed_read {
  std::vector<feed_event> events; // in increasing seq, at most max_batch
  // The cursor named events the ring no longer holds (older than the ring, or from
  // another run of the daemon, or beyond the latest): the reader must re-read the
  // state and continue after `latest`. events is empty then.
  bool reset = false;
  std::uint64_t oldest = 0; // seq of the oldest event held (0: none yet)
  std::uint64_t latest = 0; // seq of the newest event published (first_seq - 1: none yet)
  bool closed = false;      // close() was called: no more events will come
};

class event_feed {
public:
  struct options {
    std::size_t capacity = 4096; // events held (at least 1)
    std::size_t max_batch = 256; // events returned by one read
    // the first event's seq; 0: the wall clock in microseconds at construction
    std::uint64_t first_seq = 0;
  };
  event_feed() : event_feed(options{}) {}
  explicit event_feed(options opts);
  event_feed(const event_feed&) = delete;
  event_feed& operator=(const event_feed&) = delete;

  // Appends an event (thread-safe; O(size of the JSON) to serialize it once) and wakes
  // the readers; returns its seq. After close() the event is dropped and 0 returned.
  std::uint64_t publish(const nlohmann::json& event);
  // The events after seq `after` (which the reader has seen), at once if there are
  // any, else waiting up to `timeout` for one (or for close()).
  feed_read wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const;
  // Without waiting.
  feed_read read_after(std::uint64_t after) const { return wait_after(after, std::chrono::milliseconds{0}); }
  // The seq of the newest event (first_seq() - 1 if none): a new reader that wants only
  // what comes next starts after it.
  std::uint64_t latest() const;
  std::uint64_t first_seq() const { return first_seq_; }
  std::size_t size() const;
  std::size_t capacity() const { return opts_.capacity; }
  // Wakes every reader and ends every stream; publish() is refused from now on.
  void close();
  bool closed() const;

private:
  feed_read collect(std::uint64_t after) const; // with mtx_ held
  options opts_;
  std::uint64_t first_seq_;
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::deque<feed_event> ring_;
  std::uint64_t next_seq_;
  bool closed_ = false;
};

// Decides whether a request may proceed: returns true, or fills the response (401,
// 403, ...) and returns false. An empty function allows everything.
using authorize_fn = std::function<bool(const httplib::Request&, httplib::Response&)>;

struct events_options {
  // a comment line sent when no event came for this long (keeps proxies and the
  // reader's idle timeout from closing the stream)
  std::chrono::milliseconds heartbeat{15000};
  // streams open at once; one more is answered 503 with Retry-After. Each stream
  // holds one of the server's worker threads (cpp-httplib's pool has
  // max(8, cores - 1) by default): keep this below the pool size.
  std::size_t max_streams = 4;
  // the reconnection delay the stream suggests to EventSource clients
  std::chrono::milliseconds retry{3000};
  // how often a waiting stream checks whether the server or the feed stopped
  std::chrono::milliseconds poll{200};
  std::string path = "/api/v1/events";
};

// What the events route shares with its streams (a counter of open streams and a
// stop flag); stop() ends every stream within `poll`.
class events_endpoint {
public:
  std::size_t open_streams() const { return open_.load(); }
  std::uint64_t streams_served() const { return served_.load(); }
  std::uint64_t streams_refused() const { return refused_.load(); }
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_.load(); }

private:
  friend std::shared_ptr<events_endpoint> mount_events(httplib::Server&, event_feed&,
                                                        authorize_fn, events_options);
  std::atomic<std::size_t> open_{0};
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<bool> stopped_{false};
};

// GET <path> (default /api/v1/events) as Server-Sent Events (text/event-stream):
//   retry: <ms>                       once, first
//   id: <seq>\nevent: <type>\ndata: <json>\n\n    per event
//   : heartbeat\n\n                   after `heartbeat` without an event
// Where to start: the Last-Event-ID header, else the query parameter `cursor`
// (a seq; "0" means from the oldest event held), else only events published from now
// on. A cursor the ring no longer covers gets one event
//   id: <latest>\nevent: reset\ndata: {"type":"reset","reason":...,"oldest":..,"latest":..}
// and the stream goes on after <latest>. A malformed cursor is answered 400 with a JSON
// body. The stream ends when the client goes away, the feed is closed, the endpoint
// is stopped, or the server is stopped (httplib::Server::stop(): noticed within
// `poll`), so Server::listen() returns promptly.
// The feed and the server must outlive the route; the returned endpoint may be kept
// to count and stop streams.
std::shared_ptr<events_endpoint> mount_events(httplib::Server& server, event_feed& feed,
                                              authorize_fn authorize = {},
                                              events_options opts = {});

// GET /metrics: render() in the Prometheus text format (Content-Type
// registry::content_type). authorize as for the events (empty: no check).
void mount_metrics(httplib::Server& server, std::function<std::string()> render,
                   authorize_fn authorize = {});

} // namespace actorrent::api
