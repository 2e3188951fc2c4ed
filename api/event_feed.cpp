#include "api/event_feed.hpp"
#include "api/metrics.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace actorrent::api {

// ---- the ring -----------------------------------------------------------------------

namespace {

std::uint64_t wall_clock_micros() {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return us > 0 ? static_cast<std::uint64_t>(us) : 1;
}

// An SSE field value must not hold a line break; event names are kept to a safe set.
std::string sse_event_name(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-' || c == '.';
    out += ok ? c : '_';
  }
  return out.empty() ? "message" : out;
}

} // namespace

event_feed::event_feed(options opts) : opts_(opts) {
  if (opts_.capacity == 0)
    opts_.capacity = 1;
  if (opts_.max_batch == 0)
    opts_.max_batch = 1;
  first_seq_ = opts_.first_seq != 0 ? opts_.first_seq : wall_clock_micros();
  next_seq_ = first_seq_;
}

std::uint64_t event_feed::publish(const nlohmann::json& event) {
  feed_event e;
  std::string type = "message";
  if (event.is_object()) {
    auto it = event.find("type");
    if (it != event.end() && it->is_string())
      type = it->get<std::string>();
  }
  e.type = sse_event_name(type);
  // invalid UTF-8 in a string (a torrent name) becomes U+FFFD instead of throwing
  e.data = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::uint64_t seq;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return 0;
    seq = e.seq = next_seq_++;
    ring_.push_back(std::move(e));
    while (ring_.size() > opts_.capacity)
      ring_.pop_front();
  }
  cv_.notify_all();
  return seq;
}

feed_read event_feed::collect(std::uint64_t after) const {
  feed_read r;
  r.closed = closed_;
  r.latest = next_seq_ - 1;
  r.oldest = ring_.empty() ? 0 : ring_.front().seq;
  std::uint64_t floor = ring_.empty() ? r.latest : r.oldest - 1; // the oldest valid cursor
  if (after > r.latest || after < floor) {
    r.reset = true;
    return r;
  }
  std::size_t first = static_cast<std::size_t>(after - floor); // index of seq after + 1
  std::size_t n = std::min(ring_.size() - first, opts_.max_batch);
  r.events.assign(ring_.begin() + static_cast<std::ptrdiff_t>(first),
                  ring_.begin() + static_cast<std::ptrdiff_t>(first + n));
  return r;
}

feed_read event_feed::wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock{mtx_};
  if (timeout.count() > 0)
    cv_.wait_for(lock, timeout, [&] { return closed_ || next_seq_ - 1 != after; });
  return collect(after);
}

std::uint64_t event_feed::latest() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_seq_ - 1;
}

std::size_t event_feed::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ring_.size();
}

void event_feed::close() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
  }
  cv_.notify_all();
}

bool event_feed::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}

// ---- HTTP -------------------------------------------------------------------------------

namespace {

void json_error(httplib::Response& res, int status, const std::string& message) {
  nlohmann::json body = {{"error", message}};
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// A cursor: decimal digits only, fitting 64 bits.
std::optional<std::uint64_t> parse_cursor(const std::string& s) {
  if (s.empty() || s.size() > 20)
    return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

void append_event(std::string& out, const feed_event& e) {
  out += "id: ";
  out += std::to_string(e.seq);
  out += "\nevent: ";
  out += e.type;
  out += "\ndata: ";
  out += e.data; // compact JSON: no line break
  out += "\n\n";
}

void append_reset(std::string& out, const feed_read& r, const char* reason) {
  nlohmann::json body = {{"type", "reset"},
                         {"reason", reason},
                         {"oldest", r.oldest},
                         {"latest", r.latest}};
  feed_event e{r.latest, "reset", body.dump()};
  append_event(out, e);
}

// One open stream: where it is in the feed, and a guard that counts it.
struct stream_state {
  std::uint64_t after = 0;
  bool started = false;
  std::chrono::steady_clock::time_point last_write;
  std::shared_ptr<events_endpoint> endpoint;
  std::atomic<std::size_t>* open = nullptr;
  ~stream_state() {
    if (open != nullptr)
      open->fetch_sub(1);
  }
};

} // namespace

std::shared_ptr<events_endpoint> mount_events(httplib::Server& server, event_feed& feed,
                                              authorize_fn authorize, events_options opts) {
  auto ep = std::make_shared<events_endpoint>();
  if (opts.poll.count() <= 0)
    opts.poll = std::chrono::milliseconds{200};
  if (opts.heartbeat.count() <= 0)
    opts.heartbeat = std::chrono::milliseconds{15000};
  server.Get(opts.path, [ep, &feed, authorize, opts](const httplib::Request& req,
                                                      httplib::Response& res) {
    if (authorize && !authorize(req, res))
      return;
    // where to start
    std::optional<std::uint64_t> cursor;
    std::string raw;
    if (req.has_header("Last-Event-ID"))
      raw = req.get_header_value("Last-Event-ID");
    else if (req.has_param("cursor"))
      raw = req.get_param_value("cursor");
    if (!raw.empty() || req.has_header("Last-Event-ID") || req.has_param("cursor")) {
      cursor = parse_cursor(raw);
      if (!cursor) {
        json_error(res, 400, "the cursor (Last-Event-ID or ?cursor=) must be an event id in decimal");
        return;
      }
    }
    if (ep->stopped() || feed.closed()) {
      json_error(res, 503, "the event feed is shutting down");
      return;
    }
    // one more stream, if there is room
    auto n = ep->open_.load();
    do {
      if (n >= opts.max_streams) {
        ep->refused_.fetch_add(1);
        res.set_header("Retry-After", "5");
        json_error(res, 503,
                   "too many event streams open (" + std::to_string(opts.max_streams) + ")");
        return;
      }
    } while (!ep->open_.compare_exchange_weak(n, n + 1));
    ep->served_.fetch_add(1);
    auto st = std::make_shared<stream_state>();
    st->open = &ep->open_;
    st->endpoint = ep; // keeps the counter alive as long as the stream
    if (!cursor) {
      st->after = feed.latest();
    } else if (*cursor == 0) {
      auto r = feed.read_after(feed.latest());
      st->after = r.oldest != 0 ? r.oldest - 1 : r.latest;
    } else {
      st->after = *cursor;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
      "text/event-stream",
      [st, &feed, opts](std::size_t, httplib::DataSink& sink) -> bool {
        // cpp-httplib calls this again after each return and checks between calls
        // whether the server is stopping, so no call waits longer than opts.poll.
        std::string out;
        auto now = std::chrono::steady_clock::now();
        if (!st->started) {
          st->started = true;
          out += "retry: " + std::to_string(opts.retry.count()) + "\n\n";
          st->last_write = now;
        }
        if (st->endpoint->stopped()) {
          if (!out.empty())
            sink.write(out.data(), out.size());
          sink.done();
          return true;
        }
        auto r = out.empty() ? feed.wait_after(st->after, opts.poll) : feed.read_after(st->after);
        if (r.reset) {
          const char* reason = st->after > r.latest ? "unknown_cursor" : "cursor_too_old";
          append_reset(out, r, reason);
          st->after = r.latest;
        } else {
          for (auto& e : r.events)
            append_event(out, e);
          if (!r.events.empty())
            st->after = r.events.back().seq;
        }
        now = std::chrono::steady_clock::now();
        if (out.empty() && now - st->last_write >= opts.heartbeat)
          out = ": heartbeat\n\n";
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size()))
            return false; // the client went away
          st->last_write = now;
        }
        if (r.closed && r.events.empty())
          sink.done(); // everything sent: end the stream
        return true;
      });
  });
  return ep;
}

void mount_metrics(httplib::Server& server, std::function<std::string()> render,
                   authorize_fn authorize) {
  server.Get("/metrics", [render = std::move(render), authorize = std::move(authorize)](
                           const httplib::Request& req, httplib::Response& res) {
    if (authorize && !authorize(req, res))
      return;
    try {
      res.set_content(render(), registry::content_type);
    } catch (const std::exception& e) {
      json_error(res, 500, std::string("metrics: ") + e.what());
    }
  });
}

} // namespace actorrent::api
