// The tracker announcer: plain parts (tiers, back-off, one blocking request
// over HTTP or UDP) and the actor that drives them. See the header for the
// design; this file follows its order.
#include "actors/tracker_announcer.hpp"

#include "protocol/peer_address.hpp"
#include "protocol/tracker_http.hpp"
#include "protocol/tracker_udp.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <curl/curl.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

namespace actorrent {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t to_ms(caf::timespan t) {
  return std::chrono::duration_cast<milliseconds>(t).count();
}

/// Untrusted tracker text for the torrent's status line: control bytes become
/// '?', at most 256 bytes.
std::string clean_text(std::string_view s) {
  constexpr std::size_t max_len = 256;
  std::string out;
  out.reserve(std::min(s.size(), max_len + 3));
  for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > max_len)
    out += "...";
  return out;
}

tracker::event to_tracker_event(announce_event e) {
  switch (e) {
    case announce_event::started:
      return tracker::event::started;
    case announce_event::completed:
      return tracker::event::completed;
    case announce_event::stopped:
      return tracker::event::stopped;
    case announce_event::none:
      break;
  }
  return tracker::event::none;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i])
      return false;
  }
  return true;
}

tracker::announce_request make_request(const announce::tracker_job& job) {
  tracker::announce_request req;
  req.info_hash = job.info_hash;
  req.peer_id = job.peer_id;
  req.port = job.port;
  req.uploaded = job.totals.uploaded;
  req.downloaded = job.totals.downloaded;
  req.left = job.totals.left;
  req.event = to_tracker_event(job.event);
  req.compact = true;
  req.numwant = job.numwant;
  req.key = job.key;
  req.trackerid = job.trackerid;
  return req;
}

std::string timed_out(std::uint32_t timeout_ms) {
  return "timed out after " + std::to_string(timeout_ms) + " ms";
}

// ---- HTTP(S) via libcurl --------------------------------------------------------

struct body_sink {
  std::string data;
  std::size_t cap = 0;
  bool overflow = false;
};

extern "C" size_t actorrent_announce_write(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  auto n = size * nmemb;
  if (n > sink->cap - sink->data.size()) {
    sink->overflow = true;
    return n == 0 ? 1 : 0; // any count other than n aborts the transfer
  }
  sink->data.append(ptr, n);
  return n;
}

struct easy_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct multi_deleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};

announce::tracker_outcome perform_http(const announce::tracker_job& job,
                                       const std::atomic<bool>* cancel) {
  announce::tracker_outcome out;
  out.url = job.url;
  auto url = tracker::build_announce_url(job.url, make_request(job));
  if (!url) {
    out.error = "bad tracker url: " + url.error().message;
    return out;
  }
  announce::init_curl_once();
  std::unique_ptr<CURL, easy_deleter> easy{curl_easy_init()};
  std::unique_ptr<CURLM, multi_deleter> multi{curl_multi_init()};
  if (!easy || !multi) {
    out.error = "curl initialisation failed";
    return out;
  }
  body_sink sink;
  sink.cap = static_cast<std::size_t>(job.max_response_bytes);
  char errbuf[CURL_ERROR_SIZE] = {0};
  auto* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url->c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(job.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(job.timeout_ms));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &actorrent_announce_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); // whatever curl can decode
  curl_easy_setopt(h, CURLOPT_USERAGENT, "actorrent/0.1");
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  if (curl_multi_add_handle(multi.get(), h) != CURLM_OK) {
    out.error = "curl initialisation failed";
    return out;
  }
  // Our own bound in case curl's timeout does not fire.
  auto hard_deadline = clock_type::now() + milliseconds{job.timeout_ms} + std::chrono::seconds{2};
  CURLcode rc = CURLE_OK;
  bool done = false;
  std::string fail;
  while (!done) {
    int running = 0;
    auto mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      fail = std::string{"curl: "} + curl_multi_strerror(mc);
      break;
    }
    int queued = 0;
    while (auto* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done)
      break;
    if (cancel != nullptr && cancel->load()) {
      fail = "cancelled";
      break;
    }
    if (clock_type::now() >= hard_deadline) {
      fail = timed_out(job.timeout_ms);
      break;
    }
    curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_multi_remove_handle(multi.get(), h);
  if (!fail.empty()) {
    out.error = std::move(fail);
    return out;
  }
  if (sink.overflow) {
    out.error = "response larger than " + std::to_string(job.max_response_bytes) + " bytes";
    return out;
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.error = timed_out(job.timeout_ms);
    return out;
  }
  if (rc != CURLE_OK) {
    out.error = errbuf[0] != '\0' ? std::string{errbuf} : std::string{curl_easy_strerror(rc)};
    return out;
  }
  auto parsed = tracker::parse_announce_response(sink.data);
  if (parsed && parsed->failure_reason) {
    out.error = "tracker failure: " + clean_text(*parsed->failure_reason);
    return out;
  }
  if (status != 200) {
    out.error = "http status " + std::to_string(status);
    return out;
  }
  if (!parsed) {
    out.error = "bad tracker response: " + parsed.error().to_string();
    return out;
  }
  auto& r = *parsed;
  out.ok = true;
  out.reply.tracker = job.url;
  out.reply.peers = std::move(r.peers);
  out.reply.interval = r.interval.value_or(1800);
  out.reply.min_interval = r.min_interval.value_or(0);
  out.reply.seeders = r.complete.value_or(0);
  out.reply.leechers = r.incomplete.value_or(0);
  if (r.warning_message)
    out.reply.warning = clean_text(*r.warning_message);
  if (r.tracker_id) {
    out.has_trackerid = true;
    out.trackerid = *r.tracker_id;
  }
  return out;
}

// ---- UDP (BEP 15) -------------------------------------------------------------------

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

struct udp_session {
  int fd = -1;
  address_family family = address_family::v4;
  clock_type::time_point deadline;
  const std::atomic<bool>* cancel = nullptr;
  int max_tries = 4;
  milliseconds rto{1000};
  std::uint32_t timeout_ms = 0;
  std::vector<char> buf = std::vector<char>(65536);
};

std::uint32_t read_u32(std::string_view p, std::size_t pos) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[pos + i]);
  return v;
}

/// Sends `packet` (retransmitting) until the answer with `tid` arrives, the
/// deadline passes or the request is cancelled.
result<tracker::udp::response> exchange(udp_session& s, const std::string& packet,
                                        std::uint32_t tid, tracker::udp::action expected) {
  int tries = 0;
  auto rto = s.rto;
  for (;;) {
    auto now = clock_type::now();
    if (now >= s.deadline)
      return make_error(timed_out(s.timeout_ms) + " (udp " + tracker::udp::to_string(expected)
                        + ", " + std::to_string(tries) + " tries)");
    if (tries < s.max_tries) {
      ++tries;
      auto n = ::send(s.fd, packet.data(), packet.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == ECONNREFUSED)
        return make_error("connection refused");
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return make_error(std::string{"udp send failed: "} + std::strerror(errno));
    }
    auto wait_until = tries < s.max_tries ? std::min(now + rto, s.deadline) : s.deadline;
    rto *= 2;
    while ((now = clock_type::now()) < wait_until) {
      if (s.cancel != nullptr && s.cancel->load())
        return make_error("cancelled");
      auto left = std::chrono::duration_cast<milliseconds>(wait_until - now).count() + 1;
      pollfd pfd{s.fd, POLLIN, 0};
      auto pr = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left, 100)));
      if (pr <= 0)
        continue; // timeout slice, or EINTR
      auto n = ::recv(s.fd, s.buf.data(), s.buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          continue;
        if (errno == ECONNREFUSED)
          return make_error("connection refused");
        return make_error(std::string{"udp receive failed: "} + std::strerror(errno));
      }
      std::string_view p{s.buf.data(), static_cast<std::size_t>(n)};
      if (p.size() < 8 || read_u32(p, 4) != tid)
        continue; // not ours (late answer to an earlier try, or junk)
      return tracker::udp::parse_response(p, expected, tid, s.family);
    }
  }
}

announce::tracker_outcome perform_udp(const announce::tracker_job& job,
                                      const std::atomic<bool>* cancel) {
  namespace udp = tracker::udp;
  announce::tracker_outcome out;
  out.url = job.url;
  auto start = clock_type::now();
  auto url = udp::parse_url(job.url);
  if (!url) {
    out.error = "bad tracker url: " + url.error().message;
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port = std::to_string(url->port);
  if (int rc = ::getaddrinfo(url->host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    out.error = "cannot resolve " + url->host + ": " + gai_strerror(rc);
    return out;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addrs{found, &::freeaddrinfo};
  fd_guard sock;
  udp_session s;
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
    sock.fd = fd;
    s.family = ai->ai_family == AF_INET6 ? address_family::v6 : address_family::v4;
    break;
  }
  if (sock.fd < 0) {
    out.error = connect_error;
    return out;
  }
  s.fd = sock.fd;
  s.deadline = start + milliseconds{job.timeout_ms};
  s.cancel = cancel;
  s.max_tries = std::max(1, job.udp_max_tries);
  s.timeout_ms = job.timeout_ms;
  s.rto = std::clamp(milliseconds{job.timeout_ms / 8}, milliseconds{100}, milliseconds{1000});
  std::mt19937_64 rng{job.rng_seed};
  auto next_tid = [&rng] { return static_cast<std::uint32_t>(rng()); };

  auto conn_id = job.udp_connection_id;
  bool cached = conn_id != 0;
  auto req = make_request(job);
  for (;;) {
    if (conn_id == 0) {
      auto tid = next_tid();
      auto r = exchange(s, udp::encode(udp::connect_request{tid}), tid, udp::action::connect);
      if (!r) {
        out.error = r.error().message;
        return out;
      }
      conn_id = std::get<udp::connect_response>(*r).connection_id;
    }
    auto tid = next_tid();
    auto packet = udp::encode(udp::make_announce_request(req, conn_id, tid, url->request_string));
    auto r = exchange(s, packet, tid, udp::action::announce);
    if (!r) {
      // A cached connection id may have expired at the tracker: one fresh
      // connect, if the tracker answered with an error and time is left.
      bool tracker_said_no = r.error().message.rfind("tracker error", 0) == 0;
      if (cached && tracker_said_no && clock_type::now() < s.deadline) {
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
    out.reply.tracker = job.url;
    out.reply.peers = std::move(a.peers);
    out.reply.interval = a.interval;
    out.reply.seeders = a.seeders;
    out.reply.leechers = a.leechers;
    return out;
  }
}

} // namespace

// ---- config ---------------------------------------------------------------------------

status validate(const announcer_config& cfg) {
  bool any_url = false;
  for (auto& tier : cfg.tiers)
    any_url = any_url || !tier.empty();
  if (!any_url)
    return make_error("no tracker urls");
  if (!cfg.torrent)
    return make_error("no torrent actor");
  if (cfg.request_timeout <= caf::timespan{0})
    return make_error("request timeout must be positive");
  if (cfg.stopped_timeout <= caf::timespan{0})
    return make_error("stopped timeout must be positive");
  if (cfg.retry_initial <= caf::timespan{0})
    return make_error("retry_initial must be positive");
  if (cfg.retry_max < cfg.retry_initial)
    return make_error("retry_max is below retry_initial");
  if (cfg.interval_floor < caf::timespan{0})
    return make_error("interval floor must not be negative");
  if (cfg.numwant < -1)
    return make_error("numwant " + std::to_string(cfg.numwant) + " is below -1");
  if (cfg.udp_max_tries < 1)
    return make_error("udp_max_tries must be at least 1");
  if (cfg.max_response_bytes == 0)
    return make_error("max_response_bytes must be positive");
  return {};
}

namespace announce {

// ---- tiers and back-off ---------------------------------------------------------------

tracker_tiers::tracker_tiers(const std::vector<std::vector<std::string>>& tiers,
                             std::mt19937_64& rng) {
  std::set<std::string> seen;
  for (auto& tier : tiers) {
    std::vector<std::string> kept;
    for (auto& url : tier)
      if (!url.empty() && seen.insert(url).second)
        kept.push_back(url);
    if (kept.empty())
      continue;
    std::shuffle(kept.begin(), kept.end(), rng);
    tiers_.push_back(std::move(kept));
  }
}

std::vector<std::string> tracker_tiers::order() const {
  std::vector<std::string> out;
  for (auto& tier : tiers_)
    out.insert(out.end(), tier.begin(), tier.end());
  return out;
}

bool tracker_tiers::answered(const std::string& url) {
  for (auto& tier : tiers_) {
    auto i = std::find(tier.begin(), tier.end(), url);
    if (i != tier.end()) {
      std::rotate(tier.begin(), i, i + 1);
      return true;
    }
  }
  return false;
}

caf::timespan backoff_delay(unsigned failures, caf::timespan initial, caf::timespan max) {
  auto d = initial;
  for (unsigned i = 1; i < failures && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

// ---- one request ------------------------------------------------------------------------

void init_curl_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

tracker_outcome perform_announce(const tracker_job& job, const std::atomic<bool>* cancel) {
  if (starts_with_nocase(job.url, "http://") || starts_with_nocase(job.url, "https://"))
    return perform_http(job, cancel);
  if (starts_with_nocase(job.url, "udp://"))
    return perform_udp(job, cancel);
  tracker_outcome out;
  out.url = job.url;
  out.error = "unsupported tracker url scheme";
  return out;
}

namespace {

worker_actor::behavior_type worker_fn(worker_actor::pointer self,
                                      std::shared_ptr<std::atomic<bool>> cancel) {
  return {
    [self, cancel](const tracker_job& job) -> tracker_outcome {
      auto out = perform_announce(job, cancel.get());
      self->quit();
      return out;
    },
  };
}

} // namespace

} // namespace announce

// ---- the actor ----------------------------------------------------------------------------

namespace {

using self_ptr = announcer_impl_actor::stateful_pointer<announcer_state>;
using announce::tracker_job;
using announce::tracker_outcome;

/// Extra time the announcer grants a worker beyond its own timeout.
constexpr auto worker_grace = std::chrono::seconds{2};
/// Re-announce at least this often, whatever interval a tracker asks for.
constexpr caf::timespan max_interval = std::chrono::hours{24};
/// A UDP connection id is used for this long after the request that obtained it began.
constexpr auto udp_connection_lifetime = std::chrono::minutes{1};

void report_failure(self_ptr self, const std::string& url, const std::string& reason) {
  if (self->state.cfg.torrent)
    self->send(self->state.cfg.torrent, failed_atom_v, url, reason);
}

void schedule_tick(self_ptr self, caf::timespan delay) {
  auto gen = ++self->state.timer_gen;
  self->delayed_send(caf::actor_cast<announcer_impl_actor>(self), delay, tick_atom_v, gen);
}

tracker_job make_job(self_ptr self, const std::string& url, announce_event event,
                     caf::timespan timeout) {
  auto& st = self->state;
  tracker_job job;
  job.url = url;
  job.info_hash = st.cfg.info_hash;
  job.peer_id = st.cfg.peer_id;
  job.port = st.cfg.port;
  job.totals = st.totals;
  job.event = event;
  job.numwant = event == announce_event::stopped ? 0 : st.cfg.numwant;
  job.key = st.key;
  if (auto i = st.trackerids.find(url); i != st.trackerids.end())
    job.trackerid = i->second;
  job.timeout_ms = static_cast<std::uint32_t>(std::clamp<std::int64_t>(to_ms(timeout), 1, 3'600'000));
  job.max_response_bytes = st.cfg.max_response_bytes;
  if (auto i = st.udp_connections.find(url); i != st.udp_connections.end()) {
    if (clock_type::now() < i->second.expires)
      job.udp_connection_id = i->second.id;
    else
      st.udp_connections.erase(i);
  }
  job.udp_max_tries = st.cfg.udp_max_tries;
  job.rng_seed = st.rng();
  return job;
}

/// Runs `job` in a fresh detached worker; `handler` gets its outcome, or a
/// failed outcome if the worker does not answer within `bound`.
template <class Handler>
void run_job(self_ptr self, tracker_job job, caf::timespan bound, Handler handler) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  self->state.cancel = cancel;
  auto worker = self->spawn<caf::detached>(announce::worker_fn, cancel);
  auto url = job.url;
  auto timeout_ms = job.timeout_ms;
  auto started = clock_type::now();
  self->request(worker, bound, std::move(job))
    .then(
      [self, handler, started](tracker_outcome& out) mutable {
        // Remember what the tracker told us to keep.
        auto& st = self->state;
        if (out.has_trackerid)
          st.trackerids[out.url] = out.trackerid;
        if (out.udp_connection_id != 0) {
          auto& c = st.udp_connections[out.url];
          if (c.id != out.udp_connection_id)
            c = {out.udp_connection_id, started + udp_connection_lifetime};
        } else if (!out.ok) {
          st.udp_connections.erase(out.url);
        }
        handler(out);
      },
      [self, handler, cancel, url, timeout_ms](caf::error& err) mutable {
        cancel->store(true);
        tracker_outcome out;
        out.url = url;
        out.error = err == caf::sec::request_timeout
                      ? timed_out(timeout_ms)
                      : "tracker request failed: " + self->system().render(err);
        self->state.udp_connections.erase(url);
        handler(out);
      });
}

void start_walk(self_ptr self);

void walk_failed(self_ptr self) {
  auto& st = self->state;
  st.walking = false;
  st.cancel.reset();
  if (st.walk_event == announce_event::stopped) {
    // No point retrying a goodbye.
    if (st.walk_seq == st.event_seq)
      st.pending_event = announce_event::none;
    return;
  }
  ++st.failures;
  schedule_tick(self, announce::backoff_delay(st.failures, st.cfg.retry_initial, st.cfg.retry_max));
}

void walk_succeeded(self_ptr self, tracker_outcome& out) {
  auto& st = self->state;
  st.walking = false;
  st.cancel.reset();
  st.failures = 0;
  st.last_success = clock_type::now();
  st.min_interval = std::min<caf::timespan>(std::chrono::seconds{out.reply.min_interval}, max_interval);
  st.last_answered = out.url;
  st.tiers.answered(out.url);
  bool newer_event = st.walk_seq != st.event_seq;
  if (!newer_event)
    st.pending_event = announce_event::none;
  self->send(st.cfg.torrent, peers_atom_v, std::move(out.reply));
  if (newer_event) {
    start_walk(self);
    return;
  }
  if (st.walk_event == announce_event::stopped)
    return; // stopped: no re-announce until the torrent asks again
  caf::timespan delay = std::chrono::seconds{out.reply.interval};
  delay = std::min(std::max({delay, st.min_interval, st.cfg.interval_floor}), max_interval);
  schedule_tick(self, delay);
}

void try_next(self_ptr self) {
  auto& st = self->state;
  if (st.walk_index >= st.walk_urls.size()) {
    walk_failed(self);
    return;
  }
  auto url = st.walk_urls[st.walk_index];
  auto job = make_job(self, url, st.walk_event, st.cfg.request_timeout);
  auto id = st.walk_id;
  run_job(self, std::move(job), st.cfg.request_timeout + worker_grace,
          [self, id](tracker_outcome& out) {
            auto& st = self->state;
            if (st.stopping || !st.walking || id != st.walk_id)
              return; // superseded
            if (out.ok) {
              walk_succeeded(self, out);
              return;
            }
            report_failure(self, out.url, out.error);
            ++st.walk_index;
            try_next(self);
          });
}

void start_walk(self_ptr self) {
  auto& st = self->state;
  st.walking = true;
  ++st.walk_id;
  ++st.timer_gen; // pending ticks are stale now
  st.walk_urls = st.tiers.order();
  st.walk_index = 0;
  st.walk_event = st.pending_event;
  st.walk_seq = st.event_seq;
  try_next(self);
}

void finish_stop(self_ptr self, bool acknowledged) {
  auto& st = self->state;
  for (auto& rp : st.stop_promises)
    rp.deliver(acknowledged);
  st.stop_promises.clear();
  self->quit();
}

void stop_try(self_ptr self, std::shared_ptr<std::vector<std::string>> urls, std::size_t i,
              clock_type::time_point deadline) {
  auto remaining = std::chrono::duration_cast<caf::timespan>(deadline - clock_type::now());
  if (i >= urls->size() || remaining < std::chrono::milliseconds{10}) {
    finish_stop(self, false);
    return;
  }
  auto job = make_job(self, (*urls)[i], announce_event::stopped, remaining);
  run_job(self, std::move(job), remaining, [self, urls, i, deadline](tracker_outcome& out) {
    if (out.ok) {
      finish_stop(self, true);
      return;
    }
    report_failure(self, out.url, out.error);
    stop_try(self, urls, i + 1, deadline);
  });
}

} // namespace

announcer_impl_actor::behavior_type
announcer_fn(announcer_impl_actor::stateful_pointer<announcer_state> self, announcer_config cfg) {
  auto& st = self->state;
  if (auto ok = validate(cfg); !ok)
    st.config_error = "invalid announcer config: " + ok.error().message;
  st.cfg = std::move(cfg);
  st.rng.seed(st.cfg.seed ? *st.cfg.seed : (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}()));
  st.key = static_cast<std::uint32_t>(st.rng());
  if (st.config_error.empty()) {
    st.tiers = announce::tracker_tiers{st.cfg.tiers, st.rng};
    self->monitor(st.cfg.torrent);
    self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  }
  return {
    [self](announce_atom, announce_event event, const transfer_totals& totals) {
      auto& st = self->state;
      if (!st.config_error.empty()) {
        report_failure(self, "", st.config_error);
        return;
      }
      if (st.stopping)
        return;
      st.totals = totals;
      if (event != announce_event::none) {
        st.pending_event = event;
        ++st.event_seq;
        if (!st.walking)
          start_walk(self);
        return; // else: announced right after the walk in flight
      }
      if (st.walking || st.failures > 0)
        return; // the walk in flight or the back-off retry covers it
      if (st.last_success && st.min_interval > caf::timespan{0}) {
        auto earliest = *st.last_success + st.min_interval;
        auto now = clock_type::now();
        if (now < earliest) {
          schedule_tick(self, std::chrono::duration_cast<caf::timespan>(earliest - now));
          return;
        }
      }
      start_walk(self);
    },
    [self](stop_atom, const transfer_totals& totals) {
      auto& st = self->state;
      auto rp = self->make_response_promise<bool>();
      st.stop_promises.push_back(rp);
      if (!st.config_error.empty()) {
        finish_stop(self, false);
        return rp;
      }
      if (st.stopping)
        return rp; // answered together with the first stop
      st.stopping = true;
      st.walking = false;
      ++st.timer_gen;
      if (st.cancel)
        st.cancel->store(true);
      st.totals = totals;
      auto urls = std::make_shared<std::vector<std::string>>();
      if (!st.last_answered.empty())
        urls->push_back(st.last_answered);
      for (auto& url : st.tiers.order())
        if (url != st.last_answered)
          urls->push_back(url);
      stop_try(self, urls, 0, clock_type::now() + st.cfg.stopped_timeout);
      return rp;
    },
    [self](tick_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.timer_gen || st.walking || st.stopping || !st.config_error.empty())
        return;
      start_walk(self);
    },
  };
}

announcer_actor spawn_announcer(caf::actor_system& sys, announcer_config cfg) {
  announce::init_curl_once();
  return sys.spawn(announcer_fn, std::move(cfg));
}

} // namespace actorrent
