#include "logic/settings.hpp"

#include "protocol/text.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace actorrent::logic {

namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;
constexpr std::uint64_t TiB = 1024 * GiB;
constexpr std::uint64_t minute = 60;
constexpr std::uint64_t hour = 60 * minute;
constexpr std::uint64_t day = 24 * hour;

using u = setting_unit;
using s = settings;

setting_table make_table() {
  return {
    // peers
    {"max_peers", &s::max_peers, u::count, 1, 10000, "peers connected or connecting, per torrent"},
    {"max_half_open", &s::max_half_open, u::count, 1, 1000, "outgoing connects in flight at once"},
    {"connect_timeout", &s::connect_timeout, u::milliseconds, 100, 10 * minute * 1000, "bound of one outgoing connect"},
    {"reconnect_delay", &s::reconnect_delay, u::seconds, 1, hour, "wait before dialling a failed peer again; doubles per failure"},
    {"reconnect_delay_max", &s::reconnect_delay_max, u::seconds, 1, day, "the longest such wait"},
    {"max_strikes", &s::max_strikes, u::count, 1, 1000, "hash failures a peer sent alone before it is banned"},
    {"more_peers_interval", &s::more_peers_interval, u::seconds, 1, hour, "with few peers, ask the trackers for more this often at most"},
    // choking and rates
    {"upload_slots", &s::upload_slots, u::count, 0, 1000, "peers unchoked at once, besides the optimistic ones"},
    {"optimistic_slots", &s::optimistic_slots, u::count, 0, 100, "optimistic unchokes at once"},
    {"choke_interval", &s::choke_interval, u::seconds, 1, hour, "time between choker rounds"},
    {"optimistic_period", &s::optimistic_period, u::seconds, 1, day, "how long an optimistic unchoke lasts"},
    {"seed_slot_time", &s::seed_slot_time, u::seconds, 1, day, "seeding: how long a peer keeps its slot while others wait"},
    {"new_peer_window", &s::new_peer_window, u::seconds, 0, day, "a peer connected this recently goes first for the optimistic slot"},
    {"max_upload_rate", &s::max_upload_rate, u::rate, 0, TiB, "upload limit of the torrent, shared by its peers (0: none)"},
    {"max_download_rate", &s::max_download_rate, u::rate, 0, TiB, "download limit of the torrent, shared by its peers (0: none)"},
    // peer connections
    {"read_size", &s::read_size, u::bytes, 4 * KiB, 16 * MiB, "bytes read from a peer's socket at once"},
    {"read_batch", &s::read_batch, u::count, 1, 256, "blocks read from the disk for a peer in one request"},
    {"initial_queue_depth", &s::initial_queue_depth, u::count, 1, 10000, "requests in flight to a peer before its rate is known"},
    {"max_queue_depth", &s::max_queue_depth, u::count, 1, 10000, "requests in flight to a peer at most"},
    {"request_timeout", &s::request_timeout, u::seconds, 1, hour, "a request not answered this long is given to another peer"},
    {"keep_alive_interval", &s::keep_alive_interval, u::seconds, 1, hour, "a keep-alive after this long without sending"},
    {"idle_timeout", &s::idle_timeout, u::seconds, 10, day, "a peer silent this long is closed"},
    {"handshake_timeout", &s::handshake_timeout, u::seconds, 1, 10 * minute, "bound of an outgoing connection's handshake"},
    {"max_block_length", &s::max_block_length, u::bytes, 16 * KiB, MiB, "longest block accepted from a peer"},
    {"max_request_length", &s::max_request_length, u::bytes, 16 * KiB, MiB, "longest request served; longer ones close the connection"},
    {"max_queued_requests", &s::max_queued_requests, u::count, 1, 100000, "unserved requests of a peer; more close the connection"},
    {"send_buffer", &s::send_buffer, u::bytes, 64 * KiB, GiB, "bytes waiting to be sent to a peer at most"},
    {"send_timeout", &s::send_timeout, u::seconds, 1, hour, "a peer whose backlog does not shrink this long is dropped"},
    {"cancelled_memory", &s::cancelled_memory, u::count, 0, 1000000, "cancelled requests remembered per peer"},
    // piece picker
    {"random_first_pieces", &s::random_first_pieces, u::count, 0, 1000, "below this many pieces, pick at random rather than rarest"},
    {"endgame_max_requesters", &s::endgame_max_requesters, u::count, 1, 4, "endgame: peers asked for the same block at most"},
    {"late_request_memory", &s::late_request_memory, u::count, 0, 100000, "dropped requests per peer whose late data still counts"},
    {"max_disk_queue", &s::max_disk_queue, u::bytes, MiB, 16 * GiB, "received bytes not yet hashed before requests pause"},
    // disk
    {"check_threads", &s::check_threads, u::count, 0, 1024, "hashing threads of the start-up check (0: one per core)"},
    {"check_nice", &s::check_nice, u::count, 0, 19, "the start-up check's threads run this much below the others' priority (0: as they do)"},
    {"read_cache", &s::read_cache, u::bytes, 0, 64 * GiB, "whole pieces kept in memory for uploads"},
    {"hash_batch", &s::hash_batch, u::count, 0, 64, "pieces hashed side by side (0: as many as the SHA-1 kernel has lanes)"},
    {"hash_batch_bytes", &s::hash_batch_bytes, u::bytes, 256 * KiB, 4 * GiB, "a hash batch never waits for more than this (at most half of max_disk_queue)"},
    {"hash_delay", &s::hash_delay, u::milliseconds, 0, 10000, "how long a hash batch waits to fill"},
    {"hash_memory", &s::hash_memory, u::bytes, 0, 16 * GiB, "received blocks kept until their piece is hashed"},
    {"resume_interval", &s::resume_interval, u::seconds, 1, day, "resume data is rewritten this often while pieces arrive"},
    // trackers
    {"numwant", &s::numwant, u::count, 0, 1000, "peers asked of a tracker per announce"},
    {"tracker_timeout", &s::tracker_timeout, u::seconds, 1, 10 * minute, "bound of one tracker request"},
    {"stopped_timeout", &s::stopped_timeout, u::milliseconds, 100, minute * 1000, "bound of the final 'stopped' announce"},
    {"tracker_retry", &s::tracker_retry, u::seconds, 1, day, "wait after every tracker failed; doubles per failure, up to the last interval a tracker gave"},
    {"tracker_retry_max", &s::tracker_retry_max, u::seconds, 1, day, "the longest such wait"},
    {"announce_interval_min", &s::announce_interval_min, u::seconds, 1, day, "re-announce no sooner than this, whatever a tracker asks"},
    {"tracker_response_max", &s::tracker_response_max, u::bytes, KiB, 64 * MiB, "largest tracker response accepted"},
    {"udp_tries", &s::udp_tries, u::count, 1, 16, "UDP tracker packets per phase within the timeout"},
    // listener
    {"max_pending_handshakes", &s::max_pending_handshakes, u::count, 1, 10000, "incoming connections still in their handshake"},
    {"incoming_handshake_timeout", &s::incoming_handshake_timeout, u::seconds, 1, 10 * minute, "bound of an incoming handshake"},
  };
}

/// Digits (at most 19) as a number.
std::optional<std::uint64_t> digits(std::string_view t) {
  if (t.empty() || t.size() > 19 || t.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : t)
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

bool ends_with(std::string_view t, std::string_view suffix) {
  return t.size() > suffix.size() && t.substr(t.size() - suffix.size()) == suffix;
}

/// The number of units in `t` with the suffixes of unit `un`, or nullopt.
std::optional<std::uint64_t> parse_units(setting_unit un, std::string_view t) {
  std::uint64_t mult = 1;
  switch (un) {
    case u::count:
      break;
    case u::bytes:
    case u::rate:
      if (!t.empty()) {
        switch (t.back()) {
          case 'k': case 'K': mult = KiB; break;
          case 'm': case 'M': mult = MiB; break;
          case 'g': case 'G': mult = GiB; break;
          default: break;
        }
        if (mult > 1)
          t.remove_suffix(1);
      }
      break;
    case u::milliseconds:
      if (ends_with(t, "ms")) {
        t.remove_suffix(2);
      } else if (ends_with(t, "s")) {
        t.remove_suffix(1);
        mult = 1000;
      }
      break;
    case u::seconds:
      if (ends_with(t, "s")) {
        t.remove_suffix(1);
      } else if (ends_with(t, "m")) {
        t.remove_suffix(1);
        mult = minute;
      } else if (ends_with(t, "h")) {
        t.remove_suffix(1);
        mult = hour;
      }
      break;
  }
  auto v = digits(t);
  if (!v || *v > ~std::uint64_t{0} / mult)
    return std::nullopt;
  return *v * mult;
}

} // namespace

std::string setting_expectation(const setting_entry& e) {
  auto range = " from " + format_setting(e, e.min) + " to " + format_setting(e, e.max);
  switch (e.unit) {
    case u::count:
      return "expected an integer" + range;
    case u::bytes:
      return "expected a size in bytes (K, M, G suffixes)" + range;
    case u::rate:
      return "expected bytes/s like 500K, 5M or 1G" + range;
    case u::milliseconds:
      return "expected milliseconds (or with ms, s)" + range;
    case u::seconds:
      return "expected a number of seconds (or with s, m, h)" + range;
  }
  return "expected a value" + range;
}

namespace {

std::string pad(std::string v, std::size_t width) {
  if (v.size() < width)
    v.append(width - v.size(), ' ');
  return v;
}

} // namespace

std::string_view unit_name(setting_unit un) {
  switch (un) {
    case u::count: return "count";
    case u::bytes: return "bytes";
    case u::rate: return "bytes/s";
    case u::milliseconds: return "ms";
    case u::seconds: return "s";
  }
  return "?";
}

const setting_table& default_setting_table() {
  static const setting_table table = make_table();
  return table;
}

const setting_entry* find_setting(std::string_view name, const setting_table& table) {
  for (auto& e : table)
    if (e.name == name)
      return &e;
  return nullptr;
}

result<std::uint64_t> parse_setting(const setting_entry& e, std::string_view text) {
  auto v = parse_units(e.unit, text);
  if (!v || *v < e.min || *v > e.max)
    return make_error(setting_expectation(e) + ", got " + text::quote(text));
  return *v;
}

std::string format_setting(const setting_entry& e, std::uint64_t v) {
  auto with = [v](std::uint64_t unit, const char* suffix) { return std::to_string(v / unit) + suffix; };
  switch (e.unit) {
    case u::count:
      break;
    case u::bytes:
    case u::rate:
      if (v == 0)
        break;
      if (v % GiB == 0)
        return with(GiB, "G");
      if (v % MiB == 0)
        return with(MiB, "M");
      if (v % KiB == 0)
        return with(KiB, "K");
      break;
    case u::milliseconds:
      return v != 0 && v % 1000 == 0 ? with(1000, "s") : with(1, "ms");
    case u::seconds:
      if (v != 0 && v % hour == 0)
        return with(hour, "h");
      if (v != 0 && v % minute == 0)
        return with(minute, "m");
      return with(1, "s");
  }
  return std::to_string(v);
}

status set_setting(settings& st, std::string_view name, std::string_view text, const setting_table& table) {
  auto* e = find_setting(name, table);
  if (e == nullptr) {
    std::string hint;
    std::size_t best = 3; // suggest only within distance 2
    if (name.size() <= 64)
      for (auto& c : table)
        if (auto d = text::edit_distance(name, c.name); d < best) {
          best = d;
          hint = " (did you mean '" + std::string{c.name} + "'?)";
        }
    return make_error("unknown setting " + text::quote(name) + hint + "; 'actorrent settings' lists them");
  }
  auto v = parse_setting(*e, text);
  if (!v)
    return make_error("setting '" + std::string{e->name} + "': " + v.error().message);
  st.*(e->field) = *v;
  return {};
}

status set_setting(settings& st, std::string_view assignment, const setting_table& table) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return make_error("expected NAME=VALUE, got " + text::quote(assignment));
  return set_setting(st, assignment.substr(0, eq), assignment.substr(eq + 1), table);
}

status validate(const settings& st, const setting_table& table) {
  for (auto& e : table) {
    auto v = st.*(e.field);
    if (v < e.min || v > e.max)
      return make_error("setting '" + std::string{e.name} + "': " + format_setting(e, v) + " is outside "
                        + format_setting(e, e.min) + ".." + format_setting(e, e.max));
  }
  auto order = [](std::string_view lo, std::uint64_t a, std::string_view hi, std::uint64_t b) -> status {
    if (a > b)
      return make_error("setting '" + std::string{lo} + "' (" + std::to_string(a) + ") is above '" + std::string{hi}
                        + "' (" + std::to_string(b) + ")");
    return {};
  };
  if (auto ok = order("initial_queue_depth", st.initial_queue_depth, "max_queue_depth", st.max_queue_depth); !ok)
    return ok;
  if (auto ok = order("reconnect_delay", st.reconnect_delay, "reconnect_delay_max", st.reconnect_delay_max); !ok)
    return ok;
  return order("tracker_retry", st.tracker_retry, "tracker_retry_max", st.tracker_retry_max);
}

std::string describe_settings(const settings& current, const setting_table& table) {
  const settings defaults;
  std::size_t w_name = 4, w_def = 7, w_range = 5, w_unit = 4;
  std::vector<std::array<std::string, 5>> rows;
  for (auto& e : table) {
    auto def = format_setting(e, defaults.*(e.field));
    if (current.*(e.field) != defaults.*(e.field))
      def += " (now " + format_setting(e, current.*(e.field)) + ")";
    rows.push_back({std::string{e.name}, def, format_setting(e, e.min) + ".." + format_setting(e, e.max),
                    std::string{unit_name(e.unit)}, std::string{e.help}});
    w_name = std::max(w_name, rows.back()[0].size());
    w_def = std::max(w_def, rows.back()[1].size());
    w_range = std::max(w_range, rows.back()[2].size());
    w_unit = std::max(w_unit, rows.back()[3].size());
  }
  std::string out = pad("NAME", w_name) + "  " + pad("DEFAULT", w_def) + "  " + pad("RANGE", w_range) + "  "
                    + pad("UNIT", w_unit) + "  MEANING\n";
  for (auto& r : rows)
    out += pad(r[0], w_name) + "  " + pad(r[1], w_def) + "  " + pad(r[2], w_range) + "  " + pad(r[3], w_unit) + "  "
           + r[4] + "\n";
  return out;
}

} // namespace actorrent::logic
