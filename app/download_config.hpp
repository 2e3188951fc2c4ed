// Settings of `actorrent download`: the YAML file given with --config, and how
// it combines with the defaults and the command line (defaults < file < command
// line). No CAF here, so it is tested on its own.
//
//   download_dir: /srv/torrents   # string, not empty
//   port: 6881                    # 0..65535 (0: any free port)
//   max_peers: 50                 # 1..10000
//   peers: ["127.0.0.1:6881", "[::1]:6882", "seed.example:6881"]
//   use_trackers: true            # false: do not contact the torrent's trackers
//   trackers: ["udp://tracker.example:6969/announce"]  # more trackers, tried
//                                 # after the torrent's own (one extra tier)
//   quiet: false
//   json_progress: false
//   verbose: false
//   show_peers: false             # the peer list with the progress (--peers)
//   timeout: 0                    # seconds, 0 = none, at most 31536000
//   seed: false                   # keep seeding after the download
//   seed_ratio: 0                 # stop seeding at uploaded/size >= this (0: no limit)
//   seed_time: 0                  # stop seeding after this many seconds (0: no limit)
//   select_file: "1,3-5"          # only these files (numbers as `actorrent info` lists them)
//   upload_slots: 4               # any setting of `actorrent settings`, with its
//   max_upload_rate: 5M           # units (64K, 5M, 500ms, 30s, 5m) and bounds
//   max_download_rate: 10M
#pragma once

#include "logic/settings.hpp"
#include "protocol/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::app {

/// Settings from one source; a field is set only if the source gave it.
struct download_settings {
  std::optional<std::string> download_dir;
  std::optional<std::uint16_t> port;
  std::optional<std::vector<std::string>> peers; ///< "host:port", syntax checked
  std::optional<bool> use_trackers;
  std::optional<std::vector<std::string>> trackers; ///< extra tracker URLs
  std::optional<bool> quiet;
  std::optional<bool> json_progress;
  std::optional<bool> verbose;
  std::optional<bool> show_peers;
  std::optional<std::uint32_t> timeout; ///< seconds, 0 = none
  std::optional<bool> seed;
  std::optional<double> seed_ratio;
  std::optional<std::uint32_t> seed_time;
  std::optional<std::string> select_file; ///< "1,3-5", checked against the torrent later
  /// Tunables of logic::settings by name, checked against their bounds.
  std::map<std::string, std::uint64_t> tunables;
};

/// The effective settings of a download.
struct download_options {
  std::string download_dir = ".";
  std::uint16_t port = 6881;
  std::vector<std::string> peers;
  bool use_trackers = true;
  std::vector<std::string> trackers; ///< extra tracker URLs, one tier after the torrent's
  bool quiet = false;
  bool json_progress = false;
  bool verbose = false;
  bool show_peers = false; ///< the peer list with the progress (--peers)
  std::uint32_t timeout = 0;
  bool seed = false;
  double seed_ratio = 0;       ///< 0: no limit
  std::uint32_t seed_time = 0; ///< seconds, 0: no limit
  std::string select_file;     ///< --select-file "1,3-5"; empty: every file
  logic::settings tunables;
};

inline constexpr std::uint32_t timeout_limit = 31536000; // a year, in seconds
inline constexpr double seed_ratio_limit = 1e6;
inline constexpr std::size_t config_file_limit = 1 << 20;

/// Parses YAML text. `name` starts every error message ("NAME: key 'port':
/// expected an integer from 1 to 65535, got 'abc'", "NAME: unknown key 'prot'
/// (did you mean 'port'?)", "NAME: line 3, column 7: ..." for YAML syntax). An
/// empty document is an empty configuration. Never throws.
result<download_settings> parse_download_config(std::string_view yaml, const std::string& name);

/// Reads `path` (at most config_file_limit bytes) and parses it; errors start
/// with the path ("PATH: cannot read: No such file or directory").
result<download_settings> load_download_config(const std::string& path);

/// Overrides the fields of `opts` that `s` sets (tunables one by one).
void apply_to(const download_settings& s, download_options& opts);

/// Loads the YAML file at `path` (nothing to do when empty) and applies it to
/// `opts`; returns the error text when the file cannot be read or is invalid.
std::optional<std::string> apply_config_file(const std::string& path, download_options& opts);

/// A rate in bytes/s: digits with an optional K, M or G suffix (1024-based,
/// case-insensitive, optional trailing "B" or "/s" not accepted); at most 1 TiB/s.
result<std::uint64_t> parse_rate(std::string_view text);

/// Checks the syntax of a tracker URL given by the user (http, https or udp,
/// with a host; at most 2048 bytes, no white space).
status check_tracker_url(std::string_view url);

/// Checks one "host:port" peer address (IP literal or host name); the error
/// names the problem ("invalid port '99999' ...").
status check_peer_address(std::string_view text);

} // namespace actorrent::app
