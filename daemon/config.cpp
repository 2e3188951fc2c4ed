#include "daemon/config.hpp"

#include "app/yaml_position.hpp"

#include "protocol/text.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

extern char** environ;

namespace actorrent::daemon {

namespace {

using nlohmann::json;
using text::quote;

constexpr std::size_t config_file_limit = 1 << 20;
constexpr std::size_t max_labels = 1000;
constexpr std::size_t max_tokens = 100;
constexpr std::size_t max_hosts = 100;

/// Where a problem is: the line and column (1-based) of a YAML node, or
/// nowhere (environment, API, a missing key).
struct where {
  int line = -1;
  int column = -1;
};

where at(const YAML::Node& n) {
  auto m = n.Mark();
  if (m.line < 0)
    return {};
  return {m.line + 1, m.column + 1};
}

struct config_failure {
  where pos;
  std::string message;
};

std::string render(const std::string& name, const config_failure& f) {
  return app::yaml_located(name, f.pos.line - 1, f.pos.column - 1, f.message);
}

// ---- scalar parsers (text in, value or expectation out) ---------------------------------

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t lo, std::uint64_t hi) {
  if (s.empty() || s.size() > 19)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v < lo || v > hi)
    return std::nullopt;
  return v;
}

/// digits with an optional K, M or G (1024-based, either case).
std::optional<std::uint64_t> parse_rate_text(std::string_view s, std::uint64_t hi) {
  std::uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k': case 'K': mult = 1024; break;
      case 'm': case 'M': mult = 1024 * 1024; break;
      case 'g': case 'G': mult = 1024ull * 1024 * 1024; break;
      default: break;
    }
    if (mult != 1)
      s.remove_suffix(1);
  }
  auto v = parse_uint(s, 0, hi);
  if (!v || *v > hi / mult)
    return std::nullopt;
  return *v * mult;
}

/// digits with an optional s, m or h.
std::optional<std::uint64_t> parse_seconds_text(std::string_view s, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 's': mult = 1; s.remove_suffix(1); break;
      case 'm': mult = 60; s.remove_suffix(1); break;
      case 'h': mult = 3600; s.remove_suffix(1); break;
      default: break;
    }
  }
  auto v = parse_uint(s, 0, hi);
  if (!v || *v > hi / mult || *v * mult < lo)
    return std::nullopt;
  return *v * mult;
}

std::optional<double> parse_ratio(std::string_view s, double hi) {
  if (s.empty() || s.size() > 32 || s.find_first_not_of("0123456789.") != std::string_view::npos
      || std::count(s.begin(), s.end(), '.') > 1 || s.front() == '.' || s.back() == '.')
    return std::nullopt;
  double v = std::strtod(std::string{s}.c_str(), nullptr);
  if (!(v >= 0 && v <= hi))
    return std::nullopt;
  return v;
}

std::string format_rate(std::uint64_t v) {
  if (v != 0 && v % (1024ull * 1024 * 1024) == 0)
    return std::to_string(v / (1024ull * 1024 * 1024)) + "G";
  if (v != 0 && v % (1024 * 1024) == 0)
    return std::to_string(v / (1024 * 1024)) + "M";
  if (v != 0 && v % 1024 == 0)
    return std::to_string(v / 1024) + "K";
  return std::to_string(v);
}

bool plain_path_text(std::string_view s) {
  if (s.size() > 4096)
    return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// ---- the table --------------------------------------------------------------------------

/// One scalar key: parse from text (nullopt: ok, else the expectation) and show.
struct key_impl {
  config_key meta;
  std::function<std::optional<std::string>(daemon_config&, std::string_view)> set;
  std::function<json(const daemon_config&)> get;
  bool env = true; ///< may be set from the environment
  bool api = true; ///< may be set through config.set
};

key_impl uint_key(std::string_view path, std::uint64_t daemon_config::*f, std::uint64_t lo, std::uint64_t hi,
                  bool runtime, std::string_view help) {
  auto expect = "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return {{path, "integer", runtime, help},
          [f, lo, hi, expect](daemon_config& c, std::string_view s) -> std::optional<std::string> {
            auto v = parse_uint(s, lo, hi);
            if (!v)
              return expect;
            c.*f = *v;
            return std::nullopt;
          },
          [f](const daemon_config& c) { return json(c.*f); }};
}

key_impl rate_key(std::string_view path, std::uint64_t daemon_config::*f, bool runtime, std::string_view help) {
  constexpr std::uint64_t hi = 1ull << 40;
  return {{path, "rate", runtime, help},
          [f](daemon_config& c, std::string_view s) -> std::optional<std::string> {
            auto v = parse_rate_text(s, hi);
            if (!v)
              return std::string{"expected bytes/s: digits with an optional K, M or G, at most 1T"};
            c.*f = *v;
            return std::nullopt;
          },
          [f](const daemon_config& c) { return json(format_rate(c.*f)); }};
}

key_impl seconds_key(std::string_view path, std::uint64_t daemon_config::*f, std::uint64_t lo, std::uint64_t hi,
                     bool runtime, std::string_view help) {
  auto expect = "expected seconds from " + std::to_string(lo) + " to " + std::to_string(hi)
                + " (digits with an optional s, m or h)";
  return {{path, "seconds", runtime, help},
          [f, lo, hi, expect](daemon_config& c, std::string_view s) -> std::optional<std::string> {
            auto v = parse_seconds_text(s, lo, hi);
            if (!v)
              return expect;
            c.*f = *v;
            return std::nullopt;
          },
          [f](const daemon_config& c) { return json(std::to_string(c.*f) + "s"); }};
}

key_impl port_key(std::string_view path, std::uint16_t daemon_config::*f, std::string_view help) {
  return {{path, "port", false, help},
          [f](daemon_config& c, std::string_view s) -> std::optional<std::string> {
            auto v = parse_uint(s, 0, 65535);
            if (!v)
              return std::string{"expected a port from 0 to 65535"};
            c.*f = static_cast<std::uint16_t>(*v);
            return std::nullopt;
          },
          [f](const daemon_config& c) { return json(c.*f); }};
}

key_impl string_key(std::string_view path, std::string daemon_config::*f, bool allow_empty, std::string_view help) {
  key_impl k{{path, "string", false, help},
             [f, allow_empty](daemon_config& c, std::string_view s) -> std::optional<std::string> {
               if ((!allow_empty && s.empty()) || !plain_path_text(s))
                 return std::string{allow_empty ? "expected a path" : "expected a path, not empty"};
               c.*f = std::string{s};
               return std::nullopt;
             },
             [f](const daemon_config& c) { return json(c.*f); }};
  k.api = false; // paths and addresses change only in the file (or the environment)
  return k;
}

std::vector<key_impl> build_table() {
  using c = daemon_config;
  std::vector<key_impl> t;
  t.push_back(port_key("listen.port", &c::listen_port, "TCP port for peers, shared by every torrent (0: any free port)"));
  t.push_back(string_key("api.bind", &c::api_bind, false, "address the JSON-RPC API listens on"));
  t.push_back(port_key("api.port", &c::api_port, "port of the JSON-RPC API (0: any free port, printed at start)"));
  t.push_back({{"api.tokens", "tokens", true, "bearer tokens: a list of {token, scopes: [read, control, admin]}"},
               nullptr,
               [](const c& cfg) {
                 json out = json::array();
                 for (auto& tk : cfg.tokens) {
                   json scopes = json::array();
                   for (auto s : tk.scopes)
                     scopes.push_back(scope_name(s));
                   out.push_back({{"token", "(hidden)"}, {"scopes", scopes}});
                 }
                 return out;
               },
               false, false});
  t.push_back({{"api.allowed_hosts", "hosts", false,
                "Host header names accepted besides localhost, 127.0.0.1, [::1] and api.bind (DNS rebinding guard)"},
               nullptr, [](const c& cfg) { return json(cfg.allowed_hosts); }, true, false});
  t.push_back(uint_key("api.max_body", &c::max_body, 1024, 64 << 20, false, "bytes of one request body at most"));
  t.push_back(uint_key("api.timeout_ms", &c::api_timeout_ms, 100, 60000, true,
                       "milliseconds an API call waits for the session before it fails with a timeout"));
  t.push_back(uint_key("api.threads", &c::api_threads, 1, 64, false, "HTTP worker threads"));
  t.push_back(string_key("paths.downloads", &c::downloads, false, "default save path of new torrents"));
  t.push_back(string_key("paths.state", &c::state, false,
                         "the daemon's own state: added torrents, resume data, API changes"));
  t.push_back(string_key("paths.watch", &c::watch, true, ".torrent files dropped here are added (empty: none)"));
  t.push_back(uint_key("limits.peers_global", &c::peers_global, 1, 100000, true, "peer connections of all torrents"));
  t.push_back(uint_key("limits.peers_per_torrent", &c::peers_per_torrent, 1, 10000, true,
                       "peer connections of one torrent"));
  t.push_back(uint_key("limits.half_open_global", &c::half_open_global, 1, 10000, true,
                       "outgoing connects in flight, all torrents"));
  t.push_back(rate_key("limits.upload_rate", &c::upload_rate, true, "bytes/s for all torrents (0: unlimited)"));
  t.push_back(rate_key("limits.download_rate", &c::download_rate, true, "bytes/s for all torrents (0: unlimited)"));
  t.push_back(uint_key("limits.active_downloads", &c::active_downloads, 0, 100000, true,
                       "torrents downloading at once (0: no limit); a stalled one frees its slot"));
  t.push_back(uint_key("limits.active_seeds", &c::active_seeds, 0, 100000, true, "torrents seeding at once (0: no limit)"));
  t.push_back(uint_key("limits.active_checks", &c::active_checks, 1, 1000, true, "start-up checks at once"));
  t.push_back(uint_key("limits.announces", &c::announces, 1, 10000, true,
                       "tracker requests in flight at once, all torrents (the others wait their turn)"));
  t.push_back(uint_key("limits.unchoke_slots", &c::unchoke_slots, 0, 100000, true,
                       "upload (unchoke) slots of all torrents together, shared fairly (0: no cap)"));
  t.push_back(seconds_key("limits.stalled_after", &c::stalled_after, 1, 86400, true,
                          "a download that receives nothing this long is stalled and frees its slot"));
  t.push_back({{"seeding.ratio_limit", "ratio", true, "pause a seed at uploaded/size >= this (0: never)"},
               [](c& cfg, std::string_view s) -> std::optional<std::string> {
                 auto v = parse_ratio(s, 1e6);
                 if (!v)
                   return std::string{"expected a decimal number from 0 to 1000000"};
                 cfg.ratio_limit = *v;
                 return std::nullopt;
               },
               [](const c& cfg) { return json(cfg.ratio_limit); }});
  t.push_back(seconds_key("seeding.idle_seed_time", &c::idle_seed_time, 0, 365 * 86400, true,
                          "pause a seed that uploaded nothing this long (0: never)"));
  t.push_back(seconds_key("seeding.sleep_after", &c::sleep_after, 0, 365 * 86400, true,
                          "a seeding or finished torrent with no peer this long sleeps: no actor, a few "
                          "hundred bytes; a peer, its next announce or an API call wakes it (0: never)"));
  t.push_back(seconds_key("shutdown.timeout", &c::shutdown_timeout, 1, 600, true,
                          "SIGTERM: time for stopped announces and resume data"));
  t.push_back(seconds_key("watch.interval", &c::watch_interval, 1, 3600, false, "seconds between scans of paths.watch"));
  t.push_back({{"labels", "labels", true,
                "per-label defaults: {NAME: {save_path, upload_rate, download_rate, peers, ratio_limit}}"},
               nullptr,
               [](const c& cfg) {
                 json out = json::object();
                 for (auto& [name, d] : cfg.labels) {
                   json l = json::object();
                   if (d.save_path)
                     l["save_path"] = *d.save_path;
                   if (d.upload_rate)
                     l["upload_rate"] = format_rate(*d.upload_rate);
                   if (d.download_rate)
                     l["download_rate"] = format_rate(*d.download_rate);
                   if (d.peers)
                     l["peers"] = *d.peers;
                   if (d.ratio_limit)
                     l["ratio_limit"] = *d.ratio_limit;
                   out[name] = l;
                 }
                 return out;
               },
               false, false});
  // every tunable of the engine, as `actorrent settings` lists it
  static std::vector<std::string> engine_paths;
  const auto& st = logic::default_setting_table();
  engine_paths.reserve(st.size());
  for (auto& e : st)
    engine_paths.push_back("engine." + std::string{e.name});
  for (std::size_t i = 0; i < st.size(); ++i) {
    const auto* e = &st[i];
    t.push_back({{engine_paths[i], "setting", false, e->help},
                 [e](c& cfg, std::string_view s) -> std::optional<std::string> {
                   auto v = logic::parse_setting(*e, s);
                   if (!v)
                     return v.error().message;
                   cfg.engine.*(e->field) = *v;
                   return std::nullopt;
                 },
                 [e](const c& cfg) { return json(logic::format_setting(*e, cfg.engine.*(e->field))); }});
  }
  return t;
}

const std::vector<key_impl>& table() {
  static const std::vector<key_impl> t = build_table();
  return t;
}

const key_impl* find_key(std::string_view path) {
  for (auto& k : table())
    if (k.meta.path == path)
      return &k;
  return nullptr;
}

std::string suggestion(std::string_view key, std::string_view prefix) {
  if (key.size() > 64)
    return {};
  std::string_view best;
  std::size_t best_d = 3;
  for (auto& k : table()) {
    auto p = k.meta.path;
    if (!prefix.empty() && (p.size() <= prefix.size() || p.substr(0, prefix.size()) != prefix))
      continue;
    auto d = text::edit_distance(key, p);
    if (d < best_d) {
      best_d = d;
      best = p;
    }
  }
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

std::string section_suggestion(std::string_view name) {
  static constexpr std::string_view sections[] = {"listen", "api", "paths", "limits", "seeding",
                                                  "shutdown", "watch", "labels", "engine"};
  if (name.size() > 64)
    return {};
  for (auto s : sections)
    if (text::edit_distance(name, s) <= 2)
      return " (did you mean '" + std::string{s} + "'?)";
  return {};
}

std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "got " + quote(n.Scalar());
    case YAML::NodeType::Sequence: return "got a list";
    case YAML::NodeType::Map: return "got a mapping";
    default: return "got nothing";
  }
}

std::string section_of(std::string_view path) {
  auto dot = path.find('.');
  return std::string{path.substr(0, dot)};
}

// ---- the YAML walk -------------------------------------------------------------------------

struct walker {
  loaded_config& out;
  std::optional<config_failure> fail;

  bool error(const YAML::Node& n, std::string msg) {
    if (!fail)
      fail = config_failure{at(n), std::move(msg)};
    return false;
  }

  bool scalar(const std::string& path, const key_impl& k, const YAML::Node& v) {
    if (!v.IsScalar() || !k.set)
      return error(v, "key '" + path + "': " + (k.set ? "expected a value, " : "expected something else, ") + got(v));
    if (auto bad = k.set(out.cfg, v.Scalar()))
      return error(v, "key '" + path + "': " + *bad + ", " + got(v));
    out.sources[path] = value_source::file;
    return true;
  }

  bool tokens(const YAML::Node& v) {
    if (!v.IsSequence())
      return error(v, "key 'api.tokens': expected a list of {token, scopes}, " + got(v));
    if (v.size() > max_tokens)
      return error(v, "key 'api.tokens': more than " + std::to_string(max_tokens) + " tokens");
    std::vector<api_token> list;
    for (const auto& item : v) {
      if (!item.IsMap())
        return error(item, "key 'api.tokens': expected {token, scopes}, " + got(item));
      api_token tk;
      bool have_token = false, have_scopes = false;
      for (const auto& kv : item) {
        auto key = kv.first.IsScalar() ? kv.first.Scalar() : std::string{};
        if (key == "token") {
          const auto& t = kv.second;
          if (!t.IsScalar() || t.Scalar().size() < 16 || t.Scalar().size() > 256
              || std::any_of(t.Scalar().begin(), t.Scalar().end(),
                             [](char c) { return c <= 0x20 || c >= 0x7f; }))
            return error(t, "key 'api.tokens.token': expected 16 to 256 printable characters without spaces");
          tk.token = t.Scalar();
          have_token = true;
        } else if (key == "scopes") {
          const auto& s = kv.second;
          if (!s.IsSequence() || s.size() == 0)
            return error(s, "key 'api.tokens.scopes': expected a list of read, control, admin, " + got(s));
          for (const auto& one : s) {
            auto sc = one.IsScalar() ? parse_scope(one.Scalar()) : std::nullopt;
            if (!sc)
              return error(one, "key 'api.tokens.scopes': expected read, control or admin, " + got(one));
            tk.scopes.insert(*sc);
            tk.level = std::max(tk.level, *sc);
          }
          have_scopes = true;
        } else {
          return error(kv.first, "key 'api.tokens." + key + "': unknown key (a token has token and scopes)");
        }
      }
      if (!have_token || !have_scopes)
        return error(item, std::string{"key 'api.tokens': each entry needs "} + (have_token ? "scopes" : "a token"));
      for (auto& other : list)
        if (other.token == tk.token)
          return error(item, "key 'api.tokens': the same token is listed twice");
      list.push_back(std::move(tk));
    }
    out.cfg.tokens = std::move(list);
    out.sources["api.tokens"] = value_source::file;
    return true;
  }

  bool hosts(const YAML::Node& v) {
    if (!v.IsSequence() || v.size() > max_hosts)
      return error(v, "key 'api.allowed_hosts': expected a list of host names, " + got(v));
    std::vector<std::string> list;
    for (const auto& h : v) {
      if (!h.IsScalar() || h.Scalar().empty() || h.Scalar().size() > 253 || !plain_path_text(h.Scalar()))
        return error(h, "key 'api.allowed_hosts': expected a host name, " + got(h));
      list.push_back(h.Scalar());
    }
    out.cfg.allowed_hosts = std::move(list);
    out.sources["api.allowed_hosts"] = value_source::file;
    return true;
  }

  bool labels(const YAML::Node& v) {
    if (!v.IsMap())
      return error(v, "key 'labels': expected a mapping of label names to defaults, " + got(v));
    if (v.size() > max_labels)
      return error(v, "key 'labels': more than " + std::to_string(max_labels) + " labels");
    for (const auto& kv : v) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty() || kv.first.Scalar().size() > 64)
        return error(kv.first, "key 'labels': expected a label name of 1 to 64 characters");
      auto name = kv.first.Scalar();
      auto base = "labels." + name;
      if (kv.second.IsNull()) {
        out.cfg.labels[name];
        continue;
      }
      if (!kv.second.IsMap())
        return error(kv.second, "key '" + base + "': expected a mapping, " + got(kv.second));
      label_defaults d;
      for (const auto& f : kv.second) {
        auto key = f.first.IsScalar() ? f.first.Scalar() : std::string{};
        const auto& val = f.second;
        auto path = base + "." + key;
        if (!val.IsScalar() && key != "")
          return error(val, "key '" + path + "': expected a value, " + got(val));
        if (key == "save_path") {
          if (val.Scalar().empty() || !plain_path_text(val.Scalar()))
            return error(val, "key '" + path + "': expected a path, " + got(val));
          d.save_path = val.Scalar();
        } else if (key == "upload_rate" || key == "download_rate") {
          auto r = parse_rate_text(val.Scalar(), 1ull << 40);
          if (!r)
            return error(val, "key '" + path + "': expected bytes/s: digits with an optional K, M or G, " + got(val));
          (key == "upload_rate" ? d.upload_rate : d.download_rate) = *r;
        } else if (key == "peers") {
          auto p = parse_uint(val.Scalar(), 1, 10000);
          if (!p)
            return error(val, "key '" + path + "': expected an integer from 1 to 10000, " + got(val));
          d.peers = *p;
        } else if (key == "ratio_limit") {
          auto r = parse_ratio(val.Scalar(), 1e6);
          if (!r)
            return error(val, "key '" + path + "': expected a decimal number from 0 to 1000000, " + got(val));
          d.ratio_limit = *r;
        } else {
          return error(f.first, "key '" + path
                                  + "': unknown key (a label has save_path, upload_rate, download_rate, peers, "
                                    "ratio_limit)");
        }
      }
      out.cfg.labels[name] = std::move(d);
    }
    out.sources["labels"] = value_source::file;
    return true;
  }

  bool document(const YAML::Node& root) {
    if (root.IsNull())
      return true;
    if (!root.IsMap())
      return error(root, "expected a mapping of sections (listen, api, paths, limits, ...), " + got(root));
    for (const auto& sec : root) {
      if (!sec.first.IsScalar())
        return error(sec.first, "expected a section name");
      auto name = sec.first.Scalar();
      if (name == "labels") {
        if (!labels(sec.second))
          return false;
        continue;
      }
      bool known_section = std::any_of(table().begin(), table().end(),
                                       [&](const key_impl& k) { return section_of(k.meta.path) == name; });
      if (!known_section)
        return error(sec.first, "key " + quote(name) + ": unknown section" + section_suggestion(name)
                                  + " (sections: listen, api, paths, limits, seeding, shutdown, watch, labels, engine)");
      if (sec.second.IsNull())
        continue;
      if (!sec.second.IsMap())
        return error(sec.second, "key '" + name + "': expected a mapping, " + got(sec.second));
      for (const auto& kv : sec.second) {
        if (!kv.first.IsScalar())
          return error(kv.first, "key '" + name + "': expected a key name");
        auto path = name + "." + kv.first.Scalar();
        const auto* k = find_key(path);
        if (k == nullptr)
          return error(kv.first, "key " + quote(path) + ": unknown key" + suggestion(path, name + "."));
        bool ok = path == "api.tokens" ? tokens(kv.second)
                  : path == "api.allowed_hosts" ? hosts(kv.second)
                                                : scalar(path, *k, kv.second);
        if (!ok)
          return false;
      }
    }
    return true;
  }
};

std::string upper_env(std::string_view path) {
  std::string out = "ACTORRENT_";
  for (char c : path) {
    if (c == '.')
      out += "__";
    else
      out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::optional<std::string> apply_env(loaded_config& lc, const std::vector<std::string>& env) {
  for (auto& kv : env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      continue;
    auto name = kv.substr(0, eq);
    if (name.rfind("ACTORRENT_", 0) != 0 || name.find("__") == std::string::npos)
      continue;
    const key_impl* k = nullptr;
    for (auto& cand : table())
      if (upper_env(cand.meta.path) == name)
        k = &cand;
    if (k == nullptr)
      return "environment " + name + ": unknown key (names are ACTORRENT_ and the key in capitals, '.' as '__', "
             "e.g. ACTORRENT_LIMITS__PEERS_GLOBAL)";
    auto value = std::string_view{kv}.substr(eq + 1);
    auto path = std::string{k->meta.path};
    if (path == "api.allowed_hosts") {
      std::vector<std::string> hosts;
      std::string_view rest = value;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto h = rest.substr(0, comma);
        if (h.empty() || !plain_path_text(h))
          return "environment " + name + ": expected host names separated by commas, got " + quote(value);
        hosts.emplace_back(h);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
      lc.cfg.allowed_hosts = std::move(hosts);
    } else if (!k->env || !k->set) {
      return "environment " + name + ": key '" + path + "' can only be set in the file";
    } else if (auto bad = k->set(lc.cfg, value)) {
      return "environment " + name + ": key '" + path + "': " + *bad + ", got " + quote(value);
    }
    lc.sources[path] = value_source::env;
  }
  return std::nullopt;
}

std::string json_text(const json& v) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_unsigned() || v.is_number_integer() || v.is_number_float() || v.is_boolean())
    return v.dump();
  return {};
}

} // namespace

std::string_view source_name(value_source s) {
  switch (s) {
    case value_source::default_value: return "default";
    case value_source::file: return "file";
    case value_source::env: return "env";
    case value_source::api: return "api";
  }
  return "default";
}

const std::vector<config_key>& config_keys() {
  static const std::vector<config_key> keys = [] {
    std::vector<config_key> out;
    for (auto& k : table())
      out.push_back(k.meta);
    return out;
  }();
  return keys;
}

std::string env_name(std::string_view path) { return upper_env(path); }

result<const config_key*> check_api_value(std::string_view key, const json& value) {
  const auto* k = find_key(key);
  if (k == nullptr)
    return make_error("unknown key " + quote(key) + suggestion(key, {}));
  if (!k->api || !k->set)
    return make_error("key '" + std::string{key} + "' can only be set in the file");
  auto text = json_text(value);
  if (text.empty() && !value.is_string())
    return make_error("key '" + std::string{key} + "': expected a number or a string");
  daemon_config probe;
  if (auto bad = k->set(probe, text))
    return make_error("key '" + std::string{key} + "': " + *bad + ", got " + quote(text));
  return &k->meta;
}

result<loaded_config> parse_daemon_config(std::string_view yaml, const std::string& name,
                                          const std::vector<std::string>& env,
                                          const std::map<std::string, json>& api) {
  loaded_config lc;
  YAML::Node root;
  try {
    root = YAML::Load(std::string{yaml});
  } catch (const YAML::Exception& e) {
    return make_error(render(name, {{e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg}));
  }
  walker w{lc, std::nullopt};
  try {
    if (!w.document(root))
      return make_error(render(name, *w.fail));
  } catch (const YAML::Exception& e) {
    return make_error(render(name, {{e.mark.line + 1, e.mark.column + 1}, e.msg}));
  }
  if (auto bad = apply_env(lc, env))
    return make_error(*bad);
  for (auto& [key, value] : api) {
    auto ok = check_api_value(key, value);
    if (!ok)
      return make_error("API setting (paths.state/config-api.json): " + ok.error().message);
    find_key(key)->set(lc.cfg, json_text(value));
    lc.sources[key] = value_source::api;
    lc.api[key] = value;
  }
  auto missing = [&](std::string_view k) {
    return make_error(name + ": key '" + std::string{k} + "' is required (or " + env_name(k) + ")");
  };
  if (lc.cfg.downloads.empty())
    return missing("paths.downloads");
  if (lc.cfg.state.empty())
    return missing("paths.state");
  if (lc.cfg.tokens.empty())
    return make_error(name + ": key 'api.tokens' is required: at least one {token, scopes} (the API never runs "
                             "without authentication)");
  if (auto ok = logic::validate(lc.cfg.engine); !ok)
    return make_error(name + ": engine: " + ok.error().message);
  return lc;
}

result<loaded_config> load_daemon_config(const std::string& path, const std::vector<std::string>& env,
                                         const std::map<std::string, json>& api) {
  std::string err;
  auto text = text::read_text_file(path, config_file_limit, err);
  if (!text)
    return make_error(err);
  return parse_daemon_config(*text, path, env, api);
}

status apply_api_value(loaded_config& lc, std::string_view key, const json& value) {
  auto ok = check_api_value(key, value);
  if (!ok)
    return ok.error();
  find_key(key)->set(lc.cfg, json_text(value));
  lc.sources[std::string{key}] = value_source::api;
  lc.api[std::string{key}] = value;
  return {};
}

loaded_config merge_runtime(const loaded_config& old, const loaded_config& fresh) {
  loaded_config out = fresh;
  for (auto& k : table()) {
    if (k.meta.runtime)
      continue;
    auto path = std::string{k.meta.path};
    if (k.set) {
      k.set(out.cfg, json_text(k.get(old.cfg)));
    } else if (path == "api.allowed_hosts") {
      out.cfg.allowed_hosts = old.cfg.allowed_hosts;
    }
    if (auto it = old.sources.find(path); it != old.sources.end())
      out.sources[path] = it->second;
    else
      out.sources.erase(path);
  }
  return out;
}

json describe_config(const loaded_config& lc) {
  json out = json::object();
  for (auto& k : table()) {
    auto path = std::string{k.meta.path};
    auto src = lc.sources.find(path);
    out[path] = {{"value", k.get(lc.cfg)},
                 {"source", source_name(src == lc.sources.end() ? value_source::default_value : src->second)},
                 {"runtime", k.meta.runtime}};
  }
  return out;
}

config_diff diff_configs(const loaded_config& a, const loaded_config& b) {
  config_diff d;
  for (auto& k : table()) {
    bool differ = k.get(a.cfg) != k.get(b.cfg);
    if (k.meta.path == "api.tokens") {
      differ = a.cfg.tokens.size() != b.cfg.tokens.size();
      for (std::size_t i = 0; !differ && i < a.cfg.tokens.size(); ++i)
        differ = a.cfg.tokens[i].token != b.cfg.tokens[i].token || a.cfg.tokens[i].scopes != b.cfg.tokens[i].scopes;
    }
    if (differ)
      (k.meta.runtime ? d.runtime : d.restart).emplace_back(k.meta.path);
  }
  return d;
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    out.emplace_back(*e);
  return out;
}

} // namespace actorrent::daemon
