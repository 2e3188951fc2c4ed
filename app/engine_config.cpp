#include "app/engine_config.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include <cstdlib>

#include <algorithm>
#include <limits>

namespace actorrent::app {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

template <class T>
T narrow(std::uint64_t v) {
  // the settings' bounds keep every value far inside T; clamp anyway
  return v > static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? std::numeric_limits<T>::max()
                                                                        : static_cast<T>(v);
}

seconds secs(std::uint64_t v) {
  return seconds{narrow<std::int32_t>(v)};
}

milliseconds millis(std::uint64_t v) {
  return milliseconds{narrow<std::int64_t>(v)};
}

void apply_peer(const logic::settings& s, peer_config& pc) {
  pc.initial_queue_depth = narrow<std::uint32_t>(s.initial_queue_depth);
  pc.max_queue_depth = narrow<std::uint32_t>(s.max_queue_depth);
  pc.request_timeout = secs(s.request_timeout);
  pc.keep_alive_interval = secs(s.keep_alive_interval);
  pc.idle_timeout = secs(s.idle_timeout);
  pc.handshake_timeout = secs(s.handshake_timeout);
  pc.max_block_length = narrow<std::uint32_t>(s.max_block_length);
  pc.max_request_length = narrow<std::uint32_t>(s.max_request_length);
  pc.max_queued_requests = narrow<std::uint32_t>(s.max_queued_requests);
  pc.send_buffer_limit = narrow<std::size_t>(s.send_buffer);
  pc.send_timeout = secs(s.send_timeout);
  pc.read_size = narrow<std::size_t>(s.read_size);
  pc.read_batch = narrow<std::size_t>(s.read_batch);
  pc.cancelled_memory = narrow<std::size_t>(s.cancelled_memory);
}

void apply_children(const logic::settings& s, torrent_config& tc) {
  auto& pk = tc.picker_defaults;
  pk.algo.random_first_pieces = narrow<std::uint32_t>(s.random_first_pieces);
  pk.algo.endgame_max_requesters = narrow<std::uint32_t>(s.endgame_max_requesters);
  pk.algo.late_request_memory = narrow<std::uint32_t>(s.late_request_memory);
  pk.max_disk_queue = s.max_disk_queue;
  auto& dc = tc.disk_defaults;
  dc.check_threads = narrow<unsigned>(s.check_threads);
  dc.check_nice = narrow<int>(s.check_nice);
  dc.read_cache_bytes = narrow<std::size_t>(s.read_cache);
  dc.hash_batch = narrow<std::size_t>(s.hash_batch);
  // a batch as large as the picker lets wait at the disk fills only while the
  // peers stand still (or on its timer): at most half of it
  dc.hash_batch_bytes = narrow<std::size_t>(std::min(s.hash_batch_bytes, s.max_disk_queue / 2));
  dc.hash_delay = millis(s.hash_delay);
  dc.hash_memory_bytes = narrow<std::size_t>(s.hash_memory);
  auto& ac = tc.announcer_defaults;
  ac.numwant = narrow<int>(s.numwant);
  ac.request_timeout = secs(s.tracker_timeout);
  ac.stopped_timeout = millis(s.stopped_timeout);
  ac.retry_initial = secs(s.tracker_retry);
  ac.retry_max = secs(s.tracker_retry_max);
  ac.interval_floor = secs(s.announce_interval_min);
  ac.max_response_bytes = narrow<std::size_t>(s.tracker_response_max);
  ac.udp_max_tries = narrow<int>(s.udp_tries);
  apply_peer(s, tc.peer_defaults);
}

} // namespace

void apply_settings(const logic::settings& s, torrent_config& tc) {
  tc.max_peers = narrow<std::uint32_t>(s.max_peers);
  tc.max_half_open = narrow<std::uint32_t>(s.max_half_open);
  tc.connect_timeout = millis(s.connect_timeout);
  tc.peer_set.failure_backoff = secs(s.reconnect_delay);
  tc.peer_set.max_backoff = secs(s.reconnect_delay_max);
  tc.max_strikes = narrow<std::uint32_t>(s.max_strikes);
  tc.more_peers_interval = secs(s.more_peers_interval);
  tc.numwant = narrow<std::uint32_t>(s.numwant);
  tc.check_threads = narrow<unsigned>(s.check_threads);
  tc.max_upload_rate = static_cast<double>(s.max_upload_rate);
  tc.max_download_rate = static_cast<double>(s.max_download_rate);
  tc.resume_interval = secs(s.resume_interval);
  tc.choke_interval = secs(s.choke_interval);
  tc.choker.regular_slots = narrow<std::uint32_t>(s.upload_slots);
  tc.choker.optimistic_slots = narrow<std::uint32_t>(s.optimistic_slots);
  tc.choker.optimistic_period = secs(s.optimistic_period);
  tc.choker.seed_slot_time = secs(s.seed_slot_time);
  tc.choker.new_peer_window = secs(s.new_peer_window);
  apply_children(s, tc);
}

void apply_settings(const logic::settings& s, listener_config& lc) {
  lc.max_pending = narrow<std::uint32_t>(s.max_pending_handshakes);
  lc.handshake_timeout = secs(s.incoming_handshake_timeout);
}

void configure_scheduler(caf::actor_system_config& cfg) {
  const char* pol = std::getenv("ACTORRENT_SCHED");
  cfg.set("scheduler.policy", caf::atom_from_string(pol != nullptr && *pol != '\0' ? pol : "sharing"));
}

} // namespace actorrent::app
