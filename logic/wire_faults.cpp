#include "logic/wire_faults.hpp"

#include "lab/units.hpp"
#include "protocol/text.hpp"

#include <algorithm>
#include <optional>

namespace actorrent::logic {

namespace {

struct behavior_info {
  std::string_view name;
  wire_value type;
  std::uint64_t bare; ///< the value of a bare name
};

// In the order of wire_behavior. The names are the lab plan's behaviour keys.
constexpr std::array<behavior_info, wire_behavior_count> infos{{
  {"corrupt_blocks", wire_value::percent, 1'000'000},
  {"claim_unserved", wire_value::percent, 1'000'000},
  {"bad_bitfield_length", wire_value::flag, 1},
  {"have_out_of_range", wire_value::flag, 1},
  {"oversize_length", wire_value::flag, 1},
  {"unknown_messages", wire_value::flag, 1},
  {"truncated_handshake", wire_value::flag, 1},
  {"wrong_info_hash", wire_value::flag, 1},
  {"requests_out_of_range", wire_value::flag, 1},
  {"request_flood", wire_value::flag, 1},
  {"unrequested_pieces", wire_value::flag, 1},
  {"choke_flapping", wire_value::duration, 1000},
  {"free_ride", wire_value::flag, 1},
  {"snub", wire_value::flag, 1},
  {"slow_reads", wire_value::rate, 1'000'000},
}};

constexpr std::array<std::pair<std::string_view, wire_behavior>, 6> aliases{{
  {"fake_have", wire_behavior::claim_unserved},
  {"fake_bitfield", wire_behavior::claim_unserved},
  {"free_riding", wire_behavior::free_ride},
  {"snubbing", wire_behavior::snub},
  {"unknown_ids", wire_behavior::unknown_messages},
  {"flood", wire_behavior::request_flood},
}};

constexpr std::size_t max_spec_length = 4096;
constexpr std::size_t max_peer_name = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string did_you_mean(std::string_view name) {
  std::string_view best;
  std::size_t best_d = 4; // only close misspellings
  auto consider = [&](std::string_view k) {
    auto d = text::edit_distance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  };
  for (auto& i : infos)
    consider(i.name);
  for (auto& a : aliases)
    consider(a.first);
  consider("seed");
  consider("peer");
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

std::string known_names() {
  std::string s;
  for (auto& i : infos)
    s += std::string{i.name} + ", ";
  return s + "seed, peer";
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint64_t fmix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

result<std::uint64_t> parse_value(const behavior_info& info, std::string_view v) {
  switch (info.type) {
    case wire_value::percent: {
      auto r = lab::parse_percent_ppm(v);
      if (!r)
        return r.error();
      return std::uint64_t{*r};
    }
    case wire_value::flag:
      if (v == "true" || v == "yes" || v == "on" || v == "1")
        return std::uint64_t{1};
      if (v == "false" || v == "no" || v == "off" || v == "0")
        return std::uint64_t{0};
      return make_error("expected true or false, got " + text::quote(v));
    case wire_value::duration: {
      auto r = lab::parse_duration_ms(v);
      if (!r)
        return r.error();
      return *r;
    }
    case wire_value::rate:
      return lab::parse_rate_bits(v);
  }
  return make_error("unknown value type");
}

std::string format_value(const behavior_info& info, std::uint64_t v) {
  switch (info.type) {
    case wire_value::percent:
      return lab::format_percent_ppm(static_cast<std::uint32_t>(v));
    case wire_value::flag:
      return "true";
    case wire_value::duration:
      return lab::format_duration_ms(v);
    case wire_value::rate:
      return lab::format_rate_bits(v);
  }
  return {};
}

bool valid_peer_name(std::string_view s) {
  return !s.empty() && s.size() <= max_peer_name && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
           || c == '.';
  });
}

} // namespace

std::string_view to_string(wire_behavior b) { return infos[static_cast<std::size_t>(b)].name; }

wire_value value_type(wire_behavior b) { return infos[static_cast<std::size_t>(b)].type; }

const std::array<wire_behavior, wire_behavior_count>& all_wire_behaviors() {
  static const auto all = [] {
    std::array<wire_behavior, wire_behavior_count> a{};
    for (std::size_t i = 0; i < a.size(); ++i)
      a[i] = static_cast<wire_behavior>(i);
    return a;
  }();
  return all;
}

bool sends_bad_data(wire_behavior b) { return b == wire_behavior::corrupt_blocks; }

bool wire_fault_spec::any() const {
  return std::any_of(value.begin(), value.end(), [](std::uint64_t v) { return v != 0; });
}

std::string wire_fault_spec::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < infos.size(); ++i)
    if (value[i] != 0)
      s += std::string{infos[i].name} + "=" + format_value(infos[i], value[i]) + ",";
  s += "seed=" + std::to_string(seed);
  if (!peer.empty())
    s += ",peer=" + peer;
  return s;
}

result<wire_fault_spec> parse_wire_fault_spec(std::string_view spec_text) {
  if (spec_text.size() > max_spec_length)
    return make_error("wire-fault spec longer than " + std::to_string(max_spec_length) + " bytes");
  wire_fault_spec spec;
  std::array<bool, wire_behavior_count + 2> given{};
  std::size_t pos = 0;
  if (trim(spec_text).empty())
    return spec;
  while (pos <= spec_text.size()) {
    auto comma = spec_text.find(',', pos);
    auto item = trim(spec_text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    pos = comma == std::string_view::npos ? spec_text.size() + 1 : comma + 1;
    if (item.empty())
      return make_error("wire-fault spec: empty item (two commas in a row, or one at an end)");
    auto eq = item.find('=');
    auto name = trim(item.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos)
      value = trim(item.substr(eq + 1));
    auto where = "wire-fault " + text::quote(name);
    if (value && value->empty())
      return make_error(where + ": empty value after '='");
    if (name == "seed" || name == "peer") {
      auto slot = wire_behavior_count + (name == "seed" ? 0 : 1);
      if (given[slot])
        return make_error(where + ": given twice");
      given[slot] = true;
      if (!value)
        return make_error(where + ": needs a value (" + std::string{name} + "=...)");
      if (name == "seed") {
        auto v = *value;
        if (v.size() > 19 || v.find_first_not_of("0123456789") != std::string_view::npos)
          return make_error(where + ": expected an integer from 0 to 9999999999999999999, got " + text::quote(v));
        std::uint64_t x = 0;
        for (char c : v)
          x = x * 10 + static_cast<std::uint64_t>(c - '0');
        spec.seed = x;
      } else {
        if (!valid_peer_name(*value))
          return make_error(where + ": expected a name of letters, digits, '-', '_' or '.' (at most "
                            + std::to_string(max_peer_name) + "), got " + text::quote(*value));
        spec.peer = std::string{*value};
      }
      continue;
    }
    const behavior_info* info = nullptr;
    std::size_t idx = 0;
    for (std::size_t i = 0; i < infos.size(); ++i)
      if (infos[i].name == name) {
        info = &infos[i];
        idx = i;
      }
    if (info == nullptr)
      for (auto& a : aliases)
        if (a.first == name) {
          idx = static_cast<std::size_t>(a.second);
          info = &infos[idx];
        }
    if (info == nullptr)
      return make_error(where + ": unknown wire fault" + did_you_mean(name) + "; known: " + known_names());
    if (given[idx])
      return make_error(where + ": given twice");
    given[idx] = true;
    if (!value) {
      spec.value[idx] = info->bare;
      continue;
    }
    auto v = parse_value(*info, *value);
    if (!v)
      return make_error(where + ": " + v.error().message);
    spec.value[idx] = *v;
  }
  return spec;
}

std::string wire_fault_spec_string(const std::vector<std::pair<std::string, std::string>>& entries,
                                   std::uint64_t seed, const std::string& peer) {
  std::string s;
  for (auto& [k, v] : entries)
    s += k + "=" + v + ",";
  s += "seed=" + std::to_string(seed);
  if (!peer.empty())
    s += ",peer=" + peer;
  return s;
}

void wire_fault_counters::corrupted_to(std::uint32_t peer_index, std::uint64_t n) {
  std::lock_guard<std::mutex> lock{mtx_};
  corrupted_[peer_index] += n;
}

std::map<std::uint32_t, std::uint64_t> wire_fault_counters::corrupted_by_peer() const {
  std::lock_guard<std::mutex> lock{mtx_};
  return corrupted_;
}

std::map<std::string, std::string> wire_fault_counters::values() const {
  std::map<std::string, std::string> out;
  for (auto b : all_wire_behaviors())
    if (auto n = get(b); n != 0)
      out.emplace("wire." + std::string{to_string(b)}, std::to_string(n));
  return out;
}

wire_faults::wire_faults(wire_fault_spec spec, std::shared_ptr<wire_fault_counters> counters)
  : spec_(std::move(spec)), counters_(counters ? std::move(counters) : std::make_shared<wire_fault_counters>()) {}

std::uint64_t wire_faults::mix(std::uint64_t seed, std::string_view peer, std::uint32_t purpose, std::uint32_t piece,
                               std::uint32_t block) {
  auto h = fmix(seed + 0x9e3779b97f4a7c15ull);
  h = fmix(h ^ fnv1a(peer));
  h = fmix(h ^ (std::uint64_t{purpose} + 0x632be59bd9b4e019ull));
  h = fmix(h ^ ((std::uint64_t{piece} << 32) | block));
  return h;
}

bool wire_faults::below_share(std::uint32_t purpose, std::uint32_t piece, std::uint32_t block,
                              std::uint64_t ppm) const {
  if (ppm == 0)
    return false;
  if (ppm >= 1'000'000)
    return true;
  return mix(spec_.seed, spec_.peer, purpose, piece, block) % 1'000'000 < ppm;
}

bool wire_faults::corrupt(std::uint32_t piece, std::uint32_t block) const {
  return below_share(1, piece, block, spec_.get(wire_behavior::corrupt_blocks));
}

bool wire_faults::unserved(std::uint32_t piece) const {
  return below_share(2, piece, 0, spec_.get(wire_behavior::claim_unserved));
}

} // namespace actorrent::logic
