#include "storage/disk_faults.hpp"

#include "storage/posix_util.hpp"

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace actorrent::storage {

namespace {

constexpr std::uint64_t max_bytes = 1ull << 50;
constexpr std::uint64_t max_delay_us = 10'000'000; // 10 s per write at most

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// "1.5" -> value scaled by `scale`, whole; false if not a plain decimal or not whole.
bool decimal(std::string_view digits, std::uint64_t scale, std::uint64_t limit, std::uint64_t& out) {
  if (digits.empty() || digits.size() > 20)
    return false;
  std::uint64_t whole = 0, frac = 0, frac_div = 1;
  bool dot = false;
  for (char c : digits) {
    if (c == '.') {
      if (dot)
        return false;
      dot = true;
      continue;
    }
    if (c < '0' || c > '9')
      return false;
    if (!dot) {
      whole = whole * 10 + static_cast<std::uint64_t>(c - '0');
      if (whole > limit)
        return false;
    } else {
      if (frac_div >= 1'000'000'000)
        return false;
      frac = frac * 10 + static_cast<std::uint64_t>(c - '0');
      frac_div *= 10;
    }
  }
  if (digits.front() == '.' || digits.back() == '.')
    return false;
  if (whole > limit / scale)
    return false;
  auto scaled_frac = frac * scale;
  if (scaled_frac % frac_div != 0)
    return false;
  out = whole * scale + scaled_frac / frac_div;
  return out <= limit;
}

std::size_t unit_start(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
    ++i;
  return i;
}

result<std::uint64_t> size_value(std::string_view s) {
  auto u = s.substr(unit_start(s));
  auto num = s.substr(0, unit_start(s));
  static const std::vector<std::pair<std::string_view, std::uint64_t>> units{
    {"", 1},          {"B", 1},          {"K", 1ull << 10},    {"KiB", 1ull << 10}, {"M", 1ull << 20},
    {"MiB", 1ull << 20}, {"G", 1ull << 30}, {"GiB", 1ull << 30}, {"KB", 1000},       {"MB", 1000'000},
    {"GB", 1000'000'000}};
  for (auto& [name, scale] : units)
    if (u == name) {
      std::uint64_t v = 0;
      if (decimal(num, scale, max_bytes, v))
        return v;
    }
  return make_error("expected a size like 4MiB, 512K or 1000000");
}

result<std::chrono::microseconds> duration_value(std::string_view s) {
  auto u = s.substr(unit_start(s));
  auto num = s.substr(0, unit_start(s));
  std::uint64_t scale = u == "us" ? 1 : u == "ms" ? 1000 : u == "s" ? 1'000'000 : 0;
  std::uint64_t v = 0;
  if (scale == 0 || !decimal(num, scale, max_delay_us, v))
    return make_error("expected a duration like 20ms, 500us or 1s (at most 10s)");
  return std::chrono::microseconds{static_cast<std::int64_t>(v)};
}

result<std::uint32_t> percent_value(std::string_view s) {
  std::uint64_t v = 0;
  if (s.size() < 2 || s.back() != '%' || !decimal(s.substr(0, s.size() - 1), 10'000, 1'000'000, v))
    return make_error("expected a share like 10% or 0.5% (0% to 100%)");
  return static_cast<std::uint32_t>(v);
}

std::string size_text(std::uint64_t b) {
  if (b != 0 && b % (1ull << 30) == 0)
    return std::to_string(b >> 30) + "GiB";
  if (b != 0 && b % (1ull << 20) == 0)
    return std::to_string(b >> 20) + "MiB";
  if (b != 0 && b % (1ull << 10) == 0)
    return std::to_string(b >> 10) + "KiB";
  return std::to_string(b) + "B";
}

std::string duration_text(std::chrono::microseconds d) {
  auto us = static_cast<std::uint64_t>(d.count());
  if (us % 1000 == 0)
    return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

std::string percent_text(std::uint32_t ppm) {
  auto s = std::to_string(ppm / 10'000);
  if (auto rest = ppm % 10'000; rest != 0) {
    auto f = std::to_string(rest);
    f.insert(0, 4 - f.size(), '0');
    while (!f.empty() && f.back() == '0')
      f.pop_back();
    s += "." + f;
  }
  return s + "%";
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t z = seed ^ (n * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

} // namespace

std::string disk_fault_spec::to_string() const {
  std::string s;
  auto add = [&](const std::string& item) { s += (s.empty() ? "" : ",") + item; };
  if (write_error_ppm != 0)
    add("write_errors=" + percent_text(write_error_ppm));
  if (errors_after)
    add("errors_after=" + size_text(*errors_after));
  if (full_after)
    add("full_after=" + size_text(*full_after));
  if (slow_write.count() != 0)
    add("slow_writes=" + duration_text(slow_write));
  if (s.empty())
    return "off";
  if (seed != 0)
    add("seed=" + std::to_string(seed));
  return s;
}

result<disk_fault_spec> parse_disk_fault_spec(std::string_view text) {
  disk_fault_spec spec;
  text = trim(text);
  if (text.size() > 1000)
    return make_error("disk fault spec longer than 1000 characters");
  if (text.empty() || text == "off")
    return spec;
  std::vector<std::string_view> seen;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto eq = item.find('=');
    auto key = trim(item.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
    auto bad = [&](const std::string& why) {
      return make_error("disk fault '" + std::string{item} + "': " + why);
    };
    if (item.empty())
      return bad("empty item (two commas?)");
    if (eq == std::string_view::npos || value.empty())
      return bad("expected NAME=VALUE (write_errors, errors_after, full_after, slow_writes, seed)");
    for (auto k : seen)
      if (k == key)
        return bad("given twice");
    seen.push_back(key);
    if (key == "write_errors") {
      auto v = percent_value(value);
      if (!v)
        return bad(v.error().message);
      spec.write_error_ppm = *v;
    } else if (key == "errors_after" || key == "full_after") {
      auto v = size_value(value);
      if (!v)
        return bad(v.error().message);
      (key == "full_after" ? spec.full_after : spec.errors_after) = *v;
    } else if (key == "slow_writes") {
      auto v = duration_value(value);
      if (!v)
        return bad(v.error().message);
      spec.slow_write = *v;
    } else if (key == "seed") {
      std::uint64_t v = 0;
      if (value.find('.') != std::string_view::npos || !decimal(value, 1, ~0ull >> 1, v))
        return bad("expected an integer");
      spec.seed = v;
    } else {
      return bad("unknown name; known: write_errors, errors_after, full_after, slow_writes, seed");
    }
  }
  return spec;
}

void disk_faults::set(disk_fault_spec spec) {
  std::lock_guard<std::mutex> guard{mtx_};
  bool on = !spec.empty();
  spec_ = std::move(spec);
  bytes_since_set_ = 0;
  write_number_ = 0;
  if (on)
    ++times_set;
  ++generation_;
  active_.store(on, std::memory_order_relaxed);
}

disk_fault_spec disk_faults::spec() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return spec_;
}

disk_fault_decision disk_faults::before_write(std::size_t bytes) {
  disk_fault_decision d;
  if (!active())
    return d;
  std::lock_guard<std::mutex> guard{mtx_};
  ++writes;
  d.delay = spec_.slow_write;
  if (d.delay.count() > 0) {
    ++slowed_writes;
    slow_us += static_cast<std::uint64_t>(d.delay.count());
  }
  auto n = write_number_++;
  if (spec_.full_after && bytes_since_set_ + bytes > *spec_.full_after) {
    d.error = ENOSPC;
    ++injected_full;
  } else if (spec_.errors_after && bytes_since_set_ + bytes > *spec_.errors_after) {
    d.error = EIO;
    ++injected_errors;
  } else if (spec_.write_error_ppm != 0 && mix(spec_.seed, n) % 1'000'000 < spec_.write_error_ppm) {
    d.error = EIO;
    ++injected_errors;
  }
  if (d.error == 0)
    bytes_since_set_ += bytes;
  return d;
}

std::map<std::string, std::string> disk_faults::values() const {
  return {{"disk.fault", spec().to_string()},
          {"disk.writes_seen", std::to_string(writes.load())},
          {"disk.injected_errors", std::to_string(injected_errors.load())},
          {"disk.injected_full", std::to_string(injected_full.load())},
          {"disk.slowed_writes", std::to_string(slowed_writes.load())},
          {"disk.slow_ms", std::to_string(slow_us.load() / 1000)},
          {"disk.failed_writes", std::to_string(failed_writes.load())},
          {"disk.refetched_pieces", std::to_string(refetched_pieces.load())},
          {"disk.times_set", std::to_string(times_set.load())}};
}

bool is_disk_full_error(const std::string& message) {
  for (int e : {ENOSPC, EDQUOT, EROFS})
    if (message.find(errno_text(e)) != std::string::npos)
      return true;
  return false;
}

} // namespace actorrent::storage
