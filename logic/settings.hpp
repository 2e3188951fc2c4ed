// Every tunable of the engine in one place: a plain struct of numbers and one
// table that gives each its name, unit, bounds and a line of help (the default
// is the struct's own initializer). The command line (`--set NAME=VALUE` and
// the named flags), the YAML file (`NAME: VALUE`) and `actorrent settings`
// all go through the table; app/engine_config.* copies the struct into the
// actors' configs. Like libtorrent's settings_pack, but only numbers.
//
// Bounds are for what users give. Tests and callers that build configs by
// hand are not held to them (the actors take any positive value); a test that
// wants to go through the table with a lower bound copies default_setting_table()
// and changes the entry's `min`.
//
// Values in text: counts are digits; sizes and rates take K, M or G (1024-based,
// "64K"); milliseconds take "ms" or "s" ("500ms", "2s"); seconds take "s", "m" or
// "h" ("30s", "5m"). format_setting writes them back the same way.
#pragma once

#include "protocol/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::logic {

struct settings {
  // -- peers --------------------------------------------------------------------
  std::uint64_t max_peers = 50;             ///< connected or connecting, per torrent
  std::uint64_t max_half_open = 8;          ///< connects in flight at once
  std::uint64_t connect_timeout = 5000;     ///< ms
  std::uint64_t reconnect_delay = 10;       ///< s, after a failed connect; doubles per failure
  std::uint64_t reconnect_delay_max = 300;  ///< s, the cap of that back-off
  std::uint64_t max_strikes = 2;            ///< sole-sender hash failures before a ban
  std::uint64_t more_peers_interval = 30;   ///< s: with few peers, ask the trackers this often at most
  // -- choking and rates ----------------------------------------------------------
  std::uint64_t upload_slots = 4;           ///< regular unchoke slots
  std::uint64_t optimistic_slots = 1;
  std::uint64_t choke_interval = 10;        ///< s between choker rounds
  std::uint64_t optimistic_period = 30;     ///< s an optimistic unchoke lasts
  std::uint64_t seed_slot_time = 30;        ///< s a peer keeps a slot while seeding
  std::uint64_t new_peer_window = 30;       ///< s a new peer is favoured for the optimistic slot
  std::uint64_t max_upload_rate = 0;        ///< bytes/s for the torrent, 0: unlimited
  std::uint64_t max_download_rate = 0;      ///< bytes/s for the torrent, 0: unlimited
  // -- peer connections -------------------------------------------------------------
  std::uint64_t read_size = 64 * 1024;      ///< bytes read from a socket at once
  std::uint64_t read_batch = 16;            ///< blocks read from the disk per request
  std::uint64_t initial_queue_depth = 128;  ///< requests in flight before a rate is known
  std::uint64_t max_queue_depth = 256;      ///< requests in flight per peer at most (4 MiB)
  std::uint64_t request_timeout = 20;       ///< s
  std::uint64_t keep_alive_interval = 90;   ///< s
  std::uint64_t idle_timeout = 180;         ///< s without any message: close
  std::uint64_t handshake_timeout = 15;     ///< s for an outgoing handshake
  std::uint64_t max_block_length = 128 * 1024; ///< bytes, longest block accepted
  std::uint64_t max_request_length = 16 * 1024; ///< bytes, longest request served
  std::uint64_t max_queued_requests = 2000; ///< unserved requests of a peer
  std::uint64_t send_buffer = 2 * 1024 * 1024; ///< bytes waiting in a socket at most
  std::uint64_t send_timeout = 60;          ///< s a backlog may not shrink
  std::uint64_t cancelled_memory = 4096;    ///< cancelled requests remembered per peer
  // -- piece picker ------------------------------------------------------------------
  std::uint64_t random_first_pieces = 4;
  std::uint64_t endgame_max_requesters = 2;
  std::uint64_t late_request_memory = 256;
  std::uint64_t max_disk_queue = 6 * 1024 * 1024; ///< bytes handed to the disk, not yet hashed
  // -- disk --------------------------------------------------------------------------
  std::uint64_t check_threads = 0;          ///< 0: one per core
  std::uint64_t check_nice = 10;            ///< a check's threads' nice value above the others'
  std::uint64_t read_cache = 16 * 1024 * 1024; ///< bytes of whole pieces kept for uploads
  std::uint64_t hash_batch = 0;             ///< pieces hashed side by side, 0: SIMD lanes
  std::uint64_t hash_batch_bytes = 3 * 1024 * 1024; ///< at most max_disk_queue / 2 (engine_config)
  std::uint64_t hash_delay = 20;            ///< ms a batch waits to fill
  std::uint64_t hash_memory = 12 * 1024 * 1024; ///< bytes of blocks kept until hashed
  std::uint64_t resume_interval = 5;        ///< s between resume-data writes
  // -- trackers -----------------------------------------------------------------------
  std::uint64_t numwant = 50;
  std::uint64_t tracker_timeout = 10;       ///< s per request
  std::uint64_t stopped_timeout = 1000;     ///< ms for the final `stopped` announce
  std::uint64_t tracker_retry = 5;          ///< s after all trackers failed; doubles
  std::uint64_t tracker_retry_max = 1800;   ///< s
  std::uint64_t announce_interval_min = 10; ///< s, whatever a tracker asks
  std::uint64_t tracker_response_max = 1024 * 1024; ///< bytes
  std::uint64_t udp_tries = 4;              ///< packets per UDP phase
  // -- listener -----------------------------------------------------------------------
  std::uint64_t max_pending_handshakes = 64; ///< incoming connections not yet handed over
  std::uint64_t incoming_handshake_timeout = 10; ///< s
};

enum class setting_unit { count, bytes, rate, milliseconds, seconds };

/// "count", "bytes", "bytes/s", "ms", "s".
std::string_view unit_name(setting_unit u);

struct setting_entry {
  std::string_view name;
  std::uint64_t settings::*field;
  setting_unit unit;
  std::uint64_t min;
  std::uint64_t max;
  std::string_view help;
};

using setting_table = std::vector<setting_entry>;

/// The table of every field of `settings`, grouped as the struct is.
const setting_table& default_setting_table();

/// The entry called `name`, or nullptr.
const setting_entry* find_setting(std::string_view name, const setting_table& table = default_setting_table());

/// A value in text for `e`, checked against its bounds. Errors name the
/// expectation and quote the text once ("expected an integer from 1 to 10000,
/// got 'abc'").
result<std::uint64_t> parse_setting(const setting_entry& e, std::string_view text);

/// What parse_setting wants for `e`: "expected an integer from 1 to 10000".
std::string setting_expectation(const setting_entry& e);

/// `v` as text that parse_setting reads back: "50", "64K", "5M", "500ms",
/// "30s", "30m".
std::string format_setting(const setting_entry& e, std::uint64_t v);

/// Sets NAME from TEXT. Errors: "unknown setting 'x' (did you mean 'y'?)",
/// "setting 'max_peers': expected ...".
status set_setting(settings& s, std::string_view name, std::string_view text,
                   const setting_table& table = default_setting_table());

/// Sets "NAME=VALUE" (as --set takes it).
status set_setting(settings& s, std::string_view assignment, const setting_table& table = default_setting_table());

/// Every field within its bounds, and the pairs that must be ordered so
/// (initial_queue_depth <= max_queue_depth, reconnect_delay <=
/// reconnect_delay_max, tracker_retry <= tracker_retry_max). The first
/// problem: "setting 'max_peers': 0 is outside 1..10000".
status validate(const settings& s, const setting_table& table = default_setting_table());

/// The table for people: one line per setting, "NAME  DEFAULT  MIN..MAX  UNIT  HELP"
/// in aligned columns, with a header line. Where `current` differs from the
/// default, "(now X)" follows the default.
std::string describe_settings(const settings& current = settings{},
                              const setting_table& table = default_setting_table());

} // namespace actorrent::logic
