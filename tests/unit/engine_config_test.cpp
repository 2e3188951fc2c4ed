#define CAF_SUITE engine_config
#include <caf/test/unit_test.hpp>

#include "app/engine_config.hpp"

using namespace actorrent;
using namespace actorrent::app;
using namespace std::chrono_literals;

CAF_TEST(defaults give the configs their own defaults) {
  // The settings' defaults are the actors' defaults: filling a config from
  // default settings changes nothing (so behaviour stays as it was).
  torrent_config plain;
  torrent_config filled;
  apply_settings(logic::settings{}, filled);
  CAF_CHECK_EQUAL(filled.max_peers, plain.max_peers);
  CAF_CHECK_EQUAL(filled.max_half_open, plain.max_half_open);
  CAF_CHECK(filled.connect_timeout == plain.connect_timeout);
  CAF_CHECK_EQUAL(filled.max_strikes, plain.max_strikes);
  CAF_CHECK_EQUAL(filled.numwant, plain.numwant);
  CAF_CHECK(filled.resume_interval == plain.resume_interval);
  CAF_CHECK(filled.choke_interval == plain.choke_interval);
  CAF_CHECK_EQUAL(filled.choker.regular_slots, plain.choker.regular_slots);
  CAF_CHECK_EQUAL(filled.choker.optimistic_slots, plain.choker.optimistic_slots);
  CAF_CHECK(filled.choker.optimistic_period == plain.choker.optimistic_period);
  CAF_CHECK(filled.choker.seed_slot_time == plain.choker.seed_slot_time);
  CAF_CHECK(filled.choker.new_peer_window == plain.choker.new_peer_window);
  CAF_CHECK(filled.more_peers_interval == 30s);
  CAF_CHECK(filled.peer_set.failure_backoff == 10s);
  CAF_CHECK(filled.peer_set.max_backoff == 300s);
  auto& p = filled.peer_defaults;
  peer_config pp;
  CAF_CHECK_EQUAL(p.initial_queue_depth, pp.initial_queue_depth);
  CAF_CHECK_EQUAL(p.max_queue_depth, pp.max_queue_depth);
  CAF_CHECK(p.request_timeout == pp.request_timeout);
  CAF_CHECK(p.keep_alive_interval == pp.keep_alive_interval);
  CAF_CHECK(p.idle_timeout == pp.idle_timeout);
  CAF_CHECK(p.handshake_timeout == pp.handshake_timeout);
  CAF_CHECK_EQUAL(p.max_block_length, pp.max_block_length);
  CAF_CHECK_EQUAL(p.max_request_length, pp.max_request_length);
  CAF_CHECK_EQUAL(p.max_queued_requests, pp.max_queued_requests);
  CAF_CHECK_EQUAL(p.send_buffer_limit, pp.send_buffer_limit);
  CAF_CHECK(p.send_timeout == pp.send_timeout);
  CAF_CHECK_EQUAL(p.read_size, 64u * 1024);
  CAF_CHECK_EQUAL(p.read_batch, 16u);
  CAF_CHECK_EQUAL(p.cancelled_memory, 4096u);
  disk_config dd;
  auto& d = filled.disk_defaults;
  CAF_CHECK_EQUAL(d.read_cache_bytes, dd.read_cache_bytes);
  CAF_CHECK_EQUAL(d.hash_batch, dd.hash_batch);
  CAF_CHECK_EQUAL(d.hash_batch_bytes, dd.hash_batch_bytes);
  CAF_CHECK(d.hash_delay == dd.hash_delay);
  CAF_CHECK_EQUAL(d.hash_memory_bytes, dd.hash_memory_bytes);
  picker_config pk;
  CAF_CHECK_EQUAL(filled.picker_defaults.max_disk_queue, pk.max_disk_queue);
  CAF_CHECK_EQUAL(filled.picker_defaults.algo.random_first_pieces, pk.algo.random_first_pieces);
  CAF_CHECK_EQUAL(filled.picker_defaults.algo.endgame_max_requesters, pk.algo.endgame_max_requesters);
  CAF_CHECK_EQUAL(filled.picker_defaults.algo.late_request_memory, pk.algo.late_request_memory);
  announcer_config ac;
  auto& a = filled.announcer_defaults;
  CAF_CHECK_EQUAL(a.numwant, ac.numwant);
  CAF_CHECK(a.request_timeout == ac.request_timeout);
  CAF_CHECK(a.stopped_timeout == ac.stopped_timeout);
  CAF_CHECK(a.retry_initial == ac.retry_initial);
  CAF_CHECK(a.retry_max == ac.retry_max);
  CAF_CHECK(a.interval_floor == ac.interval_floor);
  CAF_CHECK_EQUAL(a.max_response_bytes, ac.max_response_bytes);
  CAF_CHECK_EQUAL(a.udp_max_tries, ac.udp_max_tries);
  listener_config lp, lf;
  apply_settings(logic::settings{}, lf);
  CAF_CHECK_EQUAL(lf.max_pending, lp.max_pending);
  CAF_CHECK(lf.handshake_timeout == lp.handshake_timeout);
}

CAF_TEST(each setting lands in its field) {
  logic::settings s;
  CAF_REQUIRE(logic::set_setting(s, "max_download_rate=10M"));
  CAF_REQUIRE(logic::set_setting(s, "read_size=128K"));
  CAF_REQUIRE(logic::set_setting(s, "connect_timeout=750ms"));
  CAF_REQUIRE(logic::set_setting(s, "upload_slots=2"));
  CAF_REQUIRE(logic::set_setting(s, "tracker_retry_max=5m"));
  CAF_REQUIRE(logic::set_setting(s, "hash_delay=5ms"));
  CAF_REQUIRE(logic::set_setting(s, "max_pending_handshakes=3"));
  torrent_config tc;
  apply_settings(s, tc);
  CAF_CHECK_EQUAL(tc.max_download_rate, 10.0 * 1024 * 1024);
  CAF_CHECK_EQUAL(tc.peer_defaults.read_size, 128u * 1024);
  CAF_CHECK(tc.connect_timeout == 750ms);
  CAF_CHECK_EQUAL(tc.choker.regular_slots, 2u);
  CAF_CHECK(tc.announcer_defaults.retry_max == 300s);
  CAF_CHECK(tc.disk_defaults.hash_delay == 5ms);
  listener_config lc;
  apply_settings(s, lc);
  CAF_CHECK_EQUAL(lc.max_pending, 3u);
}
