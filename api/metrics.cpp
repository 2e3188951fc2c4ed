#include "api/metrics.hpp"

#include "logic/engine_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

namespace actorrent::api {

// ---- text helpers -----------------------------------------------------------------------

std::string format_metric_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) { // whole numbers as integers: 3000000, not 3e+06
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<long long>(v));
    if (ec == std::errc{})
      return std::string(buf, end);
  }
  // shortest round trip, as printf's %g would lay it out (0.0005, 1.5e-07), like
  // Go's FormatFloat(v, 'g', -1) that Prometheus' own clients use
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  if (ec != std::errc{})
    return "NaN"; // cannot happen with 64 bytes
  return std::string(buf, end);
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 if it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80)
    return 1;
  std::size_t n;
  std::uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // overlong forms, surrogates, beyond U+10FFFF
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
      || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

// Escapes s for a label value (quote = true) or a HELP text, keeping at most
// `limit` bytes of the input.
std::string escape(std::string_view s, bool quote, std::size_t limit) {
  std::string out;
  out.reserve(std::min(s.size(), limit) + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = utf8_sequence(s, i);
    std::size_t take = n == 0 ? 1 : n;
    if (i + take > limit) {
      out += "...";
      break;
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD"; // U+FFFD
    } else if (n == 1) {
      char c = s[i];
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (quote && c == '"')
        out += "\\\"";
      else
        out += c;
    } else {
      out.append(s.substr(i, n));
    }
    i += take;
  }
  return out;
}

} // namespace

std::string escape_label_value(std::string_view v) {
  return escape(v, true, max_label_value_bytes);
}

std::string escape_help(std::string_view v) {
  return escape(v, false, std::numeric_limits<std::size_t>::max());
}

bool valid_metric_name(std::string_view name) {
  if (name.empty())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'
              || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__")
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
              || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

// ---- children ---------------------------------------------------------------------------

void counter::inc(double v) {
  if (!(v > 0)) // also NaN
    return;
  value_.fetch_add(v, std::memory_order_relaxed);
}

void counter::set_total(double v) {
  if (std::isnan(v) || v < 0)
    return;
  value_.store(v, std::memory_order_relaxed);
}

void gauge::add(double v) {
  value_.fetch_add(v, std::memory_order_relaxed);
}

void histogram_data::observe(double v, const std::vector<double>& bounds) {
  if (std::isnan(v))
    return;
  if (counts.size() != bounds.size() + 1)
    counts.assign(bounds.size() + 1, 0);
  auto it = std::lower_bound(bounds.begin(), bounds.end(), v); // first bound >= v
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  sum += v;
  ++count;
}

histogram::histogram(std::shared_ptr<const std::vector<double>> bounds)
  : bounds_(std::move(bounds)) {
  data_.counts.assign(bounds_->size() + 1, 0);
}

void histogram::observe(double v) {
  std::lock_guard<std::mutex> guard{mtx_};
  data_.observe(v, *bounds_);
}

bool histogram::set(const histogram_data& data) {
  if (data.counts.size() != bounds_->size() + 1)
    return false;
  std::lock_guard<std::mutex> guard{mtx_};
  data_ = data;
  // the +Inf bucket and _count must agree, whatever the source did
  std::uint64_t total = 0;
  for (auto c : data_.counts)
    total += c;
  data_.count = total;
  return true;
}

histogram_data histogram::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return data_;
}



// ---- families -----------------------------------------------------------------------

family_base::family_base(std::string name, std::string help, std::vector<std::string> label_names,
                         std::size_t max_series, metric_type type)
  : name_(std::move(name)),
    help_(std::move(help)),
    label_names_(std::move(label_names)),
    max_series_(max_series),
    type_(type) {
  if (!valid_metric_name(name_))
    throw std::invalid_argument("invalid metric name '" + name_ + "'");
  if (max_series_ == 0)
    throw std::invalid_argument(name_ + ": max_series must be at least 1");
  std::set<std::string> seen;
  for (auto& l : label_names_) {
    if (!valid_label_name(l))
      throw std::invalid_argument(name_ + ": invalid label name '" + l + "'");
    if (!seen.insert(l).second)
      throw std::invalid_argument(name_ + ": label '" + l + "' given twice");
    if (type_ == metric_type::histogram && l == "le")
      throw std::invalid_argument(name_ + ": a histogram cannot have a label 'le'");
  }
}

std::size_t family_base::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return child_count();
}

void family_base::retain(const std::vector<std::vector<std::string>>& keep) {
  std::set<key> wanted(keep.begin(), keep.end());
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<key> gone;
  visit_keys([&](const key& k) {
    if (wanted.count(k) == 0)
      gone.push_back(k);
  });
  for (auto& k : gone)
    erase_child(k);
}

void family_base::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  clear_children();
}

void family_base::check_arity(const key& values) const {
  if (values.size() != label_names_.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(label_names_.size())
                                + " label values expected, got "
                                + std::to_string(values.size()));
}

void family_base::write_labels(std::string& out, const key& values, const char* extra_name,
                               const std::string* extra_value) const {
  if (values.empty() && extra_name == nullptr)
    return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!first)
      out += ',';
    first = false;
    out += label_names_[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first)
      out += ',';
    out += extra_name;
    out += "=\"";
    out += *extra_value;
    out += '"';
  }
  out += '}';
}

namespace {

void write_header(std::string& out, const family_base& f, const char* type) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  out += escape_help(f.help());
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += type;
  out += '\n';
}

} // namespace

template <class Child>
scalar_family<Child>::scalar_family(std::string name, std::string help,
                                    std::vector<std::string> label_names, std::size_t max_series,
                                    metric_type type)
  : family_base(std::move(name), std::move(help), std::move(label_names), max_series, type) {
  if (label_names_.empty())
    children_.emplace(key{}, std::make_unique<Child>());
}

template <class Child>
Child& scalar_family<Child>::with(const std::vector<std::string>& values) {
  check_arity(values);
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto it = children_.find(values); it != children_.end())
    return *it->second;
  if (children_.size() >= max_series_) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return sink_;
  }
  return *children_.emplace(values, std::make_unique<Child>()).first->second;
}

template <class Child>
std::optional<double> scalar_family<Child>::value(const std::vector<std::string>& values) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto it = children_.find(values); it != children_.end())
    return it->second->value();
  return std::nullopt;
}

template <class Child>
void scalar_family<Child>::render(std::string& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  write_header(out, *this, type_ == metric_type::counter ? "counter" : "gauge");
  for (auto& [values, child] : children_) {
    out += name_;
    write_labels(out, values);
    out += ' ';
    out += format_metric_value(child->value());
    out += '\n';
  }
}

template <class Child>
void scalar_family<Child>::visit_keys(const std::function<void(const key&)>& f) const {
  for (auto& kv : children_)
    f(kv.first);
}

template class scalar_family<counter>;
template class scalar_family<gauge>;

namespace {

std::shared_ptr<const std::vector<double>> checked_bounds(const std::string& name,
                                                          std::vector<double> bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      throw std::invalid_argument(name + ": histogram bounds must be finite (+Inf is implicit)");
    if (i > 0 && !(bounds[i] > bounds[i - 1]))
      throw std::invalid_argument(name + ": histogram bounds must increase strictly");
  }
  return std::make_shared<const std::vector<double>>(std::move(bounds));
}

} // namespace

histogram_family::histogram_family(std::string name, std::string help,
                                   std::vector<std::string> label_names, std::vector<double> bounds,
                                   std::size_t max_series)
  : family_base(std::move(name), std::move(help), std::move(label_names), max_series,
                metric_type::histogram),
    bounds_(checked_bounds(name_, std::move(bounds))),
    sink_(bounds_) {
  if (label_names_.empty())
    children_.emplace(key{}, std::make_unique<histogram>(bounds_));
}

histogram& histogram_family::with(const std::vector<std::string>& values) {
  check_arity(values);
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto it = children_.find(values); it != children_.end())
    return *it->second;
  if (children_.size() >= max_series_) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return sink_;
  }
  return *children_.emplace(values, std::make_unique<histogram>(bounds_)).first->second;
}

void histogram_family::render(std::string& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  write_header(out, *this, "histogram");
  std::vector<std::string> les;
  les.reserve(bounds_->size() + 1);
  for (double b : *bounds_)
    les.push_back(format_metric_value(b));
  les.emplace_back("+Inf");
  for (auto& [values, child] : children_) {
    auto d = child->snapshot();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < les.size(); ++i) {
      cumulative += i < d.counts.size() ? d.counts[i] : 0;
      out += name_;
      out += "_bucket";
      write_labels(out, values, "le", &les[i]);
      out += ' ';
      out += std::to_string(cumulative);
      out += '\n';
    }
    out += name_;
    out += "_sum";
    write_labels(out, values);
    out += ' ';
    out += format_metric_value(d.sum);
    out += '\n';
    out += name_;
    out += "_count";
    write_labels(out, values);
    out += ' ';
    out += std::to_string(cumulative); // equals d.count; the +Inf bucket is authoritative
    out += '\n';
  }
}

void histogram_family::visit_keys(const std::function<void(const key&)>& f) const {
  for (auto& kv : children_)
    f(kv.first);
}

// ---- registry ---------------------------------------------------------------------------

namespace {
constexpr const char* refused_name = "actorrent_metrics_series_refused_total";
}

registry::registry() {
  add_counter(refused_name,
              "Label-value sets refused because their metric family had reached its series limit.",
              {"family"}, 1024);
}

void registry::reserve_names(const std::string& name, metric_type type) {
  std::vector<std::string> names{name};
  if (type == metric_type::histogram)
    for (auto* sfx : {"_bucket", "_sum", "_count"})
      names.push_back(name + sfx);
  else if (name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
    names.push_back(name.substr(0, name.size() - 6)); // OpenMetrics' counter base name
  for (auto& n : names)
    if (names_.count(n) != 0)
      throw std::invalid_argument("metric family '" + name + "' collides with a family already defined ('" + n + "')");
  names_.insert(names.begin(), names.end());
}

counter_family& registry::add_counter(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto f = std::make_unique<counter_family>(std::move(name), std::move(help),
                                            std::move(label_names), max_series,
                                            metric_type::counter);
  reserve_names(f->name(), metric_type::counter);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

gauge_family& registry::add_gauge(std::string name, std::string help,
                                  std::vector<std::string> label_names, std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto f = std::make_unique<gauge_family>(std::move(name), std::move(help), std::move(label_names),
                                          max_series, metric_type::gauge);
  reserve_names(f->name(), metric_type::gauge);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

histogram_family& registry::add_histogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds, std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto f = std::make_unique<histogram_family>(std::move(name), std::move(help),
                                              std::move(label_names), std::move(bounds),
                                              max_series);
  reserve_names(f->name(), metric_type::histogram);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

std::string registry::render() const {
  std::lock_guard<std::mutex> guard{mtx_};
  // the refusal counts are read from the families at render time
  auto& refused = static_cast<counter_family&>(*families_.front());
  for (std::size_t i = 1; i < families_.size(); ++i)
    refused.with({families_[i]->name()}).set_total(static_cast<double>(families_[i]->refused()));
  std::string out;
  out.reserve(4096);
  for (auto& f : families_)
    f->render(out);
  return out;
}

// ---- the daemon's metrics -----------------------------------------------------------

// The engine keeps these histograms (logic::engine_metrics): its bounds are
// the only ones.
const std::vector<double>& daemon_metrics::hash_check_bounds() { return logic::engine_metrics::default_hash_bounds(); }

const std::vector<double>& daemon_metrics::disk_op_bounds() { return logic::engine_metrics::default_disk_bounds(); }

const std::vector<double>& daemon_metrics::api_bounds() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return b;
}

daemon_metrics::daemon_metrics(options opts) : opts_(opts) {
  auto& r = reg_;
  torrents_ = &r.add_gauge("actorrent_torrents", "Torrents in the session, by state.", {"state"},
                           16);
  // The states always exist, so a dashboard sees 0 rather than no series.
  for (auto* s : {"checking", "downloading", "seeding", "paused", "queued", "error"})
    torrents_->with({s});
  payload_bytes_ = &r.add_counter("actorrent_payload_bytes_total",
                                  "Piece data transferred with peers, by direction.",
                                  {"direction"}, 2);
  protocol_bytes_ = &r.add_counter(
    "actorrent_protocol_bytes_total",
    "Bytes on the peer wire that are not piece data (handshakes, messages, headers), by direction.",
    {"direction"}, 2);
  rates_ = &r.add_gauge("actorrent_payload_rate_bytes_per_second",
                        "Current piece data rate over all torrents, by direction.", {"direction"},
                        2);
  for (auto* d : {"download", "upload"}) {
    payload_bytes_->with({d});
    protocol_bytes_->with({d});
    rates_->with({d});
  }
  peers_ = &r.add_gauge("actorrent_peers",
                        "Peer connections by state: half_open (connecting), handshaking, and "
                        "connected peers that are seeds or leechers.",
                        {"state"}, 4);
  for (auto* s : {"half_open", "handshaking", "seed", "leecher"})
    peers_->with({s});
  attempts_ = &r.add_counter("actorrent_peer_connection_attempts_total",
                             "Outgoing peer connection attempts, by result (connected, refused, timeout, unreachable, "
                             "cancelled, error).", {"result"},
                             opts_.max_reasons);
  disconnects_ = &r.add_counter("actorrent_peer_disconnects_total", "Peer connections closed, by reason (peer_closed, timeout, banned, protocol_error, "
                                "duplicate, shutdown, seed_to_seed, refused, io_error, other).",
                                {"reason"}, opts_.max_reasons);
  announces_ = &r.add_counter("actorrent_tracker_announces_total",
                              "Tracker announces, by result.", {"result"}, opts_.max_reasons);
  pieces_ = &r.add_counter("actorrent_pieces_verified_total",
                           "Pieces hashed against the torrent's piece hash, by result.", {"result"},
                           2);
  pieces_->with({"pass"});
  pieces_->with({"fail"});
  wasted_ = &r.add_counter("actorrent_wasted_bytes_total",
                           "Payload bytes received but not kept, by reason.", {"reason"},
                           opts_.max_reasons);
  disk_bytes_ = &r.add_counter("actorrent_disk_bytes_total",
                               "Bytes read from and written to the torrents' files, by direction.",
                               {"direction"}, 2);
  disk_bytes_->with({"read"});
  disk_bytes_->with({"write"});
  disk_queued_jobs_ = &r.add_gauge("actorrent_disk_queued_jobs",
                                   "Disk jobs waiting to be done: messages in the disk stores' mailboxes (block writes, "
                                   "reads, hash requests) and pieces waiting for a hash batch.");
  disk_queued_bytes_ = &r.add_gauge("actorrent_disk_queued_bytes",
                                    "Bytes of block data queued for the disk.");
  torrents_asleep_ = &r.add_gauge("actorrent_torrents_asleep",
                                  "Seeding or finished torrents asleep: no actor until a peer, an announce or an "
                                  "API call wakes them (they are counted in actorrent_torrents too).");
  torrent_wakes_ = &r.add_counter("actorrent_torrents_woken_total",
                                  "Sleeping torrents spawned again (a peer dialled in, an announce was due, an API "
                                  "call needed one).");
  hash_check_ = &r.add_histogram("actorrent_hash_check_duration_seconds",
                                 "Time to hash one batch of pieces.", {}, hash_check_bounds());
  disk_op_ = &r.add_histogram("actorrent_disk_operation_duration_seconds",
                              "Time of one disk operation, by operation (read: one upload request's blocks, "
                              "write: one block, sync: a flush of the files).", {"op"}, disk_op_bounds(),
                              8);
  api_requests_ = &r.add_counter("actorrent_api_requests_total",
                                 "API requests, by method and result (ok or the error code).",
                                 {"method", "code"}, opts_.max_methods * 4);
  api_duration_ = &r.add_histogram("actorrent_api_request_duration_seconds",
                                   "Time to answer an API request, by method.", {"method"},
                                   api_bounds(), opts_.max_methods);
  mailbox_ = &r.add_gauge("actorrent_actor_mailbox_size",
                          "Messages waiting in the mailbox of the session's actors, by actor.",
                          {"actor"}, opts_.max_actors);
  if (opts_.per_torrent_series > 0) {
    torrent_payload_ = &r.add_counter("actorrent_torrent_payload_bytes_total",
                                      "Piece data transferred by one torrent, by direction "
                                      "(per-torrent series, enabled by configuration).",
                                      {"torrent", "direction"}, 2 * opts_.per_torrent_series);
    torrent_peers_ = &r.add_gauge("actorrent_torrent_peers",
                                  "Connected peers of one torrent (per-torrent series, enabled "
                                  "by configuration).",
                                  {"torrent"}, opts_.per_torrent_series);
  }
}

void daemon_metrics::fill(const daemon_metrics_snapshot& s) {
  // Every state listed in the snapshot is set; a state that vanished from it is 0.
  for (auto* st : {"checking", "downloading", "seeding", "paused", "queued", "error"})
    if (s.torrents_by_state.find(st) == s.torrents_by_state.end())
      torrents_->with({st}).set(0);
  for (auto& [state, n] : s.torrents_by_state)
    torrents_->with({state}).set(n);
  payload_bytes_->with({"download"}).set_total(s.payload_download_bytes);
  payload_bytes_->with({"upload"}).set_total(s.payload_upload_bytes);
  protocol_bytes_->with({"download"}).set_total(s.protocol_download_bytes);
  protocol_bytes_->with({"upload"}).set_total(s.protocol_upload_bytes);
  rates_->with({"download"}).set(s.download_rate);
  rates_->with({"upload"}).set(s.upload_rate);
  peers_->with({"half_open"}).set(s.peers_half_open);
  peers_->with({"handshaking"}).set(s.peers_handshaking);
  peers_->with({"seed"}).set(s.peers_seed);
  peers_->with({"leecher"}).set(s.peers_leecher);
  for (auto& [k, v] : s.connection_attempts)
    attempts_->with({k}).set_total(v);
  for (auto& [k, v] : s.disconnects)
    disconnects_->with({k}).set_total(v);
  for (auto& [k, v] : s.announces)
    announces_->with({k}).set_total(v);
  pieces_->with({"pass"}).set_total(s.pieces_passed);
  pieces_->with({"fail"}).set_total(s.pieces_failed);
  for (auto& [k, v] : s.wasted_bytes)
    wasted_->with({k}).set_total(v);
  disk_bytes_->with({"read"}).set_total(s.disk_read_bytes);
  disk_bytes_->with({"write"}).set_total(s.disk_written_bytes);
  disk_queued_jobs_->get().set(s.disk_queued_jobs);
  disk_queued_bytes_->get().set(s.disk_queued_bytes);
  torrents_asleep_->get().set(s.torrents_asleep);
  torrent_wakes_->get().set_total(s.torrent_wakes);
  if (s.hash_check_seconds)
    hash_check_->get().set(*s.hash_check_seconds);
  for (auto& [op, d] : s.disk_op_seconds)
    disk_op_->with({op}).set(d);
  // Actors come and go (a torrent's actors are not listed here, the session's are):
  // the mailbox gauges show exactly the actors of this snapshot.
  std::vector<std::vector<std::string>> keep;
  for (auto& kv : s.mailbox_sizes)
    keep.push_back({kv.first});
  mailbox_->retain(keep);
  for (auto& [actor, n] : s.mailbox_sizes)
    mailbox_->with({actor}).set(n);
  if (torrent_payload_ != nullptr) {
    // removed torrents give their places to new ones
    std::vector<std::vector<std::string>> keep_peers, keep_bytes;
    for (auto& t : s.torrents) {
      keep_peers.push_back({t.id});
      keep_bytes.push_back({t.id, "download"});
      keep_bytes.push_back({t.id, "upload"});
    }
    torrent_peers_->retain(keep_peers);
    torrent_payload_->retain(keep_bytes);
    for (auto& t : s.torrents) {
      torrent_payload_->with({t.id, "download"}).set_total(t.payload_download_bytes);
      torrent_payload_->with({t.id, "upload"}).set_total(t.payload_upload_bytes);
      torrent_peers_->with({t.id}).set(t.peers);
    }
  }
}

void daemon_metrics::observe_api(const std::string& method, const std::string& code,
                                 double seconds) {
  api_requests_->with({method, code}).inc();
  api_duration_->with({method}).observe(seconds);
}

void daemon_metrics::observe_hash_check(double seconds) {
  hash_check_->get().observe(seconds);
}

void daemon_metrics::observe_disk_op(const std::string& op, double seconds) {
  disk_op_->with({op}).observe(seconds);
}

} // namespace actorrent::api
