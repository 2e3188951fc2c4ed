#include "app/progress.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

namespace actorrent::app {

namespace {

/// value * num / den without overflow (den > 0, value <= den).
std::uint64_t scale(std::uint64_t value, std::uint64_t num, std::uint64_t den) {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(value) * num / den);
}

/// Tenths of `v`, rounded half up.
std::uint64_t tenths(double v) {
  return static_cast<std::uint64_t>(std::floor(v * 10.0 + 0.5));
}

std::string two_digits(std::uint64_t v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02u", static_cast<unsigned>(v % 100));
  return buf;
}

std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width)
    s.insert(0, width - s.size(), ' ');
  return s;
}

} // namespace

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 7> units{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t u = 1;
  while (u + 1 < units.size() && tenths(v) >= 10240) {
    v /= 1024.0;
    ++u;
  }
  auto t = tenths(v);
  return std::to_string(t / 10) + "." + std::to_string(t % 10) + " " + units[u];
}

std::string format_rate(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second <= 0)
    return "0 B/s";
  double r = bytes_per_second < 9e18 ? bytes_per_second : 9e18; // llround's range
  return format_bytes(static_cast<std::uint64_t>(std::llround(r))) + "/s";
}

std::string format_duration(std::uint64_t s) {
  constexpr std::uint64_t day = 86400;
  if (s < 3600)
    return std::to_string(s / 60) + ":" + two_digits(s % 60);
  if (s < day)
    return std::to_string(s / 3600) + ":" + two_digits(s / 60 % 60) + ":" + two_digits(s % 60);
  if (s < 1000 * day)
    return std::to_string(s / day) + "d " + two_digits(s / 3600 % 24) + "h";
  return ">999d";
}

std::optional<std::uint64_t> eta_seconds(std::uint64_t total, std::uint64_t have, double rate) {
  if (have >= total)
    return std::uint64_t{0};
  if (!std::isfinite(rate) || rate <= 0)
    return std::nullopt;
  double secs = std::ceil(static_cast<double>(total - have) / rate);
  constexpr double cap = 1e15; // ~31 million years: far beyond anything shown
  return static_cast<std::uint64_t>(secs < cap ? secs : cap);
}

std::string format_eta(std::optional<std::uint64_t> seconds) {
  return seconds ? format_duration(*seconds) : std::string{"--:--"};
}

std::uint32_t permille(std::uint64_t have, std::uint64_t total) {
  if (total == 0 || have >= total)
    return 1000;
  return static_cast<std::uint32_t>(scale(have, 1000, total));
}

std::string format_percent(std::uint64_t have, std::uint64_t total) {
  auto p = permille(have, total);
  return std::to_string(p / 10) + "." + std::to_string(p % 10) + "%";
}

std::string render_bar(std::uint64_t have, std::uint64_t total, std::size_t width) {
  if (width < 3)
    return {};
  std::size_t inner = width - 2;
  std::size_t filled = (total == 0 || have >= total) ? inner : static_cast<std::size_t>(scale(have, inner, total));
  std::string out = "[";
  out.append(filled, '=');
  if (filled < inner) {
    out.push_back('>');
    out.append(inner - filled - 1, ' ');
  }
  out.push_back(']');
  return out;
}

namespace {

// --select-file: progress is measured against the pieces to fetch.
bool selecting(const torrent_status& st) { return st.selected_pieces > 0 && st.selected_pieces < st.pieces_total; }
std::uint64_t goal_size(const torrent_status& st) { return selecting(st) ? st.selected_size : st.total_size; }
std::uint64_t goal_have(const torrent_status& st) { return selecting(st) ? st.selected_have : st.have_bytes; }

// The parts of a status line, in display order.
enum part : std::size_t { p_percent, p_size, p_rate, p_eta, p_peers, p_up, p_tracker, p_count };

std::array<std::string, p_count> status_parts(const torrent_status& st) {
  std::array<std::string, p_count> parts;
  // a failing tracker is said on the line itself, not only as "peers 0"
  if (!st.tracker_error.empty())
    parts[p_tracker] = "tracker error: " + st.tracker_error;
  if (!st.disk_error.empty()) // the torrent paused itself: that says more than the tracker
    parts[p_tracker] = "disk error: " + st.disk_error;
  if (st.seeding) {
    parts[p_percent] = "seeding";
    parts[p_size] = "ratio " + format_ratio(st.uploaded, st.total_size);
    parts[p_rate] = "up " + format_rate(st.up_rate);
    parts[p_eta] = "uploaded " + format_bytes(st.uploaded);
    parts[p_peers] = "peers " + std::to_string(st.peers) + " (leechers " + std::to_string(st.leechers) + ")";
    return parts; // p_up stays empty: the rate is already there
  }
  parts[p_percent] = format_percent(goal_have(st), goal_size(st));
  parts[p_size] = format_bytes(goal_have(st)) + "/" + format_bytes(goal_size(st));
  parts[p_rate] = format_rate(st.down_rate);
  parts[p_eta] = st.checking ? (st.check_total > 0 ? "checking files " + format_percent(st.check_done, st.check_total)
                                                    : std::string{"checking files"})
                             : "ETA " + format_eta(eta_seconds(goal_size(st), goal_have(st), st.down_rate));
  parts[p_peers] = "peers " + std::to_string(st.peers) + " (seeds " + std::to_string(st.seeds) + ")";
  if (st.uploaded > 0) // serving while downloading: the up rate and ratio too
    parts[p_up] = "up " + format_rate(st.up_rate) + " ratio " + format_ratio(st.uploaded, st.total_size);
  return parts;
}

std::string join(const std::array<std::string, p_count>& parts, const std::array<bool, p_count>& keep) {
  std::string out;
  for (std::size_t i = 0; i < p_count; ++i) {
    if (!keep[i] || parts[i].empty())
      continue;
    if (!out.empty())
      out += "  ";
    out += parts[i];
  }
  return out;
}

} // namespace

std::string status_text(const torrent_status& st) {
  std::array<bool, p_count> all;
  all.fill(true);
  return join(status_parts(st), all);
}

std::string render_progress_line(const torrent_status& st, std::size_t columns) {
  constexpr std::size_t min_bar = 8;
  std::size_t usable = columns > 1 ? columns - 1 : 1;
  auto parts = status_parts(st);
  // Fixed widths where the numbers change, so the bar does not breathe:
  // " 45.2%", have as wide as the total, " 0 B/s" as wide as "23.4 MiB/s".
  // (A seeder's line keeps its own parts: the ratio where the size would be.)
  if (!st.seeding) {
    parts[p_percent] = pad_left(parts[p_percent], 6);
    parts[p_size] = pad_left(format_bytes(goal_have(st)), format_bytes(goal_size(st)).size()) + "/"
                    + format_bytes(goal_size(st));
    parts[p_rate] = pad_left(parts[p_rate], 10);
  }
  // Levels of detail: all parts, then without the upload part, peers, size, ETA, rate.
  std::array<std::array<bool, p_count>, 6> levels;
  levels.fill({true, true, true, true, true, true, true});
  levels[1][p_up] = false;
  levels[2] = levels[1];
  levels[2][p_peers] = false;
  levels[3] = levels[2];
  levels[3][p_size] = false;
  levels[4] = levels[3];
  levels[4][p_eta] = false;
  levels[5] = levels[4];
  levels[5][p_rate] = false;
  // A bar if it fits beside all parts, all but the upload part, or all but
  // that and the peers; else the most text.
  for (std::size_t level = 0; level < 3; ++level) {
    auto text = join(parts, levels[level]);
    if (text.size() + 1 + min_bar <= usable)
      return render_bar(goal_have(st), goal_size(st), usable - text.size() - 1) + " " + text;
  }
  std::string text;
  for (auto& keep : levels) {
    text = join(parts, keep);
    if (text.size() <= usable)
      return text;
  }
  text.resize(usable);
  return text;
}

std::size_t terminal_columns(int fd, std::size_t fallback) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return fallback;
}

nlohmann::ordered_json progress_json(const std::string& name, const std::string& info_hash,
                             const torrent_status& st, const std::string& event) {
  auto rate = [](double r) -> std::uint64_t {
    if (!std::isfinite(r) || r <= 0)
      return 0;
    return r < 9e18 ? static_cast<std::uint64_t>(std::llround(r)) : std::uint64_t{9000000000000000000ull};
  };
  nlohmann::ordered_json j;
  j["event"] = event;
  j["name"] = name;
  j["info_hash"] = info_hash;
  j["percent"] = permille(goal_have(st), goal_size(st)) / 10.0;
  j["have_bytes"] = st.have_bytes;
  j["total_size"] = st.total_size;
  j["downloaded"] = st.downloaded;
  j["uploaded"] = st.uploaded;
  j["wasted"] = st.wasted;
  j["down_rate"] = rate(st.down_rate);
  j["up_rate"] = rate(st.up_rate);
  j["peers"] = st.peers;
  j["checking"] = st.checking;
  j["seeds"] = st.seeds;
  j["pieces_have"] = st.pieces_have;
  j["pieces_total"] = st.pieces_total;
  if (!st.have_hex.empty())
    j["have"] = st.have_hex; // the verified pieces, a hex bitfield (the swarm lab counts copies)
  auto eta = eta_seconds(goal_size(st), goal_have(st), st.down_rate);
  j["eta_seconds"] = eta ? nlohmann::ordered_json(*eta) : nlohmann::ordered_json(nullptr);
  j["hash_failures"] = st.hash_failures;
  j["banned"] = st.banned;
  j["banned_peers"] = st.banned_peers; // the addresses (the lab's ban oracles read them)
  if (!st.hash_failures_from.empty())
    j["hash_failures_from"] = st.hash_failures_from; // failed pieces per sender address
  j["complete"] = st.complete;
  j["seeding"] = st.seeding;
  j["leechers"] = st.leechers;
  j["ratio"] = std::round(st.total_size > 0 ? 1e4 * static_cast<double>(st.uploaded) / static_cast<double>(st.total_size) : 0.0) / 1e4;
  j["resumed_pieces"] = st.resumed_pieces;
  j["listen_port"] = st.listen_port;
  j["tracker"] = st.tracker_status;
  j["tracker_error"] = st.tracker_error; // the last tracker failure ("URL: reason"), "" while announces succeed
  if (!st.wire.empty() || !st.wire_corrupted_to.empty()) { // lab: --wire-fault, what it did
    auto& w = j["wire"] = nlohmann::ordered_json::object();
    for (auto& [k, v] : st.wire)
      w[k.substr(k.find('.') + 1)] = std::stoull(v);
    j["wire_corrupted_to"] = st.wire_corrupted_to;
  }
  j["disk_error"] = st.disk_error;       // a write error paused the torrent: why; "" otherwise
  if (selecting(st)) { // --select-file: the part to fetch (percent and ETA are of it)
    j["selected_size"] = st.selected_size;
    j["selected_have"] = st.selected_have;
    j["selected_pieces"] = st.selected_pieces;
  }
  return j;
}

std::string format_ratio(std::uint64_t uploaded, std::uint64_t total_size) {
  char buf[32];
  double r = total_size > 0 ? static_cast<double>(uploaded) / static_cast<double>(total_size) : 0.0;
  std::snprintf(buf, sizeof(buf), "%.2f", r < 1e6 ? r : 1e6);
  return buf;
}

std::string format_peer_flags(const peer_info& p) {
  std::string f;
  if (p.incoming)
    f += 'I';
  if (p.seed)
    f += 'S';
  if (p.interested)
    f += 'i';
  if (p.unchoked)
    f += 'U';
  if (p.snubbed)
    f += 's';
  return f.empty() ? std::string{"-"} : f;
}

namespace {

std::vector<const peer_info*> sorted_peers(const torrent_status& st) {
  std::vector<const peer_info*> out;
  for (auto& p : st.peer_list)
    out.push_back(&p);
  std::sort(out.begin(), out.end(), [](const peer_info* a, const peer_info* b) {
    if (a->down_rate != b->down_rate)
      return a->down_rate > b->down_rate;
    return a->address < b->address;
  });
  return out;
}

std::string cell(std::string s, std::size_t width) {
  if (s.size() > width)
    s.resize(width);
  s.append(width - s.size(), ' ');
  return s;
}

} // namespace

std::vector<std::string> peer_table(const torrent_status& st) {
  if (st.peer_list.empty())
    return {"no peers"};
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"ADDRESS", "CLIENT", "DOWN", "UP", "DOWNLOADED", "UPLOADED", "FLAGS"});
  for (auto* p : sorted_peers(st))
    rows.push_back({p->address, p->client, format_rate(p->down_rate), format_rate(p->up_rate),
                    format_bytes(p->downloaded), format_bytes(p->uploaded), format_peer_flags(*p)});
  std::array<std::size_t, 7> width{};
  for (auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], std::min<std::size_t>(r[i].size(), 48)); // a silly client name stays short
  std::vector<std::string> out;
  for (auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += i + 1 < r.size() ? cell(r[i], width[i]) + "  " : r[i];
    out.push_back(std::move(line));
  }
  return out;
}

nlohmann::ordered_json peers_json(const std::string& name, const std::string& info_hash, const torrent_status& st) {
  auto rate = [](double r) -> std::uint64_t {
    return std::isfinite(r) && r > 0 ? static_cast<std::uint64_t>(std::llround(std::min(r, 9e18))) : 0;
  };
  nlohmann::ordered_json j;
  j["event"] = "peers";
  j["name"] = name;
  j["info_hash"] = info_hash;
  auto list = nlohmann::ordered_json::array();
  for (auto* p : sorted_peers(st)) {
    nlohmann::ordered_json e;
    e["address"] = p->address;
    e["client"] = p->client;
    e["down_rate"] = rate(p->down_rate);
    e["up_rate"] = rate(p->up_rate);
    e["downloaded"] = p->downloaded;
    e["uploaded"] = p->uploaded;
    e["flags"] = format_peer_flags(*p);
    e["incoming"] = p->incoming;
    e["seed"] = p->seed;
    e["interested"] = p->interested;
    e["unchoked"] = p->unchoked;
    e["snubbed"] = p->snubbed;
    list.push_back(std::move(e));
  }
  j["peers"] = std::move(list);
  return j;
}

std::string format_summary(const std::string& name, std::uint64_t total_size, double seconds,
                           std::uint64_t downloaded) {
  if (!std::isfinite(seconds) || seconds < 0)
    seconds = 0;
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.1f", seconds);
  auto head = "download complete: " + name + " (" + format_bytes(total_size) + "), ";
  if (downloaded == 0)
    return head + "nothing downloaded: the data was already here (checked in " + secs + " s)";
  double avg = seconds > 0 ? static_cast<double>(downloaded) / seconds : 0.0;
  return head + format_bytes(downloaded) + " downloaded in " + secs + " s (avg " + format_rate(avg) + ")";
}

} // namespace actorrent::app
