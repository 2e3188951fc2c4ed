// The tracker announcer: plain parts (tiers, back-off), one blocking request
// handed to the transports of net/ (HTTP over libcurl, UDP BEP 15), and the
// actor that drives them. See the header for the design; this file follows its
// order.
#include "actors/tracker_announcer.hpp"

#include "net/announce_transport.hpp"
#include "net/http_announce.hpp"
#include "protocol/peer_id.hpp"
#include "protocol/tracker_http.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <set>
#include <utility>

namespace actorrent {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t to_ms(caf::timespan t) {
  return std::chrono::duration_cast<milliseconds>(t).count();
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

net::announce_params make_params(const announce::tracker_job& job) {
  net::announce_params p;
  p.url = job.url;
  p.request = make_request(job);
  p.timeout_ms = job.timeout_ms;
  p.max_response_bytes = job.max_response_bytes;
  p.udp_connection_id = job.udp_connection_id;
  p.udp_max_tries = job.udp_max_tries;
  p.rng_seed = job.rng_seed;
  return p;
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
                             logic::splitmix64& rng) {
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

tracker_tiers tracker_tiers::in_order(std::vector<std::vector<std::string>> tiers) {
  tracker_tiers t;
  t.tiers_ = std::move(tiers);
  return t;
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

caf::timespan backoff_delay(unsigned failures, caf::timespan initial, caf::timespan max,
                            caf::timespan tracker_interval) {
  // a failed announce waits no longer than a successful one would have
  if (tracker_interval > caf::timespan{0})
    max = std::min(max, std::max(tracker_interval, initial));
  auto d = initial;
  for (unsigned i = 1; i < failures && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

caf::timespan jittered(caf::timespan delay, std::uint64_t r) {
  if (delay <= caf::timespan{0})
    return delay;
  // 1/1024 steps: delay * [0, 511/1024] on top, no overflow below ~100 days
  return delay + delay * static_cast<caf::timespan::rep>(r % 512) / 1024;
}

// ---- one request ------------------------------------------------------------------------

void init_curl_once() { net::init_curl_once(); }

tracker_outcome perform_announce(const tracker_job& job, const std::atomic<bool>* cancel) {
  auto answer = net::announce(make_params(job), cancel);
  tracker_outcome out;
  out.url = job.url;
  out.ok = answer.ok;
  out.error = std::move(answer.error);
  out.udp_connection_id = answer.udp_connection_id;
  if (answer.trackerid) {
    out.has_trackerid = true;
    out.trackerid = std::move(*answer.trackerid);
  }
  if (answer.ok) {
    out.reply.tracker = job.url;
    out.reply.peers = std::move(answer.peers);
    out.reply.interval = answer.interval;
    out.reply.min_interval = answer.min_interval;
    out.reply.seeders = answer.seeders;
    out.reply.leechers = answer.leechers;
    out.reply.warning = std::move(answer.warning);
  }
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

/// The longest wait of one timer message. A delayed message holds its receiver
/// strongly until it fires: an announcer that quits (its torrent went to sleep,
/// with a re-announce half an hour away) would otherwise stay in memory until
/// then. Longer waits are made of several. With 10 s, a daemon whose 5,000
/// torrents woke up to 50 a second for their announces kept 0.8 MB of quit
/// announcers (heaptrack, all torrents asleep); a torrent ticks every second anyway.
constexpr caf::timespan max_timer_step = std::chrono::seconds{1};

void arm_timer(self_ptr self) {
  auto& st = self->state;
  if (!st.due)
    return;
  auto left = std::chrono::duration_cast<caf::timespan>(*st.due - clock_type::now());
  auto step = std::clamp(left, caf::timespan{0}, max_timer_step);
  self->delayed_send(caf::actor_cast<announcer_impl_actor>(self), step, tick_atom_v, st.timer_gen);
}

void schedule_tick(self_ptr self, caf::timespan delay) {
  ++self->state.timer_gen;
  self->state.due = clock_type::now() + delay;
  arm_timer(self);
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
                      ? net::timed_out(timeout_ms)
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
  st.slot.reset();
  if (st.walk_event == announce_event::stopped) {
    // No point retrying a goodbye.
    if (st.walk_seq == st.event_seq)
      st.pending_event = announce_event::none;
    return;
  }
  ++st.failures;
  auto delay = announce::backoff_delay(st.failures, st.cfg.retry_initial, st.cfg.retry_max, st.last_interval);
  schedule_tick(self, announce::jittered(delay, st.rng()));
}

void walk_succeeded(self_ptr self, tracker_outcome& out) {
  auto& st = self->state;
  st.walking = false;
  st.cancel.reset();
  st.slot.reset();
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
  st.last_interval = delay;
  schedule_tick(self, delay);
}

/// The host of a tracker URL ("scheme://host[:port]/..."), the gate's key:
/// announcers of one tracker wait in one line.
std::string tracker_host(const std::string& url) {
  auto from = url.find("://");
  from = from == std::string::npos ? 0 : from + 3;
  auto to = url.find_first_of("/?#", from);
  return url.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

/// Asks the gate for the walk's turn; grant_atom goes on with it. Only a weak
/// handle waits in the gate's line: an announcer that quits meanwhile is not
/// kept alive by it, and its turn passes on at once.
void await_slot(self_ptr self, const std::string& url) {
  auto& st = self->state;
  if (st.awaiting_slot)
    return;
  st.awaiting_slot = true;
  caf::weak_actor_ptr me{self->ctrl()};
  st.cfg.gate->acquire(tracker_host(url), [me](gate_slot_ptr slot) {
    if (auto strong = me.lock())
      caf::anon_send(caf::actor_cast<announcer_impl_actor>(strong), grant_atom_v, std::move(slot));
  });
}

void try_next(self_ptr self) {
  auto& st = self->state;
  if (st.walk_index >= st.walk_urls.size()) {
    walk_failed(self);
    return;
  }
  auto url = st.walk_urls[st.walk_index];
  if (st.cfg.gate && !st.slot) {
    await_slot(self, url);
    return;
  }
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
  st.due.reset();
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

/// A `completed` the trackers have not acknowledged (the walk that carried it is
/// cancelled by the stop: a leecher that exits on completion stops at once) goes
/// first, with at most half the stop's time; then `stopped`. Trackers count
/// downloads from `completed` (opentracker's scrape "downloaded").
void completed_then_stop(self_ptr self, std::shared_ptr<std::vector<std::string>> urls, std::size_t i,
                         clock_type::time_point completed_by, clock_type::time_point deadline) {
  auto remaining = std::chrono::duration_cast<caf::timespan>(completed_by - clock_type::now());
  if (i >= urls->size() || remaining < std::chrono::milliseconds{10}) {
    stop_try(self, urls, 0, deadline);
    return;
  }
  auto job = make_job(self, (*urls)[i], announce_event::completed, remaining);
  run_job(self, std::move(job), remaining, [self, urls, i, completed_by, deadline](tracker_outcome& out) {
    if (out.ok) {
      stop_try(self, urls, 0, deadline);
      return;
    }
    report_failure(self, out.url, out.error);
    completed_then_stop(self, urls, i + 1, completed_by, deadline);
  });
}

} // namespace

announcer_impl_actor::behavior_type
announcer_fn(announcer_impl_actor::stateful_pointer<announcer_state> self, announcer_config cfg) {
  auto& st = self->state;
  if (auto ok = validate(cfg); !ok)
    st.config_error = "invalid announcer config: " + ok.error().message;
  st.cfg = std::move(cfg);
  if (auto nap = std::exchange(st.cfg.nap, nullptr); nap && st.config_error.empty()) {
    // going on after a sleep: everything as it was, the timer where it was
    st.rng.seed(nap->rng_state);
    st.key = nap->key;
    st.tiers = announce::tracker_tiers::in_order(nap->tiers);
    st.trackerids = nap->trackerids;
    st.totals = nap->totals;
    st.pending_event = nap->pending_event;
    st.failures = nap->failures;
    st.last_success = nap->last_success;
    st.min_interval = nap->min_interval;
    st.last_interval = nap->last_interval;
    st.last_answered = nap->last_answered;
    if (nap->due)
      schedule_tick(self, std::max<caf::timespan>(caf::timespan{0}, std::chrono::duration_cast<caf::timespan>(
                                                                       *nap->due - clock_type::now())));
    self->monitor(st.cfg.torrent);
    self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  } else {
    st.rng.seed(st.cfg.seed ? *st.cfg.seed : random_seed());
    st.key = static_cast<std::uint32_t>(st.rng());
    if (st.config_error.empty()) {
      st.tiers = announce::tracker_tiers{st.cfg.tiers, st.rng};
      self->monitor(st.cfg.torrent);
      self->set_down_handler([self](caf::down_msg&) { self->quit(); });
    }
  }
  return {
    [self](status_atom) {
      auto& st = self->state;
      return actor_status{announcer_state::name,
                          st.stopping ? "stopping" : st.walking ? "announcing" : "waiting",
                          {{"failures", std::to_string(st.failures)}, {"last_answered", st.last_answered}}};
    },
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
      st.due.reset();
      if (st.cancel)
        st.cancel->store(true);
      st.slot.reset(); // the stop does not wait for a turn
      st.totals = totals;
      auto urls = std::make_shared<std::vector<std::string>>();
      if (!st.last_answered.empty())
        urls->push_back(st.last_answered);
      for (auto& url : st.tiers.order())
        if (url != st.last_answered)
          urls->push_back(url);
      auto now = clock_type::now();
      if (st.pending_event == announce_event::completed)
        completed_then_stop(self, urls, 0, now + st.cfg.stopped_timeout / 2, now + st.cfg.stopped_timeout);
      else
        stop_try(self, urls, 0, now + st.cfg.stopped_timeout);
      return rp;
    },
    [self](grant_atom, gate_slot_ptr& slot) {
      auto& st = self->state;
      st.awaiting_slot = false;
      if (!st.walking || st.stopping || st.slot)
        return; // nothing to announce any more: the slot goes back with `slot`
      st.slot = std::move(slot);
      try_next(self);
    },
    [self](tick_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.timer_gen || st.walking || st.stopping || !st.config_error.empty())
        return;
      if (st.due && clock_type::now() < *st.due) {
        arm_timer(self); // one more step of a long wait
        return;
      }
      start_walk(self);
    },
    [self](sleep_atom) -> caf::result<announce_nap_ptr> {
      auto& st = self->state;
      if (st.walking || st.stopping || !st.config_error.empty())
        return caf::make_error(caf::sec::runtime_error, "the announcer is busy");
      auto nap = std::make_shared<announce_nap>();
      nap->tiers = st.tiers.tiers();
      nap->key = st.key;
      nap->rng_state = st.rng.state;
      nap->trackerids = st.trackerids;
      nap->totals = st.totals;
      nap->pending_event = st.pending_event;
      nap->failures = st.failures;
      nap->last_success = st.last_success;
      nap->min_interval = st.min_interval;
      nap->last_interval = st.last_interval;
      nap->last_answered = st.last_answered;
      nap->due = st.due;
      auto rp = self->make_response_promise<announce_nap_ptr>();
      rp.deliver(announce_nap_ptr{std::move(nap)});
      self->quit();
      return rp;
    },
  };
}

announcer_actor spawn_announcer(caf::actor_system& sys, announcer_config cfg) {
  announce::init_curl_once();
  return sys.spawn(announcer_fn, std::move(cfg));
}

} // namespace actorrent
