#include "app/download_config.hpp"

#include "app/yaml_position.hpp"
#include "protocol/peer_address.hpp"
#include "protocol/text.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actorrent::app {

namespace {

// Keys of the run itself; every name of logic::settings is a key too.
constexpr std::array<std::string_view, 14> known_keys{
  "download_dir", "port", "peers", "use_trackers", "trackers", "quiet", "json_progress", "verbose", "show_peers", "timeout",
  "seed", "seed_ratio", "seed_time", "select_file"};

bool is_known(std::string_view key) {
  return std::find(known_keys.begin(), known_keys.end(), key) != known_keys.end()
         || logic::find_setting(key) != nullptr;
}

using text::quote; // user text in error messages

/// Edit distance, for "did you mean" (keys are short; inputs longer than 64
/// bytes are not compared).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(std::string_view key) {
  if (key.size() > 64)
    return {};
  std::string_view best;
  std::size_t best_d = 3; // suggest only within distance 2
  auto consider = [&](std::string_view k) {
    auto d = edit_distance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  };
  for (auto k : known_keys)
    consider(k);
  for (auto& e : logic::default_setting_table())
    consider(e.name);
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

/// "got 'abc'", "got nothing", "got a list", "got a mapping".
std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return "got " + quote(n.Scalar());
    case YAML::NodeType::Sequence:
      return "got a list";
    case YAML::NodeType::Map:
      return "got a mapping";
    default:
      return "got nothing";
  }
}

/// A decimal integer in [lo, hi] from a scalar (plain or quoted).
std::optional<std::uint64_t> to_integer(const YAML::Node& n, std::uint64_t lo, std::uint64_t hi) {
  if (!n.IsScalar())
    return std::nullopt;
  const auto& s = n.Scalar();
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

/// A plain decimal number in [lo, hi] ("1", "0.5", "2.25"; no exponent, sign or
/// hex, so "1e999" and "nan" are refused).
std::optional<double> to_number(const YAML::Node& n, double lo, double hi) {
  if (!n.IsScalar())
    return std::nullopt;
  const auto& s = n.Scalar();
  if (s.empty() || s.size() > 32 || s.find_first_not_of("0123456789.") != std::string::npos
      || std::count(s.begin(), s.end(), '.') > 1 || s.front() == '.' || s.back() == '.')
    return std::nullopt;
  double v = std::strtod(s.c_str(), nullptr);
  if (!(v >= lo && v <= hi))
    return std::nullopt;
  return v;
}

/// YAML 1.1 booleans: true/false, yes/no, on/off (any case).
std::optional<bool> to_bool(const YAML::Node& n) {
  if (!n.IsScalar())
    return std::nullopt;
  std::string s = n.Scalar();
  if (s.size() > 5)
    return std::nullopt;
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (s == "true" || s == "yes" || s == "on")
    return true;
  if (s == "false" || s == "no" || s == "off")
    return false;
  return std::nullopt;
}

struct parser {
  const std::string& name;

  error_info fail(const std::string& key, const std::string& what) const {
    return make_error(name + ": key '" + key + "': " + what);
  }

  result<std::uint64_t> integer(const std::string& key, const YAML::Node& v, std::uint64_t lo,
                                std::uint64_t hi, const std::string& what) const {
    if (auto i = to_integer(v, lo, hi))
      return *i;
    return fail(key, "expected " + what + " from " + std::to_string(lo) + " to " + std::to_string(hi)
                       + ", " + got(v));
  }

  result<bool> boolean(const std::string& key, const YAML::Node& v) const {
    if (auto b = to_bool(v))
      return *b;
    return fail(key, "expected true or false, " + got(v));
  }

  status set(download_settings& out, const std::string& key, const YAML::Node& v) const {
    if (key == "download_dir") {
      if (!v.IsScalar() || v.Scalar().empty())
        return fail(key, "expected a directory path, " + got(v));
      if (v.Scalar().find('\0') != std::string::npos)
        return fail(key, "the path contains a NUL byte");
      out.download_dir = v.Scalar();
    } else if (key == "port") {
      auto i = integer(key, v, 0, 65535, "an integer");
      if (!i)
        return i.error();
      out.port = static_cast<std::uint16_t>(*i);
    } else if (auto* e = logic::find_setting(key)) {
      if (!v.IsScalar())
        return fail(key, logic::setting_expectation(*e) + ", " + got(v));
      auto x = logic::parse_setting(*e, v.Scalar());
      if (!x)
        return fail(key, x.error().message);
      out.tunables[key] = *x;
    } else if (key == "timeout") {
      auto i = integer(key, v, 0, timeout_limit, "a number of seconds");
      if (!i)
        return i.error();
      out.timeout = static_cast<std::uint32_t>(*i);
    } else if (key == "seed_time") {
      auto i = integer(key, v, 0, timeout_limit, "a number of seconds");
      if (!i)
        return i.error();
      out.seed_time = static_cast<std::uint32_t>(*i);
    } else if (key == "select_file") {
      if (!v.IsScalar() || v.Scalar().empty())
        return fail(key, "expected file numbers like \"1,3-5\", " + got(v));
      out.select_file = v.Scalar();
    } else if (key == "seed_ratio") {
      auto d = to_number(v, 0, seed_ratio_limit);
      if (!d)
        return fail(key, "expected a number from 0 to 1000000, " + got(v));
      out.seed_ratio = *d;
    } else if (key == "peers") {
      if (!v.IsSequence())
        return fail(key, "expected a list of \"host:port\" addresses, " + got(v));
      std::vector<std::string> peers;
      std::size_t index = 0;
      for (const auto& e : v) {
        ++index;
        auto entry = "entry " + std::to_string(index);
        if (!e.IsScalar())
          return fail(key, entry + ": expected a \"host:port\" address, " + got(e));
        if (auto ok = check_peer_address(e.Scalar()); !ok)
          return fail(key, entry + ": " + ok.error().message);
        peers.push_back(e.Scalar());
      }
      out.peers = std::move(peers);
    } else if (key == "trackers") {
      if (to_bool(v))
        return fail(key, "expected a list of tracker URLs (to turn the torrent's trackers off, use "
                         "'use_trackers: false'), " + got(v));
      if (!v.IsSequence())
        return fail(key, "expected a list of tracker URLs, " + got(v));
      std::vector<std::string> urls;
      std::size_t index = 0;
      for (const auto& e : v) {
        auto entry = "entry " + std::to_string(++index);
        if (!e.IsScalar())
          return fail(key, entry + ": expected a tracker URL, " + got(e));
        if (auto ok = check_tracker_url(e.Scalar()); !ok)
          return fail(key, entry + ": " + ok.error().message);
        urls.push_back(e.Scalar());
      }
      out.trackers = std::move(urls);
    } else {
      auto b = boolean(key, v);
      if (!b)
        return b.error();
      if (key == "use_trackers")
        out.use_trackers = *b;
      else if (key == "quiet")
        out.quiet = *b;
      else if (key == "json_progress")
        out.json_progress = *b;
      else if (key == "seed")
        out.seed = *b;
      else if (key == "show_peers")
        out.show_peers = *b;
      else
        out.verbose = *b;
    }
    return {};
  }

  result<download_settings> parse(std::string_view text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string{text});
    } catch (const YAML::Exception& e) {
      return make_error(yaml_located(name, e.mark.line, e.mark.column, e.msg));
    }
    download_settings out;
    if (root.IsNull() || !root.IsDefined())
      return out;
    if (!root.IsMap())
      return make_error(name + ": expected a mapping of settings (key: value) at the top level, " + got(root));
    std::set<std::string> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      // The iterator yields a temporary pair of nodes: copy the (shared) handles.
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      if (!k.IsScalar())
        return make_error(yaml_located(name, k.Mark().line, -1, "expected a key name, " + got(k)));
      const std::string& key = k.Scalar();
      if (!is_known(key))
        return make_error(name + ": unknown key " + quote(key) + suggestion(key));
      if (!seen.insert(key).second)
        return make_error(name + ": key '" + key + "' given twice");
      if (auto ok = set(out, key, v); !ok)
        return ok.error();
    }
    return out;
  }
};

} // namespace

status check_tracker_url(std::string_view url) {
  auto starts = [&](std::string_view p) { return url.substr(0, p.size()) == p; };
  if (url.size() > 2048)
    return make_error("tracker URL longer than 2048 bytes");
  if (!starts("http://") && !starts("https://") && !starts("udp://"))
    return make_error("expected an http://, https:// or udp:// tracker URL, got " + quote(url));
  auto host = url.substr(url.find("//") + 2);
  if (host.empty() || host.front() == '/' || host.front() == ':')
    return make_error("the tracker URL " + quote(url) + " has no host");
  if (url.find_first_of(std::string_view{" \t\r\n\0", 5}) != std::string_view::npos)
    return make_error("the tracker URL " + quote(url) + " contains white space or a NUL byte");
  return {};
}

status check_peer_address(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp)
    return hp.error();
  return {};
}

result<download_settings> parse_download_config(std::string_view yaml, const std::string& name) {
  try {
    return parser{name}.parse(yaml);
  } catch (const std::exception& e) {
    // yaml-cpp may throw on conversions we did not foresee; never let it escape.
    return make_error(name + ": " + e.what());
  }
}

result<download_settings> load_download_config(const std::string& path) {
  std::string error;
  auto body = text::read_text_file(path, config_file_limit, error);
  if (!body)
    return make_error(error);
  return parse_download_config(*body, path);
}

std::optional<std::string> apply_config_file(const std::string& path, download_options& opts) {
  if (path.empty())
    return std::nullopt;
  auto file = load_download_config(path);
  if (!file)
    return file.error().to_string();
  apply_to(*file, opts);
  return std::nullopt;
}

void apply_to(const download_settings& s, download_options& opts) {
  if (s.download_dir)
    opts.download_dir = *s.download_dir;
  if (s.port)
    opts.port = *s.port;
  if (s.peers)
    opts.peers = *s.peers;
  if (s.use_trackers)
    opts.use_trackers = *s.use_trackers;
  if (s.trackers)
    opts.trackers = *s.trackers;
  if (s.quiet)
    opts.quiet = *s.quiet;
  if (s.json_progress)
    opts.json_progress = *s.json_progress;
  if (s.verbose)
    opts.verbose = *s.verbose;
  if (s.show_peers)
    opts.show_peers = *s.show_peers;
  if (s.timeout)
    opts.timeout = *s.timeout;
  if (s.seed)
    opts.seed = *s.seed;
  if (s.seed_ratio)
    opts.seed_ratio = *s.seed_ratio;
  if (s.seed_time)
    opts.seed_time = *s.seed_time;
  if (s.select_file)
    opts.select_file = *s.select_file;
  for (auto& [name, value] : s.tunables)
    if (auto* e = logic::find_setting(name))
      opts.tunables.*(e->field) = value;
}

result<std::uint64_t> parse_rate(std::string_view text) {
  auto bad = [&] { return make_error("expected bytes/s like 500K, 5M or 1G, got " + quote(text)); };
  if (text.empty() || text.size() > 20)
    return bad();
  std::uint64_t mult = 1;
  switch (text.back()) {
    case 'k': case 'K': mult = 1ull << 10; break;
    case 'm': case 'M': mult = 1ull << 20; break;
    case 'g': case 'G': mult = 1ull << 30; break;
    default: break;
  }
  auto digits = mult == 1 ? text : text.substr(0, text.size() - 1);
  if (digits.empty() || digits.size() > 13 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return bad();
  std::uint64_t v = 0;
  for (char c : digits)
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v > (1ull << 40) / mult)
    return bad();
  return v * mult;
}

} // namespace actorrent::app
