// Metrics of the daemon in the Prometheus text exposition format (version 0.0.4),
// CAF-free and thread-safe.
//
// A registry holds metric families (counter, gauge, histogram), each with a fixed
// list of label names. A family holds one series ("child") per label-value set,
// created on first use, up to the family's series limit: past it, a new label-value
// set is refused (the caller gets a detached child whose updates go nowhere) and the
// refusal is counted in `actorrent_metrics_series_refused_total{family="..."}`, which
// every registry exports. So no input (torrent names, error strings, RPC method
// names sent by a client) can grow the exposition without bound.
//
// Children are updated with atomics (no lock on the hot path once a child exists);
// looking a child up by its labels takes the family's mutex. render() takes each
// family's mutex in turn and writes every family in registration order and every
// series sorted by its label values, so the output is deterministic.
//
// daemon_metrics (below) defines the daemon's families in one place and fills them
// from a daemon_metrics_snapshot of plain numbers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::api {

// ---- text-format helpers (exposed for the tests) ------------------------------------

// A sample value as Prometheus writes it: shortest round-trip decimal, "NaN",
// "+Inf", "-Inf".
std::string format_metric_value(double v);
// A label value between double quotes: \ → \\, " → \", newline → \n; bytes that are
// not valid UTF-8 become U+FFFD; at most max_label_value_bytes bytes are kept
// (cut at a character boundary, "..." appended).
std::string escape_label_value(std::string_view v);
// A HELP text: \ → \\, newline → \n (invalid UTF-8 replaced as above).
std::string escape_help(std::string_view v);
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
inline constexpr std::size_t max_label_value_bytes = 256;

// ---- children -----------------------------------------------------------------------

class counter {
public:
  // Adds v (v < 0 or NaN is ignored: a counter never goes down).
  void inc(double v = 1.0);
  // Mirrors a monotonic total kept elsewhere (the session's byte counters). A value
  // below the current one is a reset of the source (a restarted engine): it is
  // taken as is, which Prometheus' rate() handles as a counter reset.
  void set_total(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

class gauge {
public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

// Counts observed in buckets of a histogram with the bounds of `histogram_buckets`
// (plain data: an engine component can fill one without the registry and ship it in a
// snapshot). counts[i] is the number of observations <= bounds[i] and > bounds[i-1]
// (not cumulative); counts has bounds.size() + 1 entries, the last one for +Inf.
struct histogram_data {
  std::vector<std::uint64_t> counts;
  double sum = 0.0;
  std::uint64_t count = 0;
  // Adds an observation (NaN ignored) given the bounds the data is kept for.
  void observe(double v, const std::vector<double>& bounds);
};

class histogram {
public:
  explicit histogram(std::shared_ptr<const std::vector<double>> bounds);
  void observe(double v);
  // Replaces the counts with data kept elsewhere for the same bounds; data with
  // another number of buckets is ignored (returns false).
  bool set(const histogram_data& data);
  histogram_data snapshot() const;
  const std::vector<double>& bounds() const { return *bounds_; }

private:
  std::shared_ptr<const std::vector<double>> bounds_;
  mutable std::mutex mtx_; // observe() is rare (per hash batch, per API call)
  histogram_data data_;
};

// ---- families -----------------------------------------------------------------------

enum class metric_type { counter, gauge, histogram };

class family_base {
public:
  family_base(std::string name, std::string help, std::vector<std::string> label_names,
              std::size_t max_series, metric_type type);
  virtual ~family_base() = default;
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  std::size_t max_series() const { return max_series_; }
  metric_type type() const { return type_; }
  // Lookups of a new label-value set refused so far because the family was full (a
  // set refused again at the next lookup is counted again).
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  std::size_t size() const;
  // For families mirrored from a snapshot (per-torrent series, actors): removes
  // every series whose label values are not in keep, making room for new ones.
  void retain(const std::vector<std::vector<std::string>>& keep);
  void clear();
  // Appends this family in the text format.
  virtual void render(std::string& out) const = 0;

protected:
  using key = std::vector<std::string>;
  // Checks the label count (std::invalid_argument on a mismatch: a programming error).
  void check_arity(const key& values) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::size_t max_series_;
  metric_type type_;
  mutable std::mutex mtx_;
  std::atomic<std::uint64_t> refused_{0};

  void write_labels(std::string& out, const key& values, const char* extra_name = nullptr,
                    const std::string* extra_value = nullptr) const;
  virtual void erase_child(const key& values) = 0;
  virtual std::size_t child_count() const = 0;
  virtual void clear_children() = 0;
  virtual void visit_keys(const std::function<void(const key&)>& f) const = 0;
};

// A family of counters or gauges.
template <class Child>
class scalar_family final : public family_base {
public:
  scalar_family(std::string name, std::string help, std::vector<std::string> label_names,
                std::size_t max_series, metric_type type);
  // The series for these label values (in label_names() order), created on first use;
  // a detached sink if the family is full (counted in refused()).
  Child& with(const std::vector<std::string>& values);
  Child& get() { return with({}); }
  // The value of an existing series, if any (tests, debugging).
  std::optional<double> value(const std::vector<std::string>& values) const;
  void render(std::string& out) const override;

private:
  void erase_child(const key& values) override { children_.erase(values); }
  std::size_t child_count() const override { return children_.size(); }
  void clear_children() override { children_.clear(); }
  void visit_keys(const std::function<void(const key&)>& f) const override;
  std::map<key, std::unique_ptr<Child>> children_;
  Child sink_;
};

using counter_family = scalar_family<counter>;
using gauge_family = scalar_family<gauge>;

class histogram_family final : public family_base {
public:
  // bounds: strictly increasing finite upper bounds (std::invalid_argument otherwise);
  // +Inf is implicit. The label name "le" is refused.
  histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                   std::vector<double> bounds, std::size_t max_series);
  histogram& with(const std::vector<std::string>& values);
  histogram& get() { return with({}); }
  const std::vector<double>& bounds() const { return *bounds_; }
  void render(std::string& out) const override;

private:
  void erase_child(const key& values) override { children_.erase(values); }
  std::size_t child_count() const override { return children_.size(); }
  void clear_children() override { children_.clear(); }
  void visit_keys(const std::function<void(const key&)>& f) const override;
  std::shared_ptr<const std::vector<double>> bounds_;
  std::map<key, std::unique_ptr<histogram>> children_;
  histogram sink_;
};

// ---- registry -----------------------------------------------------------------------

class registry {
public:
  registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Define a family (std::invalid_argument on a bad or duplicate name, bad label
  // names, max_series 0). The reference stays valid for the registry's lifetime.
  // A family without labels has its single series from the start (exported as 0).
  counter_family& add_counter(std::string name, std::string help,
                              std::vector<std::string> label_names = {},
                              std::size_t max_series = default_max_series);
  gauge_family& add_gauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {},
                          std::size_t max_series = default_max_series);
  histogram_family& add_histogram(std::string name, std::string help,
                                  std::vector<std::string> label_names, std::vector<double> bounds,
                                  std::size_t max_series = default_max_series);

  // Everything in the text exposition format (ends with a newline).
  std::string render() const;

  static constexpr std::size_t default_max_series = 64;
  // The Content-Type of render()'s output.
  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
  // Reserves the names a new family writes (a histogram X also writes X_bucket, X_sum,
  // X_count); std::invalid_argument if one is taken.
  void reserve_names(const std::string& name, metric_type type);
  mutable std::mutex mtx_;
  std::set<std::string> names_;
  std::vector<std::unique_ptr<family_base>> families_;
};

// ---- the daemon's metrics -----------------------------------------------------------

// What the session knows at one instant, as plain numbers (the lead maps the session's
// stats into it). Totals are cumulative since the daemon started; the rest are current
// values. Maps are keyed by a label value; each map's family keeps at most its series
// limit of distinct keys (daemon_metrics::limits).
struct daemon_metrics_snapshot {
  // torrents by state: checking, downloading, seeding, paused, queued, error
  std::map<std::string, double> torrents_by_state;
  // bytes of piece data (payload) and of everything else on the wire (protocol)
  double payload_download_bytes = 0, payload_upload_bytes = 0;
  double protocol_download_bytes = 0, protocol_upload_bytes = 0;
  // current rates of payload, bytes per second
  double download_rate = 0, upload_rate = 0;
  // peers by state: half_open (connecting), handshaking, seed, leecher (connected)
  double peers_half_open = 0, peers_handshaking = 0, peers_seed = 0, peers_leecher = 0;
  // outgoing connection attempts by result (the daemon's: connected, refused, timeout,
  // unreachable, cancelled, error; see logic/engine_metrics.hpp)
  std::map<std::string, double> connection_attempts;
  // peer disconnects by reason (the daemon's: peer_closed, timeout, banned,
  // protocol_error, duplicate, shutdown, seed_to_seed, refused, io_error, other)
  std::map<std::string, double> disconnects;
  // tracker announces by result (e.g. ok, error, timeout)
  std::map<std::string, double> announces;
  double pieces_passed = 0, pieces_failed = 0;
  // wasted payload bytes by reason (the daemon's: hash_failed, cancelled)
  std::map<std::string, double> wasted_bytes;
  double disk_read_bytes = 0, disk_written_bytes = 0;
  double disk_queued_jobs = 0, disk_queued_bytes = 0;
  // sleeping torrents (no actor) now, and how often one was spawned again
  double torrents_asleep = 0, torrent_wakes = 0;
  // histograms kept by the engine for daemon_metrics::hash_check_bounds() and
  // disk_op_bounds() (absent: the family keeps what observe_*() recorded)
  std::optional<histogram_data> hash_check_seconds;
  std::map<std::string, histogram_data> disk_op_seconds; // by op: read, write, sync
  // mailbox sizes of the session's actors, by actor name (session, listener, disk, ...)
  std::map<std::string, double> mailbox_sizes;
  // per-torrent series, exported only when daemon_metrics::options::per_torrent_series > 0
  struct torrent_entry {
    std::string id; // v1 info-hash in hex
    double payload_download_bytes = 0, payload_upload_bytes = 0, peers = 0;
  };
  std::vector<torrent_entry> torrents;
};

class daemon_metrics {
public:
  struct options {
    // 0: no per-torrent series (the default); N: series for at most N torrents
    std::size_t per_torrent_series = 0;
    // distinct label values kept per "by reason/result/method/actor" family
    std::size_t max_reasons = 32;
    std::size_t max_methods = 48;
    std::size_t max_actors = 64;
  };
  daemon_metrics() : daemon_metrics(options{}) {}
  explicit daemon_metrics(options opts);

  // Sets every snapshot-mirrored family from s (thread-safe; call before render()).
  void fill(const daemon_metrics_snapshot& s);
  // One API call: method is the JSON-RPC method (or the HTTP route), code "ok" or the
  // JSON-RPC error code as text. Thread-safe: call it from the HTTP handler threads.
  // Unknown method names should be mapped to "unknown" by the caller; the family
  // bounds them anyway.
  void observe_api(const std::string& method, const std::string& code, double seconds);
  // Durations observed directly (when the engine does not ship histogram_data).
  void observe_hash_check(double seconds);
  void observe_disk_op(const std::string& op, double seconds);

  std::string render() const { return reg_.render(); }
  registry& reg() { return reg_; }

  static const std::vector<double>& hash_check_bounds();
  static const std::vector<double>& disk_op_bounds();
  static const std::vector<double>& api_bounds();

private:
  options opts_;
  registry reg_;
  gauge_family* torrents_;
  counter_family* payload_bytes_;
  counter_family* protocol_bytes_;
  gauge_family* rates_;
  gauge_family* peers_;
  counter_family* attempts_;
  counter_family* disconnects_;
  counter_family* announces_;
  counter_family* pieces_;
  counter_family* wasted_;
  counter_family* disk_bytes_;
  gauge_family* disk_queued_jobs_;
  gauge_family* disk_queued_bytes_;
  gauge_family* torrents_asleep_;
  counter_family* torrent_wakes_;
  histogram_family* hash_check_;
  histogram_family* disk_op_;
  counter_family* api_requests_;
  histogram_family* api_duration_;
  gauge_family* mailbox_;
  counter_family* torrent_payload_ = nullptr;
  gauge_family* torrent_peers_ = nullptr;
};

} // namespace actorrent::api
