#include "logic/engine_metrics.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <stdexcept>

namespace actorrent::logic {

// ---- fixed_histogram ------------------------------------------------------------

fixed_histogram::fixed_histogram(const std::vector<double>& bounds) {
  if (bounds.size() > max_bounds)
    throw std::invalid_argument("fixed_histogram: at most " + std::to_string(max_bounds) + " bounds");
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      throw std::invalid_argument("fixed_histogram: bounds must be finite (+Inf is implicit)");
    if (i > 0 && !(bounds[i] > bounds[i - 1]))
      throw std::invalid_argument("fixed_histogram: bounds must increase strictly");
    bounds_[i] = bounds[i];
  }
  n_ = bounds.size();
}

void fixed_histogram::observe(double v) noexcept {
  if (std::isnan(v))
    return;
  if (v < 0)
    v = 0;
  auto end = bounds_.begin() + static_cast<std::ptrdiff_t>(n_);
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), end, v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

fixed_histogram::snapshot_type fixed_histogram::snapshot() const {
  snapshot_type s;
  s.counts.resize(n_ + 1);
  for (std::size_t i = 0; i <= n_; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// ---- labels ---------------------------------------------------------------------

const char* to_string(disconnect_reason r) {
  switch (r) {
    case disconnect_reason::peer_closed: return "peer_closed";
    case disconnect_reason::timeout: return "timeout";
    case disconnect_reason::banned: return "banned";
    case disconnect_reason::protocol_error: return "protocol_error";
    case disconnect_reason::duplicate: return "duplicate";
    case disconnect_reason::shutdown: return "shutdown";
    case disconnect_reason::seed_to_seed: return "seed_to_seed";
    case disconnect_reason::refused: return "refused";
    case disconnect_reason::io_error: return "io_error";
    case disconnect_reason::other: return "other";
  }
  return "other";
}

namespace {

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

} // namespace

disconnect_reason classify_disconnect(std::string_view why) {
  using r = disconnect_reason;
  if (why == "connection closed by the peer")
    return r::peer_closed;
  if (starts(why, "banned"))
    return r::banned;
  if (why == "handshake timed out" || starts(why, "no data for ") || starts(why, "peer does not read"))
    return r::timeout;
  if (starts(why, "duplicate connection") || why == "connected to ourselves")
    return r::duplicate;
  if (why == "shutting down" || why == "paused" || why == "download complete")
    return r::shutdown;
  if (why == "both are seeds")
    return r::seed_to_seed;
  if (starts(why, "not accepting peers") || starts(why, "handshake for another torrent") || why == "peer limit reached")
    return r::refused;
  if (starts(why, "cannot ") || starts(why, "short read"))
    return r::io_error;
  if (starts(why, "protocol error") || starts(why, "unexpected ") || starts(why, "invalid ")
      || starts(why, "unrequested block") || starts(why, "have for piece") || starts(why, "bad bitfield")
      || has(why, "without the fast extension") || starts(why, "allowed fast for piece")
      || starts(why, "request for piece") || starts(why, "more than ") || starts(why, "sent a "))
    return r::protocol_error;
  return r::other;
}

const char* to_string(connect_result r) {
  switch (r) {
    case connect_result::connected: return "connected";
    case connect_result::refused: return "refused";
    case connect_result::timeout: return "timeout";
    case connect_result::unreachable: return "unreachable";
    case connect_result::cancelled: return "cancelled";
    case connect_result::error: return "error";
  }
  return "error";
}

connect_result classify_connect_errno(int err) {
  switch (err) {
    case 0: return connect_result::connected;
    case ECONNREFUSED:
    case ECONNRESET: return connect_result::refused;
    case ETIMEDOUT: return connect_result::timeout;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT: return connect_result::unreachable;
    case ECANCELED: return connect_result::cancelled;
    default: return connect_result::error;
  }
}

const char* to_string(disk_op op) {
  switch (op) {
    case disk_op::read: return "read";
    case disk_op::write: return "write";
    case disk_op::sync: return "sync";
  }
  return "?";
}

const char* to_string(waste_reason r) {
  switch (r) {
    case waste_reason::hash_failed: return "hash_failed";
    case waste_reason::cancelled: return "cancelled";
  }
  return "?";
}

// ---- engine_metrics -------------------------------------------------------------

namespace {

} // namespace

std::vector<double> geometric_bounds(double start, double factor, std::size_t n) {
  if (!(start > 0) || !(factor > 1) || n == 0)
    throw std::invalid_argument("geometric_bounds: start > 0, factor > 1, n > 0");
  std::vector<double> v;
  for (double x = start; v.size() < n; x *= factor)
    v.push_back(x);
  return v;
}

const std::vector<double>& engine_metrics::default_hash_bounds() {
  // one hash batch: 0.5 ms .. ~16 s
  static const std::vector<double> b = geometric_bounds(0.0005, 2, 16);
  return b;
}

const std::vector<double>& engine_metrics::default_disk_bounds() {
  // one disk operation: 50 us .. ~3.3 s
  static const std::vector<double> b = geometric_bounds(0.00005, 4, 9);
  return b;
}

engine_metrics::engine_metrics() : engine_metrics(default_hash_bounds(), default_disk_bounds()) {}

engine_metrics::engine_metrics(const std::vector<double>& hash_bounds, const std::vector<double>& disk_bounds)
  : hash_seconds(hash_bounds),
    disk_seconds{fixed_histogram{disk_bounds}, fixed_histogram{disk_bounds}, fixed_histogram{disk_bounds}} {}

// ---- gauge_share ----------------------------------------------------------------

gauge_share& gauge_share::operator=(gauge_share&& other) noexcept {
  if (this != &other) {
    set(0);
    target_ = other.target_;
    value_ = other.value_;
    other.target_ = nullptr;
    other.value_ = 0;
  }
  return *this;
}

} // namespace actorrent::logic
