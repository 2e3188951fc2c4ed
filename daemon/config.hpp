// The daemon's configuration (`actorrent daemon --config FILE.yaml`): one YAML
// file, overridden key by key by environment variables
// (ACTORRENT_LIMITS__PEERS_GLOBAL=200) and, at run time, by the API
// (config.set, kept in the state directory: the file is never rewritten).
// CAF-free, so the parser is unit-tested and fuzzed on its own.
//
// Every scalar key is one entry of a table (dotted path, type, bounds, help,
// whether it applies at run time). The file's sections are `listen`, `api`,
// `paths`, `limits`, `seeding`, `shutdown`, `watch`, `labels` (per-label
// defaults) and `engine` (every tunable of `actorrent settings`). Errors name
// the key, the line and the column: "FILE: line 4, column 3: key
// 'limits.peers_globl': unknown key (did you mean 'limits.peers_global'?)".
#pragma once

#include "logic/settings.hpp"
#include "protocol/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::daemon {

/// What a bearer token may do. A method needs one scope; `admin` includes
/// `control`, which includes `read`.
enum class scope : std::uint8_t { read = 0, control = 1, admin = 2 };

inline std::string_view scope_name(scope s) {
  return s == scope::admin ? "admin" : s == scope::control ? "control" : "read";
}
inline std::optional<scope> parse_scope(std::string_view text) {
  if (text == "read")
    return scope::read;
  if (text == "control")
    return scope::control;
  if (text == "admin")
    return scope::admin;
  return std::nullopt;
}

struct api_token {
  std::string token;
  scope level = scope::read; ///< the highest scope listed
  std::set<scope> scopes;    ///< as written in the file
};

/// Defaults for the torrents carrying a label (the first label that has
/// them wins). Unset fields fall back to the global defaults.
struct label_defaults {
  std::optional<std::string> save_path;
  std::optional<std::uint64_t> upload_rate;   ///< bytes/s, 0: unlimited
  std::optional<std::uint64_t> download_rate; ///< bytes/s, 0: unlimited
  std::optional<std::uint64_t> peers;         ///< connections per torrent
  std::optional<double> ratio_limit;          ///< 0: none
};

/// Where an effective value came from.
enum class value_source : std::uint8_t { default_value, file, env, api };
std::string_view source_name(value_source s);

/// The effective configuration.
struct daemon_config {
  // listen
  std::uint16_t listen_port = 6881;            ///< peers, every torrent (0: any free port)
  // api
  std::string api_bind = "127.0.0.1";
  std::uint16_t api_port = 9091;               ///< 0: any free port (printed at start)
  std::vector<api_token> tokens;
  std::vector<std::string> allowed_hosts;      ///< Host header names besides localhost and the bind address
  std::uint64_t max_body = 1 << 20;            ///< bytes of one request body
  std::uint64_t api_timeout_ms = 5000;         ///< an API call waits this long for the session
  std::uint64_t api_threads = 4;
  // paths
  std::string downloads;                       ///< default save path
  std::string state;                           ///< resume data, added torrents, API changes
  std::string watch;                           ///< .torrent files dropped here are added ("" = none)
  // limits
  std::uint64_t peers_global = 500;
  std::uint64_t peers_per_torrent = 50;
  std::uint64_t half_open_global = 64;
  std::uint64_t upload_rate = 0;               ///< bytes/s, all torrents, 0: unlimited
  std::uint64_t download_rate = 0;
  std::uint64_t active_downloads = 5;          ///< 0: no limit
  std::uint64_t active_seeds = 0;              ///< 0: no limit
  std::uint64_t active_checks = 4;             ///< start-up checks at once
  std::uint64_t announces = 50;                ///< tracker requests in flight at once, all torrents
  std::uint64_t unchoke_slots = 0;             ///< upload slots of all torrents together; 0: no cap
  std::uint64_t stalled_after = 120;           ///< s a download may receive nothing before it frees its slot
  // seeding
  double ratio_limit = 0;                      ///< pause a seed at uploaded/size >= this; 0: never
  std::uint64_t idle_seed_time = 0;            ///< s: pause a seed that uploaded nothing this long; 0: never
  std::uint64_t sleep_after = 5;               ///< s: a seed or finished torrent quiet this long sleeps; 0: never
  // shutdown
  std::uint64_t shutdown_timeout = 10;         ///< s for stopped announces and resume data at SIGTERM
  // watch
  std::uint64_t watch_interval = 2;            ///< s between scans of paths.watch
  // labels, engine
  std::map<std::string, label_defaults> labels;
  logic::settings engine;
};

/// One configurable key.
struct config_key {
  std::string_view path;   ///< "limits.peers_global"
  std::string_view type;   ///< "integer", "rate", "seconds", "string", "ratio", "port", "tokens", "labels", "hosts"
  bool runtime;            ///< applied without a restart
  std::string_view help;
};

/// Every key of the table (engine.* keys included, from logic::settings).
const std::vector<config_key>& config_keys();

/// The environment variable of a key: "limits.peers_global" -> "ACTORRENT_LIMITS__PEERS_GLOBAL".
std::string env_name(std::string_view path);

/// A loaded configuration: the values and where each came from.
struct loaded_config {
  daemon_config cfg;
  std::map<std::string, value_source> sources; ///< by key path; absent keys are defaults
  std::map<std::string, nlohmann::json> api;   ///< the API's overrides (state dir), as given
};

/// Parses YAML text named `name` (the file path, for messages), then applies
/// `env` (the process environment as NAME=VALUE strings; only ACTORRENT_*
/// names containing "__" are read, and an unknown one is an error) and the
/// API overrides `api`. Never throws. Errors: "NAME: line L, column C: key
/// 'K': ..." (the line and column are 1-based).
result<loaded_config> parse_daemon_config(std::string_view yaml, const std::string& name,
                                          const std::vector<std::string>& env = {},
                                          const std::map<std::string, nlohmann::json>& api = {});

/// Reads the file (at most 1 MiB), then parse_daemon_config.
result<loaded_config> load_daemon_config(const std::string& path, const std::vector<std::string>& env,
                                         const std::map<std::string, nlohmann::json>& api);

/// Checks one API override (config.set): the key exists, may be set through
/// the API (not tokens, labels or paths) and the value has the key's type and
/// bounds. Returns the key's entry.
result<const config_key*> check_api_value(std::string_view key, const nlohmann::json& value);

/// Sets one key from an API value (config.set) and marks it as coming from
/// the API; the value is checked as check_api_value does.
status apply_api_value(loaded_config& lc, std::string_view key, const nlohmann::json& value);

/// `fresh` (a reloaded file) with every key that needs a restart kept as in
/// `old` (value and source): what a reload applies at run time.
loaded_config merge_runtime(const loaded_config& old, const loaded_config& fresh);

/// config.get: every key with {"value", "source", "runtime"} (token strings
/// are never shown, only their count and scopes).
nlohmann::json describe_config(const loaded_config& lc);

/// The keys whose effective values differ between `a` and `b`, split by
/// whether they apply at run time.
struct config_diff {
  std::vector<std::string> runtime;
  std::vector<std::string> restart;
};
config_diff diff_configs(const loaded_config& a, const loaded_config& b);

/// The process environment as NAME=VALUE strings.
std::vector<std::string> process_environment();

} // namespace actorrent::daemon
