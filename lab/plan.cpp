#include "lab/plan.hpp"

#include "lab/units.hpp"
#include "protocol/text.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actorrent::lab {

std::string_view to_string(peer_kind k) {
  switch (k) {
    case peer_kind::actorrent: return "actorrent";
    case peer_kind::libtorrent: return "libtorrent";
    case peer_kind::aria2c: return "aria2c";
    case peer_kind::transmission: return "transmission";
  }
  return "?";
}

std::string_view to_string(peer_role r) { return r == peer_role::seed ? "seed" : "leech"; }

std::string_view to_string(fault_kind k) {
  switch (k) {
    case fault_kind::partition: return "partition";
    case fault_kind::blackhole: return "blackhole";
    case fault_kind::delay: return "delay";
    case fault_kind::loss: return "loss";
    case fault_kind::rate: return "rate";
    case fault_kind::pause: return "pause";
    case fault_kind::churn: return "churn";
    case fault_kind::wire: return "wire";
    case fault_kind::disk: return "disk";
    case fault_kind::reset: return "reset";
    case fault_kind::burst_loss: return "burst_loss";
  }
  return "?";
}

std::string link_spec::describe() const {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (rate_bits)
    add("rate " + format_rate_bits(*rate_bits));
  if (delay_ms)
    add("delay " + format_duration_ms(*delay_ms));
  if (jitter_ms)
    add("jitter " + format_duration_ms(*jitter_ms));
  if (loss_ppm)
    add("loss " + format_percent_ppm(*loss_ppm));
  return s.empty() ? "none" : s;
}

std::string oracle_spec::describe() const {
  if (within_ms)
    return name + " {within: " + format_duration_ms(*within_ms) + "}";
  if (max_bytes)
    return name + ": " + format_size(*max_bytes);
  if (factor) {
    std::ostringstream os;
    os << name << ": " << *factor << "x";
    return os.str();
  }
  return name;
}

namespace {

using text::quote;

/// Thrown inside the parser only; parse_plan turns it into an error_info.
struct plan_error {
  std::string message;
};

std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "got " + quote(n.Scalar());
    case YAML::NodeType::Sequence: return "got a list";
    case YAML::NodeType::Map: return "got a mapping";
    default: return "got nothing";
  }
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& known) {
  if (word.size() > 64)
    return {};
  std::string_view best;
  std::size_t best_d = 3;
  for (auto k : known)
    if (auto d = text::edit_distance(word, k); d < best_d) {
      best_d = d;
      best = k;
    }
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

std::string one_of(const std::vector<std::string_view>& known) {
  std::string s;
  for (std::size_t i = 0; i < known.size(); ++i)
    s += (i == 0 ? "" : i + 1 == known.size() ? " or " : ", ") + std::string{known[i]};
  return s;
}

const std::vector<std::string_view> top_keys{"name", "seed", "torrent", "limits", "groups", "faults", "oracles"};
const std::vector<std::string_view> torrent_keys{"size", "piece_length", "files"};
const std::vector<std::string_view> limits_keys{"max_duration"};
const std::vector<std::string_view> group_keys{"name", "kind", "count", "role", "link", "behavior"};
const std::vector<std::string_view> link_keys{"rate", "delay", "jitter", "loss"};
const std::vector<std::string_view> kinds{"actorrent", "libtorrent", "aria2c", "transmission"};
const std::vector<std::string_view> roles{"seed", "leech"};
const std::vector<std::string_view> fault_kinds{"partition", "blackhole", "delay", "loss", "rate", "pause", "churn",
                                                "wire", "disk", "reset", "burst_loss"};
/// A disk fault's keys (storage/disk_faults.hpp) and the type of their value.
const std::vector<std::string_view> disk_keys{"write_errors", "errors_after", "full_after", "slow_writes"};
const std::vector<std::string_view> oracle_names{"all_honest_complete", "data_intact", "no_honest_banned",
                                                 "misbehaving_banned", "no_crash", "max_rss", "slowdown"};

/// The wire-level misbehaviours of issue 12 and the type of their value.
enum class value_type { percent, flag, duration, rate };
const std::vector<std::pair<std::string_view, value_type>> behaviors{
  {"corrupt_blocks", value_type::percent},    {"claim_unserved", value_type::percent},
  {"bad_bitfield_length", value_type::flag},  {"have_out_of_range", value_type::flag},
  {"oversize_length", value_type::flag},      {"unknown_messages", value_type::flag},
  {"truncated_handshake", value_type::flag},  {"wrong_info_hash", value_type::flag},
  {"requests_out_of_range", value_type::flag}, {"request_flood", value_type::flag},
  {"unrequested_pieces", value_type::flag},   {"choke_flapping", value_type::duration},
  {"free_ride", value_type::flag},            {"snub", value_type::flag},
  {"slow_reads", value_type::rate}};

struct parser {
  std::string source;

  [[noreturn]] void fail(const YAML::Node& at, const std::string& path, const std::string& what) const {
    auto m = at.Mark();
    std::string where = source;
    if (!m.is_null())
      where += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    throw plan_error{where + ": " + path + ": " + what};
  }

  std::string where(const YAML::Node& at, const std::string& path) const {
    auto m = at.Mark();
    std::string w = source;
    if (!m.is_null())
      w += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return w + ": " + path;
  }

  /// Checks that `map` is a mapping with only `known` keys, each once; returns
  /// its entries by key.
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> entries(const YAML::Node& map, const std::string& path,
                                                                   const std::vector<std::string_view>& known) const {
    if (!map.IsMap())
      fail(map, path, "expected a mapping (key: value), " + got(map));
    std::map<std::string, std::pair<YAML::Node, YAML::Node>> out;
    for (auto it = map.begin(); it != map.end(); ++it) {
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      auto kp = path.empty() ? std::string{} : path + ".";
      if (!k.IsScalar())
        fail(k, path.empty() ? "key" : path, "expected a key name, " + got(k));
      const auto& key = k.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail(k, kp + key, "unknown key" + did_you_mean(key, known) + "; known keys: " + one_of(known));
      if (!out.emplace(key, std::pair{k, v}).second)
        fail(k, kp + key, "given twice");
    }
    return out;
  }

  const YAML::Node* find(const std::map<std::string, std::pair<YAML::Node, YAML::Node>>& e, const std::string& key) const {
    auto it = e.find(key);
    return it == e.end() ? nullptr : &it->second.second;
  }

  const YAML::Node& require(const std::map<std::string, std::pair<YAML::Node, YAML::Node>>& e, const YAML::Node& parent,
                            const std::string& path, const std::string& key, const std::string& what) const {
    auto* v = find(e, key);
    if (v == nullptr)
      fail(parent, path.empty() ? key : path + "." + key, "missing: expected " + what);
    return *v;
  }

  const std::string& scalar(const YAML::Node& v, const std::string& path, const std::string& what) const {
    if (!v.IsScalar() || v.Scalar().empty())
      fail(v, path, "expected " + what + ", " + got(v));
    return v.Scalar();
  }

  std::uint64_t integer(const YAML::Node& v, const std::string& path, std::uint64_t lo, std::uint64_t hi,
                        const std::string& what) const {
    auto bad = [&] { fail(v, path, "expected " + what + " from " + std::to_string(lo) + " to " + std::to_string(hi) + ", " + got(v)); };
    if (!v.IsScalar())
      bad();
    const auto& s = v.Scalar();
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
      bad();
    std::uint64_t x = 0;
    for (char c : s)
      x = x * 10 + static_cast<std::uint64_t>(c - '0');
    if (x < lo || x > hi)
      bad();
    return x;
  }

  template <class T>
  T unit(const YAML::Node& v, const std::string& path, result<T> (*parse)(std::string_view)) const {
    auto r = parse(v.IsScalar() ? std::string_view{v.Scalar()} : std::string_view{});
    if (r && v.IsScalar())
      return *r;
    auto msg = r ? std::string{"expected a scalar"} : r.error().message;
    if (!v.IsScalar())
      msg = msg.substr(0, msg.find(", got")) + ", " + got(v);
    fail(v, path, msg);
  }

  std::uint64_t duration(const YAML::Node& v, const std::string& path) const { return unit(v, path, &parse_duration_ms); }

  bool flag(const YAML::Node& v, const std::string& path) const {
    if (v.IsScalar()) {
      auto s = v.Scalar();
      if (s == "true" || s == "yes" || s == "on")
        return true;
      if (s == "false" || s == "no" || s == "off")
        return false;
    }
    fail(v, path, "expected true or false, " + got(v));
  }

  std::size_t choice(const YAML::Node& v, const std::string& path, const std::vector<std::string_view>& known) const {
    const auto& s = scalar(v, path, one_of(known));
    for (std::size_t i = 0; i < known.size(); ++i)
      if (known[i] == s)
        return i;
    fail(v, path, "expected " + one_of(known) + ", " + got(v) + did_you_mean(s, known));
  }

  link_spec link(const YAML::Node& v, const std::string& path) const {
    auto e = entries(v, path, link_keys);
    link_spec l;
    if (auto* r = find(e, "rate"))
      l.rate_bits = unit(*r, path + ".rate", &parse_rate_bits);
    if (auto* d = find(e, "delay"))
      l.delay_ms = duration(*d, path + ".delay");
    if (auto* j = find(e, "jitter"))
      l.jitter_ms = duration(*j, path + ".jitter");
    if (auto* x = find(e, "loss"))
      l.loss_ppm = unit(*x, path + ".loss", &parse_percent_ppm);
    if (l.jitter_ms && !l.delay_ms)
      fail(*find(e, "jitter"), path + ".jitter", "jitter needs a delay beside it");
    return l;
  }

  std::vector<behavior_entry> behavior(const YAML::Node& v, const std::string& path) const {
    std::vector<std::string_view> keys;
    for (auto& b : behaviors)
      keys.push_back(b.first);
    auto e = entries(v, path, keys);
    std::vector<behavior_entry> out;
    for (auto& entry : e) {
      const std::string& key = entry.first;
      const auto& kv = entry.second;
      auto type = std::find_if(behaviors.begin(), behaviors.end(), [&](auto& b) { return b.first == key; })->second;
      auto p = path + "." + key;
      const auto& val = kv.second;
      std::string printed;
      switch (type) {
        case value_type::percent: printed = format_percent_ppm(unit(val, p, &parse_percent_ppm)); break;
        case value_type::flag: printed = flag(val, p) ? "true" : "false"; break;
        case value_type::duration: printed = format_duration_ms(duration(val, p)); break;
        case value_type::rate: printed = format_rate_bits(unit(val, p, &parse_rate_bits)); break;
      }
      if (printed == "false" || printed == "0%")
        continue; // turned off: not a misbehaviour
      out.push_back({key, printed});
    }
    return out;
  }

  std::vector<behavior_entry> disk(const YAML::Node& v, const std::string& path) const {
    auto e = entries(v, path, disk_keys);
    std::vector<behavior_entry> out;
    for (auto& [key, kv] : e) {
      auto p = path + "." + key;
      const auto& val = kv.second;
      std::string printed;
      if (key == "write_errors") {
        printed = format_percent_ppm(unit(val, p, &parse_percent_ppm));
      } else if (key == "slow_writes") {
        auto ms = duration(val, p);
        if (ms == 0 || ms > 10'000)
          fail(val, p, "expected a delay per write from 1ms to 10s, " + got(val));
        printed = format_duration_ms(ms);
      } else {
        printed = format_size(unit(val, p, &parse_size));
      }
      if (printed == "0%")
        continue;
      out.push_back({key, printed});
    }
    if (out.empty())
      fail(v, path, "expected at least one of write_errors, errors_after, full_after, slow_writes");
    return out;
  }

  static bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 24 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
      return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  group_spec group(const YAML::Node& v, const std::string& path) const {
    auto e = entries(v, path, group_keys);
    group_spec g;
    const auto& name = require(e, v, path, "name", "the group's name");
    g.name = scalar(name, path + ".name", "a name");
    if (!valid_name(g.name))
      fail(name, path + ".name", "expected a name of letters, digits and '_' (a letter first, at most 24), " + got(name));
    g.kind = static_cast<peer_kind>(choice(require(e, v, path, "kind", one_of(kinds)), path + ".kind", kinds));
    g.count = static_cast<std::uint32_t>(
      integer(require(e, v, path, "count", "a positive integer"), path + ".count", 1, max_peers_total, "an integer"));
    g.role = static_cast<peer_role>(choice(require(e, v, path, "role", "seed or leech"), path + ".role", roles));
    if (auto* l = find(e, "link"))
      g.link = link(*l, path + ".link");
    if (auto* b = find(e, "behavior")) {
      g.behavior = behavior(*b, path + ".behavior");
      if (!g.behavior.empty() && g.kind != peer_kind::actorrent)
        fail(*b, path + ".behavior", "only actorrent peers can misbehave (this group is " + std::string{to_string(g.kind)} + ")");
    }
    return g;
  }

  /// A group name, a peer name (<group>-<n>) or a list of them.
  std::vector<std::string> names(const YAML::Node& v, const std::string& path, const plan& p) const {
    std::vector<std::string> out;
    auto check = [&](const YAML::Node& n, const std::string& np) {
      const auto& s = scalar(n, np, "a group or peer name");
      if (!refers(s, p)) {
        std::vector<std::string_view> known;
        for (auto& g : p.groups)
          known.push_back(g.name);
        fail(n, np, "no group or peer named " + quote(s) + did_you_mean(s, known));
      }
      if (std::find(out.begin(), out.end(), s) != out.end())
        fail(n, np, quote(s) + " named twice");
      out.push_back(s);
    };
    if (v.IsSequence()) {
      if (v.size() == 0)
        fail(v, path, "expected at least one group or peer name, got an empty list");
      std::size_t i = 0;
      for (const auto& n : v)
        check(n, path + "[" + std::to_string(i++) + "]");
    } else {
      check(v, path);
    }
    return out;
  }

  static bool refers(const std::string& s, const plan& p) {
    for (auto& g : p.groups) {
      if (g.name == s)
        return true;
      if (s.size() > g.name.size() + 1 && s.compare(0, g.name.size(), g.name) == 0 && s[g.name.size()] == '-') {
        auto num = s.substr(g.name.size() + 1);
        if (num.size() <= 4 && num[0] != '0' && num.find_first_not_of("0123456789") == std::string::npos
            && std::stoul(num) <= g.count)
          return true;
      }
    }
    return false;
  }

  fault_spec fault(const YAML::Node& v, const std::string& path, const plan& p) const {
    static const std::vector<std::string_view> keys{"at", "for", "kind", "between", "oneway", "targets", "count",
                                                    "down_for", "rate", "delay", "jitter", "loss", "behavior",
                                                    "disk", "after", "to_bad", "to_good", "loss_bad",
                                                    "loss_good", "step"};
    auto e = entries(v, path, keys);
    fault_spec f;
    f.where = where(v, path);
    f.kind = static_cast<fault_kind>(choice(require(e, v, path, "kind", one_of(fault_kinds)), path + ".kind", fault_kinds));
    f.at_ms = duration(require(e, v, path, "at", "a time like 10s"), path + ".at");
    if (auto* d = find(e, "for")) {
      f.for_ms = duration(*d, path + ".for");
      if (*f.for_ms == 0)
        fail(*d, path + ".for", "expected a duration above 0, " + got(*d));
    }
    auto only_for = [&](const std::string& key, std::initializer_list<fault_kind> allowed) {
      if (auto* n = find(e, key); n && std::find(allowed.begin(), allowed.end(), f.kind) == allowed.end())
        fail(e.at(key).first, path + "." + key, "not used by a " + std::string{to_string(f.kind)} + " fault");
    };
    only_for("between", {fault_kind::partition});
    only_for("oneway", {fault_kind::partition});
    only_for("targets", {fault_kind::blackhole, fault_kind::delay, fault_kind::loss, fault_kind::rate,
                         fault_kind::pause, fault_kind::churn, fault_kind::wire, fault_kind::disk, fault_kind::reset,
                         fault_kind::burst_loss});
    only_for("count", {fault_kind::blackhole, fault_kind::delay, fault_kind::loss, fault_kind::rate,
                       fault_kind::pause, fault_kind::churn, fault_kind::wire, fault_kind::disk, fault_kind::reset,
                       fault_kind::burst_loss});
    only_for("after", {fault_kind::reset});
    for (auto k : {"to_bad", "to_good", "loss_bad", "loss_good", "step"})
      only_for(k, {fault_kind::burst_loss});
    only_for("behavior", {fault_kind::wire});
    only_for("disk", {fault_kind::disk});
    only_for("down_for", {fault_kind::churn});
    for (auto k : {"rate", "delay", "jitter", "loss"})
      only_for(k, {fault_kind::delay, fault_kind::loss, fault_kind::rate});
    if (f.kind == fault_kind::partition) {
      const auto& b = require(e, v, path, "between", "two sides, e.g. [leechers, seeders]");
      if (!b.IsSequence() || b.size() != 2)
        fail(b, path + ".between", "expected two sides, e.g. [leechers, seeders], " + got(b));
      f.targets = names(b[0], path + ".between[0]", p);
      f.other = names(b[1], path + ".between[1]", p);
      if (auto* o = find(e, "oneway"))
        f.one_way = flag(*o, path + ".oneway");
    } else {
      f.targets = names(require(e, v, path, "targets", "a group or peer name, or a list of them"), path + ".targets", p);
      if (auto* c = find(e, "count"))
        f.count = static_cast<std::uint32_t>(integer(*c, path + ".count", 1, max_peers_total, "an integer"));
    }
    if (f.kind == fault_kind::churn) {
      f.down_for_ms = duration(require(e, v, path, "down_for", "how long a peer stays down, e.g. 5s"), path + ".down_for");
      if (find(e, "for"))
        fail(e.at("for").first, path + ".for", "a churn fault takes down_for, not for");
    }
    // wire and disk faults reach a peer through its control actor: actorrent peers only
    auto actorrent_only = [&](const std::string& what) {
      for (auto& t : f.targets)
        for (auto& g : p.groups) {
          bool member = g.name == t
                        || (t.size() > g.name.size() + 1 && t.compare(0, g.name.size(), g.name) == 0
                            && t[g.name.size()] == '-');
          if (member && g.kind != peer_kind::actorrent)
            fail(e.at("targets").second, path + ".targets",
                 what + " actorrent peers only (" + quote(t) + " is " + std::string{to_string(g.kind)} + ")");
        }
    };
    if (f.kind == fault_kind::wire) {
      const auto& b = require(e, v, path, "behavior", "the misbehaviour during the window, e.g. {corrupt_blocks: 20%}");
      f.behavior = behavior(b, path + ".behavior");
      if (f.behavior.empty())
        fail(b, path + ".behavior", "every behaviour is off: nothing to turn on");
      actorrent_only("wire faults are for");
    }
    if (f.kind == fault_kind::disk) {
      f.disk = disk(require(e, v, path, "disk", "the disk fault, e.g. {full_after: 4MiB}"), path + ".disk");
      actorrent_only("disk faults are for");
    }
    if (f.kind == fault_kind::reset) {
      const auto& a = require(e, v, path, "after", "the bytes a connection carries before it is reset, e.g. 1MiB");
      f.after_bytes = unit(a, path + ".after", &parse_size);
      if (*f.after_bytes == 0)
        fail(a, path + ".after", "expected a size above 0, " + got(a));
    }
    if (f.kind == fault_kind::burst_loss) {
      auto prob = [&](const char* key, bool needed, std::uint32_t& out) {
        const YAML::Node* n = needed ? &require(e, v, path, key, "a probability per step, e.g. 10%") : find(e, key);
        if (n != nullptr)
          out = unit(*n, path + "." + key, &parse_percent_ppm);
        return n;
      };
      auto* to_bad = prob("to_bad", true, f.burst.to_bad_ppm);
      auto* to_good = prob("to_good", true, f.burst.to_good_ppm);
      prob("loss_bad", false, f.burst.loss_bad_ppm);
      prob("loss_good", false, f.burst.loss_good_ppm);
      if (f.burst.to_bad_ppm == 0)
        fail(*to_bad, path + ".to_bad", "expected a probability above 0% (else the chain never leaves good), " + got(*to_bad));
      if (f.burst.to_good_ppm == 0)
        fail(*to_good, path + ".to_good", "expected a probability above 0% (else a burst never ends), " + got(*to_good));
      if (auto* s = find(e, "step")) {
        f.burst.step_ms = duration(*s, path + ".step");
        if (f.burst.step_ms < 50 || f.burst.step_ms > 60'000)
          fail(*s, path + ".step", "expected a step from 50ms to 60s (the runner changes iptables rules at most that often), " + got(*s));
      }
      if (!f.for_ms)
        fail(v, path + ".for", "missing: expected how long the bursty loss lasts, e.g. 20s");
    }
    if (f.kind == fault_kind::pause && !f.for_ms)
      fail(v, path + ".for", "missing: expected how long the peers stay paused, e.g. 5s");
    if (f.kind == fault_kind::delay || f.kind == fault_kind::loss || f.kind == fault_kind::rate) {
      if (auto* r = find(e, "rate"))
        f.link.rate_bits = unit(*r, path + ".rate", &parse_rate_bits);
      if (auto* d = find(e, "delay"))
        f.link.delay_ms = duration(*d, path + ".delay");
      if (auto* j = find(e, "jitter"))
        f.link.jitter_ms = duration(*j, path + ".jitter");
      if (auto* x = find(e, "loss"))
        f.link.loss_ppm = unit(*x, path + ".loss", &parse_percent_ppm);
      auto need = f.kind == fault_kind::delay ? "delay" : f.kind == fault_kind::loss ? "loss" : "rate";
      require(e, v, path, need, std::string{"the "} + need + " during the fault");
      if (f.link.jitter_ms && !f.link.delay_ms)
        fail(e.at("jitter").second, path + ".jitter", "jitter needs a delay beside it");
    }
    auto end = f.at_ms + (f.for_ms ? *f.for_ms : f.down_for_ms ? *f.down_for_ms : 0);
    if (end > p.max_duration_ms)
      fail(v, path, "ends at " + format_duration_ms(end) + ", after limits.max_duration ("
                      + format_duration_ms(p.max_duration_ms) + ")");
    return f;
  }

  oracle_spec oracle(const YAML::Node& v, const std::string& path) const {
    oracle_spec o;
    if (v.IsScalar()) {
      o.name = std::string{oracle_names[choice(v, path, oracle_names)]};
      if (o.name == "max_rss" || o.name == "slowdown")
        fail(v, path, o.name + " needs a value, e.g. {" + o.name + (o.name == "max_rss" ? ": 64MiB}" : ": 3x}"));
      return o;
    }
    if (!v.IsMap() || v.size() != 1)
      fail(v, path, "expected an oracle name or {name: value}, " + got(v));
    auto it = v.begin();
    YAML::Node k = it->first;
    YAML::Node val = it->second;
    o.name = std::string{oracle_names[choice(k, path, oracle_names)]};
    auto p = path + "." + o.name;
    if (o.name == "all_honest_complete") {
      auto e = entries(val, p, {"within"});
      o.within_ms = duration(require(e, val, p, "within", "a duration, e.g. 120s"), p + ".within");
    } else if (o.name == "max_rss") {
      o.max_bytes = unit(val, p, &parse_size);
    } else if (o.name == "slowdown") {
      const auto& s = scalar(val, p, "a factor like 3x");
      auto bad = [&] { fail(val, p, "expected a factor like 3x or 1.5x (above 1, at most 1000), " + got(val)); };
      if (s.size() < 2 || s.size() > 10 || s.back() != 'x' || s.find_first_not_of("0123456789.x") != std::string::npos
          || std::count(s.begin(), s.end(), '.') > 1 || s[0] == '.')
        bad();
      double x = std::strtod(s.c_str(), nullptr);
      if (!(x > 1.0 && x <= 1000.0))
        bad();
      o.factor = x;
    } else {
      fail(val, p, "takes no value");
    }
    return o;
  }

  plan parse(std::string_view text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string{text});
    } catch (const YAML::Exception& e) {
      throw plan_error{source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1)
                       + ": " + e.msg};
    }
    if (!root.IsDefined() || root.IsNull())
      throw plan_error{source + ": the plan is empty"};
    auto e = entries(root, "", top_keys);
    plan p;
    p.source = source;
    const auto& name = require(e, root, "", "name", "the experiment's name");
    p.name = scalar(name, "name", "a name");
    if (p.name.size() > 100 || p.name.find_first_of(std::string_view{"\0\n\r\t", 4}) != std::string::npos)
      fail(name, "name", "expected one line of at most 100 characters, " + got(name));
    p.seed = integer(require(e, root, "", "seed", "an integer"), "seed", 0, ~0ull >> 1, "an integer");
    const auto& t = require(e, root, "", "torrent", "{size: ..., piece_length: ..., files: ...}");
    auto te = entries(t, "torrent", torrent_keys);
    const auto& size = require(te, t, "torrent", "size", "a size like 64MiB");
    p.size = unit(size, "torrent.size", &parse_size);
    if (p.size == 0 || p.size > (64ull << 30))
      fail(size, "torrent.size", "expected a size from 1B to 64GiB, " + got(size));
    if (auto* pl = find(te, "piece_length")) {
      p.piece_length = unit(*pl, "torrent.piece_length", &parse_size);
      if (p.piece_length < 16 * 1024 || p.piece_length > (64ull << 20) || (p.piece_length & (p.piece_length - 1)) != 0)
        fail(*pl, "torrent.piece_length", "expected a power of two from 16KiB to 64MiB, " + got(*pl));
    }
    if (auto* f = find(te, "files"))
      p.files = static_cast<std::uint32_t>(integer(*f, "torrent.files", 1, max_files, "an integer"));
    if (p.files > p.size)
      fail(*find(te, "files"), "torrent.files", "more files than bytes (" + format_size(p.size) + ")");
    if (auto* l = find(e, "limits")) {
      auto le = entries(*l, "limits", limits_keys);
      if (auto* d = find(le, "max_duration")) {
        p.max_duration_ms = duration(*d, "limits.max_duration");
        if (p.max_duration_ms < 1000)
          fail(*d, "limits.max_duration", "expected at least 1s, " + got(*d));
      }
    }
    const auto& groups = require(e, root, "", "groups", "a list of peer groups");
    if (!groups.IsSequence() || groups.size() == 0)
      fail(groups, "groups", "expected a list of at least one group, " + got(groups));
    if (groups.size() > max_groups)
      fail(groups, "groups", "more than " + std::to_string(max_groups) + " groups");
    std::uint64_t total = 0;
    bool any_seed = false;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      auto path = "groups[" + std::to_string(i) + "]";
      auto g = group(groups[i], path);
      for (auto& other : p.groups)
        if (other.name == g.name)
          fail(groups[i]["name"], path + ".name", "a group named " + quote(g.name) + " is defined twice");
      total += g.count;
      if (total > max_peers_total)
        fail(groups[i]["count"], path + ".count", "more than " + std::to_string(max_peers_total) + " peers in all");
      any_seed = any_seed || (g.role == peer_role::seed && g.behavior.empty());
      p.groups.push_back(std::move(g));
    }
    if (!any_seed)
      fail(groups, "groups", "no honest seed: at least one group without behavior needs role: seed");
    if (auto* f = find(e, "faults"); f && !f->IsNull()) {
      if (!f->IsSequence())
        fail(*f, "faults", "expected a list of faults, " + got(*f));
      if (f->size() > max_faults)
        fail(*f, "faults", "more than " + std::to_string(max_faults) + " faults");
      for (std::size_t i = 0; i < f->size(); ++i)
        p.faults.push_back(fault((*f)[i], "faults[" + std::to_string(i) + "]", p));
    }
    if (auto* o = find(e, "oracles"); o && !o->IsNull()) {
      if (!o->IsSequence())
        fail(*o, "oracles", "expected a list of oracles, " + got(*o));
      for (std::size_t i = 0; i < o->size(); ++i) {
        auto spec = oracle((*o)[i], "oracles[" + std::to_string(i) + "]");
        for (auto& other : p.oracles)
          if (other.name == spec.name)
            fail((*o)[i], "oracles[" + std::to_string(i) + "]", "oracle " + spec.name + " given twice");
        p.oracles.push_back(std::move(spec));
      }
    } else {
      for (auto n : {"all_honest_complete", "data_intact", "no_crash"})
        p.oracles.push_back(oracle_spec{n, {}, {}, {}});
    }
    return p;
  }
};

} // namespace

result<plan> parse_plan(std::string_view yaml, const std::string& source) {
  try {
    return parser{source}.parse(yaml);
  } catch (const plan_error& e) {
    return make_error(e.message);
  } catch (const std::exception& e) {
    return make_error(source + ": " + e.what());
  }
}

result<plan> load_plan(const std::string& path, std::string* text_out) {
  std::string error;
  auto body = text::read_text_file(path, plan_file_limit, error);
  if (!body)
    return make_error(error);
  auto p = parse_plan(*body, path);
  if (p && text_out != nullptr)
    *text_out = std::move(*body);
  return p;
}

// ---- resolution ------------------------------------------------------------------

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

} // namespace

seeded_rng::seeded_rng(std::uint64_t seed, std::string_view purpose) : state_(seed ^ fnv1a(purpose)) {}

std::uint64_t seeded_rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t seeded_rng::below(std::uint64_t n) {
  // rejection sampling: no modulo bias
  auto limit = ~0ull - (~0ull % n);
  for (;;)
    if (auto x = next(); x < limit)
      return x % n;
}

namespace {

std::vector<std::size_t> peers_of(const std::vector<std::string>& names, const resolved_plan& rp) {
  std::vector<std::size_t> out;
  for (auto& n : names)
    for (std::size_t i = 0; i < rp.peers.size(); ++i)
      if (rp.spec.groups[rp.peers[i].group].name == n || rp.peers[i].name == n)
        if (std::find(out.begin(), out.end(), i) == out.end())
          out.push_back(i);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

result<resolved_plan> resolve(const plan& p) {
  resolved_plan rp;
  rp.spec = p;
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    const auto& gs = p.groups[g];
    for (std::uint32_t n = 1; n <= gs.count; ++n) {
      resolved_peer peer;
      peer.name = gs.name + "-" + std::to_string(n);
      peer.group = g;
      peer.number = n;
      peer.kind = gs.kind;
      peer.role = gs.role;
      peer.honest = gs.behavior.empty();
      auto host = static_cast<std::uint32_t>(rp.peers.size()) + 2; // .0.1 is the bridge
      peer.address = "10.77." + std::to_string(host >> 8) + "." + std::to_string(host & 0xff);
      peer.link = gs.link;
      rp.peers.push_back(std::move(peer));
    }
  }
  for (std::size_t i = 0; i < p.faults.size(); ++i) {
    const auto& f = p.faults[i];
    resolved_fault rf;
    rf.index = i;
    rf.kind = f.kind;
    rf.start_ms = f.at_ms;
    if (f.for_ms)
      rf.end_ms = f.at_ms + *f.for_ms;
    rf.down_for_ms = f.down_for_ms;
    rf.one_way = f.one_way;
    rf.link = f.link;
    rf.behavior = f.behavior;
    rf.disk = f.disk;
    rf.after_bytes = f.after_bytes;
    rf.burst = f.burst;
    rf.targets = peers_of(f.targets, rp);
    if (f.kind == fault_kind::partition) {
      rf.other = peers_of(f.other, rp);
      for (auto a : rf.targets)
        if (std::find(rf.other.begin(), rf.other.end(), a) != rf.other.end())
          return make_error(f.where + ": " + rp.peers[a].name + " is on both sides of the partition");
    }
    if (f.count) {
      if (*f.count > rf.targets.size())
        return make_error(f.where + ".count: " + std::to_string(*f.count) + " peers asked for, but the targets hold "
                          + std::to_string(rf.targets.size()));
      // a seeded partial Fisher-Yates shuffle: the same seed picks the same peers
      seeded_rng rng(p.seed, "fault-targets-" + std::to_string(i));
      auto pool = rf.targets;
      for (std::size_t k = 0; k < *f.count; ++k)
        std::swap(pool[k], pool[k + rng.below(pool.size() - k)]);
      pool.resize(*f.count);
      std::sort(pool.begin(), pool.end());
      rf.targets = std::move(pool);
    }
    rp.faults.push_back(std::move(rf));
  }
  return rp;
}

std::string fault_spec_string(const resolved_plan& rp, const resolved_fault& f, std::size_t peer) {
  std::string s;
  for (auto& b : f.kind == fault_kind::wire ? f.behavior : f.disk)
    s += (s.empty() ? "" : ",") + b.key + "=" + b.value;
  s += ",seed=" + std::to_string(rp.spec.seed);
  if (f.kind == fault_kind::wire && peer < rp.peers.size())
    s += ",peer=" + rp.peers[peer].name;
  return s;
}

std::string describe(const resolved_plan& rp) {
  const auto& p = rp.spec;
  std::ostringstream os;
  os << "plan " << quote(p.name) << " (" << p.source << "), seed " << p.seed << "\n";
  os << "torrent: " << format_size(p.size) << " in " << p.files << (p.files == 1 ? " file" : " files")
     << ", pieces of " << format_size(p.piece_length) << "\n";
  os << "max duration: " << format_duration_ms(p.max_duration_ms) << "\n";
  os << "network: " << rp.subnet << " (lab namespaces only); bridge and tracker at " << rp.bridge_address << ":"
     << rp.tracker_port << "\n";
  os << "peers (" << rp.peers.size() << "):\n";
  for (auto& peer : rp.peers) {
    os << "  " << peer.name << "  " << to_string(peer.kind) << " " << to_string(peer.role) << "  " << peer.address
       << ":" << peer.port << "  link: " << peer.link.describe();
    const auto& g = p.groups[peer.group];
    if (!g.behavior.empty()) {
      os << "  misbehaving:";
      for (auto& b : g.behavior)
        os << " " << b.key << "=" << b.value;
    }
    os << "\n";
  }
  os << "faults (" << rp.faults.size() << "):\n";
  auto list = [&](const std::vector<std::size_t>& v) {
    std::string s;
    for (auto i : v)
      s += (s.empty() ? "" : ",") + rp.peers[i].name;
    return s;
  };
  for (auto& f : rp.faults) {
    os << "  [" << f.index << "] " << format_duration_ms(f.start_ms) << " ";
    if (f.end_ms)
      os << "to " << format_duration_ms(*f.end_ms) << " ";
    else if (f.down_for_ms)
      os << "(down " << format_duration_ms(*f.down_for_ms) << ") ";
    else
      os << "to the end ";
    os << to_string(f.kind) << ": ";
    if (f.kind == fault_kind::partition)
      os << list(f.targets) << (f.one_way ? " -> " : " <-> ") << list(f.other);
    else
      os << list(f.targets);
    if (!f.link.empty())
      os << " (" << f.link.describe() << ")";
    if (f.kind == fault_kind::reset && f.after_bytes)
      os << " (each TCP connection reset after " << format_size(*f.after_bytes) << ")";
    if (f.kind == fault_kind::burst_loss)
      os << " (Gilbert-Elliott every " << format_duration_ms(f.burst.step_ms) << ": to_bad "
         << format_percent_ppm(f.burst.to_bad_ppm) << ", to_good " << format_percent_ppm(f.burst.to_good_ppm)
         << ", loss_bad " << format_percent_ppm(f.burst.loss_bad_ppm) << ", loss_good "
         << format_percent_ppm(f.burst.loss_good_ppm) << ")";
    for (auto* entries : {&f.behavior, &f.disk}) {
      std::string s;
      for (auto& b : *entries)
        s += (s.empty() ? "" : ", ") + b.key + "=" + b.value;
      if (!s.empty())
        os << " (" << s << ")";
    }
    os << "\n";
  }
  os << "oracles:";
  for (auto& o : p.oracles)
    os << " " << o.describe() << ";";
  os << "\n";
  return os.str();
}

} // namespace actorrent::lab
