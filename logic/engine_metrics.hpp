// Counters the engine's actors keep for the daemon's /metrics: one object per
// session, shared (std::shared_ptr) by every torrent's peer connections,
// connectors, disk stores and the torrent itself, updated with relaxed atomics
// (no lock, no allocation on any path), read by the session for session.stats.
//
// Why shared and not summed from the torrents' status: these are counters, and
// a counter must never go down. A torrent that is removed, restarted or
// re-checked starts its own numbers again from zero; a sum over the live
// torrents would then fall, which Prometheus takes for a reset. Counted here,
// every figure only grows for the life of the daemon. (Gauges such as peers
// by state still come from the torrents' status.)
//
// Cardinality is bounded by construction: reasons and results are small fixed
// enums, durations go into fixed bucket arrays (fixed_histogram), nothing is
// keyed by a torrent, a peer or a message text.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace actorrent::logic {

/// A histogram with fixed, strictly increasing finite upper bounds (+Inf is
/// implicit) in a fixed array: observe() is a search over at most max_bounds
/// doubles and three relaxed atomic adds, safe from any thread.
class fixed_histogram {
public:
  static constexpr std::size_t max_bounds = 31;

  /// Everything lands in +Inf.
  fixed_histogram() = default;
  /// std::invalid_argument for more than max_bounds bounds, a bound that is
  /// not finite, or bounds that do not increase strictly.
  explicit fixed_histogram(const std::vector<double>& bounds);

  /// Counts v in the first bucket whose bound is >= v (NaN is ignored; a
  /// negative value, e.g. from a clock step, counts as 0).
  void observe(double v) noexcept;

  /// What was observed: counts[i] observations in (bounds[i-1], bounds[i]]
  /// (not cumulative), the last entry for +Inf; count is their sum.
  struct snapshot_type {
    std::vector<std::uint64_t> counts;
    double sum = 0;
    std::uint64_t count = 0;
  };
  snapshot_type snapshot() const;

  std::vector<double> bounds() const { return {bounds_.begin(), bounds_.begin() + static_cast<std::ptrdiff_t>(n_)}; }

private:
  std::array<double, max_bounds> bounds_{};
  std::size_t n_ = 0;
  std::array<std::atomic<std::uint64_t>, max_bounds + 1> counts_{};
  std::atomic<double> sum_{0.0};
};

/// Why a peer connection closed, as a fixed label set.
enum class disconnect_reason : std::uint8_t {
  peer_closed,    ///< the remote closed the TCP connection
  timeout,        ///< handshake, idle or send timeout
  banned,         ///< we banned the peer (corrupt data)
  protocol_error, ///< a malformed or unexpected message, an invalid request or block
  duplicate,      ///< a second connection to the same peer, or to ourselves
  shutdown,       ///< the torrent paused, stopped or ended
  seed_to_seed,   ///< both sides have every piece
  refused,        ///< not accepted now (peer limit, torrent not running, other torrent)
  io_error,       ///< our socket or disk failed while serving the peer
  other,
};
inline constexpr std::size_t disconnect_reason_count = 10;

/// The label of a reason ("peer_closed", ...).
const char* to_string(disconnect_reason r);

/// Maps the free-text reason a peer connection closes with (see the close()
/// calls in actors/peer_*.cpp and the drops in actors/torrent*.cpp) to its
/// label. Texts it does not know are `other`.
disconnect_reason classify_disconnect(std::string_view why);

/// How an outgoing connect ended.
enum class connect_result : std::uint8_t {
  connected,
  refused,     ///< ECONNREFUSED (nobody listens)
  timeout,     ///< no answer within the connect timeout
  unreachable, ///< no route (ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ...)
  cancelled,   ///< the torrent stopped while the connect was in flight
  error,       ///< anything else (socket(), poll())
};
inline constexpr std::size_t connect_result_count = 6;

const char* to_string(connect_result r);

/// The result for the errno of a failed connect() or SO_ERROR.
connect_result classify_connect_errno(int err);

/// Disk operations timed by the disk stores.
enum class disk_op : std::uint8_t {
  read,  ///< blocks read for uploads (one request of a peer)
  write, ///< one block written
  sync,  ///< files flushed (resume data, completion)
};
inline constexpr std::size_t disk_op_count = 3;

const char* to_string(disk_op op);

/// Wasted payload, by reason.
enum class waste_reason : std::uint8_t {
  hash_failed, ///< bytes of pieces that failed their hash check
  cancelled,   ///< blocks that arrived after we cancelled their request
};
inline constexpr std::size_t waste_reason_count = 2;

const char* to_string(waste_reason r);

struct engine_metrics {
  /// Bounds of the hash-batch and disk-operation histograms (the daemon passes
  /// those of its exposition, api::daemon_metrics, so the buckets line up).
  engine_metrics(const std::vector<double>& hash_bounds, const std::vector<double>& disk_bounds);
  engine_metrics();

  // peer wire: bytes that are not piece payload (handshakes, message headers,
  // requests, haves, bitfields, keep-alives, the 13-byte header of each block)
  std::atomic<std::uint64_t> protocol_in{0}, protocol_out{0};
  std::array<std::atomic<std::uint64_t>, disconnect_reason_count> disconnects{};
  std::array<std::atomic<std::uint64_t>, connect_result_count> connects{};
  // trackers
  std::atomic<std::uint64_t> announces_ok{0}, announces_failed{0};
  // pieces downloaded and hashed (the start-up check is not counted)
  std::atomic<std::uint64_t> pieces_passed{0}, pieces_failed{0};
  std::array<std::atomic<std::uint64_t>, waste_reason_count> wasted{};
  // disk
  std::atomic<std::uint64_t> disk_read_bytes{0}, disk_written_bytes{0};
  /// Messages waiting in the disk stores' mailboxes plus pieces waiting for a
  /// hash batch (each store adds the change of its own figure).
  std::atomic<std::int64_t> disk_queued_jobs{0};
  /// Block bytes the pickers handed to the disk stores and not yet known to be
  /// written (each picker adds the change of its own figure).
  std::atomic<std::int64_t> disk_queued_bytes{0};
  fixed_histogram hash_seconds; ///< one hash batch
  std::array<fixed_histogram, disk_op_count> disk_seconds;

  void disconnected(std::string_view why) noexcept {
    disconnects[static_cast<std::size_t>(classify_disconnect(why))].fetch_add(1, std::memory_order_relaxed);
  }
  void connect_ended(connect_result r) noexcept {
    connects[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void add_wasted(waste_reason r, std::uint64_t bytes) noexcept {
    wasted[static_cast<std::size_t>(r)].fetch_add(bytes, std::memory_order_relaxed);
  }
  void observe_disk(disk_op op, double seconds) noexcept { disk_seconds[static_cast<std::size_t>(op)].observe(seconds); }

  static const std::vector<double>& default_hash_bounds();
  static const std::vector<double>& default_disk_bounds();
};

/// n histogram bounds: start, start * factor, start * factor^2, ...;
/// std::invalid_argument unless start > 0, factor > 1 and n > 0.
std::vector<double> geometric_bounds(double start, double factor, std::size_t n);

/// Keeps a figure of one component (e.g. a disk store's queue length) inside a
/// shared gauge: set() adds the change since the last set(), and the
/// destructor takes the last value back out, so the shared sum holds exactly
/// the figures of the live components.
class gauge_share {
public:
  gauge_share() = default;
  explicit gauge_share(std::atomic<std::int64_t>* target) : target_(target) {}
  gauge_share(const gauge_share&) = delete;
  gauge_share& operator=(const gauge_share&) = delete;
  gauge_share(gauge_share&& other) noexcept : target_(other.target_), value_(other.value_) { other.target_ = nullptr; }
  gauge_share& operator=(gauge_share&& other) noexcept;
  ~gauge_share() { set(0); }

  void set(std::int64_t v) noexcept {
    if (target_ != nullptr && v != value_)
      target_->fetch_add(v - value_, std::memory_order_relaxed);
    value_ = v;
  }
  std::int64_t value() const { return value_; }

private:
  std::atomic<std::int64_t>* target_ = nullptr;
  std::int64_t value_ = 0;
};

/// Reports a component's monotonic total (e.g. one connection's protocol
/// bytes, computed from its own counters) into a shared counter: add() adds
/// only growth beyond what was reported before, so the shared counter never
/// goes down even when the total briefly does.
class counter_share {
public:
  explicit counter_share(std::atomic<std::uint64_t>* target = nullptr) : target_(target) {}
  void report(std::uint64_t total) noexcept {
    if (total > reported_) {
      if (target_ != nullptr)
        target_->fetch_add(total - reported_, std::memory_order_relaxed);
      reported_ = total;
    }
  }
  std::uint64_t reported() const { return reported_; }

private:
  std::atomic<std::uint64_t>* target_;
  std::uint64_t reported_ = 0;
};

} // namespace actorrent::logic
