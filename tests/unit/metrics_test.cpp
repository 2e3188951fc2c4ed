// The metrics registry and its Prometheus text writer (api/metrics.*), without HTTP.
#define CAF_SUITE metrics
#include <caf/test/unit_test.hpp>

#include "api/metrics.hpp"
#include "daemon/observability.hpp"
#include "logic/engine_metrics.hpp"
#include "test_util.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <thread>

using namespace actorrent::api;
using actorrent::test::throws_invalid;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The lines of text that start with prefix.
std::vector<std::string> lines_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0)
      out.push_back(line);
  return out;
}

// The value of an existing series, NaN if there is none.
template <class Family>
double val(const Family& f, const std::vector<std::string>& labels) {
  return f.value(labels).value_or(std::nan(""));
}


} // namespace

CAF_TEST(values are written as Prometheus reads them) {
  CAF_CHECK_EQUAL(format_metric_value(0), "0");
  CAF_CHECK_EQUAL(format_metric_value(3e6), "3000000");
  CAF_CHECK_EQUAL(format_metric_value(-42), "-42");
  CAF_CHECK_EQUAL(format_metric_value(0.0005), "0.0005");
  CAF_CHECK_EQUAL(format_metric_value(0.1), "0.1");
  CAF_CHECK_EQUAL(format_metric_value(2.5), "2.5");
  CAF_CHECK_EQUAL(format_metric_value(1.5e-7), "1.5e-07");
  CAF_CHECK_EQUAL(format_metric_value(1e20), "1e+20");
  CAF_CHECK_EQUAL(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  CAF_CHECK_EQUAL(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  CAF_CHECK_EQUAL(format_metric_value(std::nan("")), "NaN");
  // round trip of an awkward value
  CAF_CHECK_EQUAL(std::stod(format_metric_value(0.1 + 0.2)), 0.1 + 0.2);
}

CAF_TEST(label values and help texts are escaped) {
  CAF_CHECK_EQUAL(escape_label_value("plain"), "plain");
  CAF_CHECK_EQUAL(escape_label_value("a\"b"), "a\\\"b");
  CAF_CHECK_EQUAL(escape_label_value("a\\b"), "a\\\\b");
  CAF_CHECK_EQUAL(escape_label_value("a\nb"), "a\\nb");
  CAF_CHECK_EQUAL(escape_label_value("caf\xC3\xA9"), "caf\xC3\xA9"); // UTF-8 kept
  CAF_CHECK_EQUAL(escape_label_value("x\xFFy"), "x\xEF\xBF\xBDy");   // invalid byte replaced
  CAF_CHECK_EQUAL(escape_label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD"); // overlong
  CAF_CHECK_EQUAL(escape_label_value("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD"); // truncated
  // help: quotes stay, backslash and newline are escaped
  CAF_CHECK_EQUAL(escape_help("say \"hi\"\\\nbye"), "say \"hi\"\\\\\\nbye");
  // long values are cut at a character boundary
  std::string longv(1000, 'x');
  auto cut = escape_label_value(longv);
  CAF_CHECK_EQUAL(cut.size(), max_label_value_bytes + 3);
  CAF_CHECK(cut.substr(cut.size() - 3) == "...");
  std::string euros;
  for (int i = 0; i < 200; ++i)
    euros += "\xE2\x82\xAC";
  auto cut2 = escape_label_value(euros);
  CAF_CHECK_EQUAL((cut2.size() - 3) % 3, 0u);
}

CAF_TEST(names are checked) {
  CAF_CHECK(valid_metric_name("actorrent_up"));
  CAF_CHECK(valid_metric_name("a:b_c9"));
  CAF_CHECK(!valid_metric_name("9abc"));
  CAF_CHECK(!valid_metric_name("a-b"));
  CAF_CHECK(!valid_metric_name(""));
  CAF_CHECK(valid_label_name("state"));
  CAF_CHECK(!valid_label_name("__name"));
  CAF_CHECK(!valid_label_name("a:b"));
  registry r;
  CAF_CHECK(!throws_invalid([&] { r.add_counter("x_total", "x"); }));
  CAF_CHECK(throws_invalid([&] { r.add_counter("x_total", "again"); }));
  CAF_CHECK(throws_invalid([&] { r.add_gauge("bad-name", "x"); }));
  CAF_CHECK(throws_invalid([&] { r.add_gauge("g", "x", {"a", "a"}); }));
  CAF_CHECK(throws_invalid([&] { r.add_gauge("g2", "x", {"__a"}); }));
  CAF_CHECK(throws_invalid([&] { r.add_histogram("h", "x", {"le"}, {1}); }));
  CAF_CHECK(throws_invalid([&] { r.add_histogram("h2", "x", {}, {2, 1}); }));
  CAF_CHECK(throws_invalid([&] { r.add_histogram("h3", "x", {}, {1, INFINITY}); }));
  r.add_histogram("lat", "x", {}, {1});
  // lat writes lat_count: a gauge of that name would collide
  CAF_CHECK(throws_invalid([&] { r.add_gauge("lat_count", "x"); }));
  auto& g = r.add_gauge("ok", "x", {"a", "b"});
  CAF_CHECK(throws_invalid([&] { g.with({"only one"}); }));
}

CAF_TEST(counters gauges and their exposition) {
  registry r;
  auto& c = r.add_counter("demo_requests_total", "Requests.\nSecond line \\ here.", {"method", "code"});
  auto& g = r.add_gauge("demo_temperature", "A gauge.");
  c.with({"get", "200"}).inc();
  c.with({"get", "200"}).inc(2);
  c.with({"post", "500"}).inc(-5); // ignored: counters never go down
  c.with({"p\"q", "x\ny"}).inc(0.5);
  g.get().set(-3.25);
  g.get().add(1);
  auto text = r.render();
  CAF_CHECK(contains(text, "# HELP demo_requests_total Requests.\\nSecond line \\\\ here.\n"));
  CAF_CHECK(contains(text, "# TYPE demo_requests_total counter\n"));
  CAF_CHECK(contains(text, "demo_requests_total{method=\"get\",code=\"200\"} 3\n"));
  CAF_CHECK(contains(text, "demo_requests_total{method=\"post\",code=\"500\"} 0\n"));
  CAF_CHECK(contains(text, "demo_requests_total{method=\"p\\\"q\",code=\"x\\ny\"} 0.5\n"));
  CAF_CHECK(contains(text, "# TYPE demo_temperature gauge\ndemo_temperature -2.25\n"));
  // HELP and TYPE come before the family's samples, families in definition order
  CAF_CHECK_LESS(text.find("# TYPE demo_requests_total"), text.find("demo_requests_total{"));
  CAF_CHECK_LESS(text.find("demo_requests_total{"), text.find("# HELP demo_temperature"));
  CAF_CHECK_EQUAL(text.back(), '\n');
  // set_total mirrors a total kept elsewhere
  c.with({"get", "200"}).set_total(100);
  CAF_CHECK_EQUAL(val(c, {"get", "200"}), 100.0);
  c.with({"get", "200"}).set_total(std::nan(""));
  CAF_CHECK_EQUAL(val(c, {"get", "200"}), 100.0);
}

CAF_TEST(histograms write cumulative buckets sum and count) {
  registry r;
  auto& h = r.add_histogram("demo_seconds", "Durations.", {"op"}, {0.125, 0.5, 1});
  auto& w = h.with({"write"});
  for (double v : {0.0625, 0.125, 0.25, 0.75, 3.0, std::nan("")})
    w.observe(v);
  auto text = r.render();
  CAF_CHECK(contains(text, "# TYPE demo_seconds histogram\n"));
  auto b = lines_with(text, "demo_seconds_bucket{op=\"write\"");
  CAF_REQUIRE_EQUAL(b.size(), 4u);
  CAF_CHECK_EQUAL(b[0], "demo_seconds_bucket{op=\"write\",le=\"0.125\"} 2"); // 0.125 is in le=0.125
  CAF_CHECK_EQUAL(b[1], "demo_seconds_bucket{op=\"write\",le=\"0.5\"} 3");
  CAF_CHECK_EQUAL(b[2], "demo_seconds_bucket{op=\"write\",le=\"1\"} 4");
  CAF_CHECK_EQUAL(b[3], "demo_seconds_bucket{op=\"write\",le=\"+Inf\"} 5");
  CAF_CHECK(contains(text, "demo_seconds_sum{op=\"write\"} 4.1875\n"));
  CAF_CHECK(contains(text, "demo_seconds_count{op=\"write\"} 5\n"));
  // data kept elsewhere, with the right shape, replaces the counts; count follows +Inf
  histogram_data d;
  d.observe(0.3, h.bounds());
  d.observe(0.3, h.bounds());
  d.count = 99; // inconsistent source
  CAF_CHECK(h.with({"read"}).set(d));
  histogram_data wrong;
  wrong.counts = {1, 2};
  CAF_CHECK(!h.with({"read"}).set(wrong));
  text = r.render();
  CAF_CHECK(contains(text, "demo_seconds_bucket{op=\"read\",le=\"0.125\"} 0\n"));
  CAF_CHECK(contains(text, "demo_seconds_bucket{op=\"read\",le=\"0.5\"} 2\n"));
  CAF_CHECK(contains(text, "demo_seconds_count{op=\"read\"} 2\n"));
  // an unlabelled histogram exists from the start
  auto& plain = r.add_histogram("demo_plain_seconds", "x", {}, actorrent::logic::geometric_bounds(0.001, 10, 3));
  (void) plain;
  text = r.render();
  CAF_CHECK(contains(text, "demo_plain_seconds_bucket{le=\"0.001\"} 0\n"));
  CAF_CHECK(contains(text, "demo_plain_seconds_bucket{le=\"0.1\"} 0\n"));
  CAF_CHECK(contains(text, "demo_plain_seconds_count 0\n"));
}

CAF_TEST(a full family refuses new label values and counts the refusals) {
  registry r;
  auto& c = r.add_counter("demo_errors_total", "x", {"reason"}, 3);
  for (int i = 0; i < 10; ++i)
    c.with({"reason" + std::to_string(i)}).inc();
  CAF_CHECK_EQUAL(c.size(), 3u);
  CAF_CHECK_EQUAL(c.refused(), 7u);
  // existing series still work
  c.with({"reason0"}).inc();
  CAF_CHECK_EQUAL(val(c, {"reason0"}), 2.0);
  CAF_CHECK(std::isnan(val(c, {"reason9"})));
  auto text = r.render();
  CAF_CHECK_EQUAL(lines_with(text, "demo_errors_total{").size(), 3u);
  CAF_CHECK(contains(text, "actorrent_metrics_series_refused_total{family=\"demo_errors_total\"} 7\n"));
}

CAF_TEST(retain drops the series not listed) {
  registry r;
  auto& g = r.add_gauge("demo_mailbox", "x", {"actor"}, 2);
  g.with({"a"}).set(1);
  g.with({"b"}).set(2);
  g.with({"c"}).set(9); // refused: full
  CAF_CHECK(std::isnan(val(g, {"c"})));
  g.retain({{"b"}, {"c"}});
  CAF_CHECK(std::isnan(val(g, {"a"})));
  CAF_CHECK_EQUAL(val(g, {"b"}), 2.0);
  g.with({"c"}).set(4); // room again
  CAF_CHECK_EQUAL(val(g, {"c"}), 4.0);
  CAF_CHECK_EQUAL(g.size(), 2u);
}

CAF_TEST(updates from many threads are all counted) {
  registry r;
  auto& c = r.add_counter("demo_hits_total", "x", {"t"});
  auto& h = r.add_histogram("demo_lat_seconds", "x", {}, {1});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.with({std::to_string(t % 2)}).inc();
        h.get().observe(0.5);
        if (i % 1000 == 0)
          (void) r.render();
      }
    });
  for (auto& t : ts)
    t.join();
  CAF_CHECK_EQUAL(val(c, {"0"}) + val(c, {"1"}), 40000.0);
  CAF_CHECK_EQUAL(h.get().snapshot().count, 40000u);
}

CAF_TEST(the daemon families are filled from a snapshot) {
  daemon_metrics m;
  daemon_metrics_snapshot s;
  s.torrents_by_state = {{"seeding", 1000}, {"checking", 1}};
  s.payload_upload_bytes = 123456789;
  s.upload_rate = 1.5e6;
  s.peers_leecher = 7;
  s.disconnects = {{"timeout", 4}};
  s.pieces_failed = 2;
  s.disk_queued_jobs = 5;
  s.torrents_asleep = 990;
  s.torrent_wakes = 42;
  s.mailbox_sizes = {{"session", 3}, {"listener", 0}};
  histogram_data hc;
  hc.observe(0.003, daemon_metrics::hash_check_bounds());
  s.hash_check_seconds = hc;
  s.torrents = {{"ab", 1, 2, 3}};
  m.fill(s);
  m.observe_api("torrents.list", "ok", 0.004);
  m.observe_api("torrents.list", "ok", 0.02);
  m.observe_hash_check(0.01); // replaced by the next fill's histogram_data
  auto text = m.render();
  CAF_CHECK(contains(text, "actorrent_torrents{state=\"seeding\"} 1000\n"));
  CAF_CHECK(contains(text, "actorrent_torrents{state=\"queued\"} 0\n"));
  CAF_CHECK(contains(text, "actorrent_torrents_asleep 990\n"));
  CAF_CHECK(contains(text, "actorrent_torrents_woken_total 42\n"));
  CAF_CHECK(contains(text, "actorrent_payload_bytes_total{direction=\"upload\"} 123456789\n"));
  CAF_CHECK(contains(text, "actorrent_payload_rate_bytes_per_second{direction=\"upload\"} 1500000\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"leecher\"} 7\n"));
  CAF_CHECK(contains(text, "actorrent_peer_disconnects_total{reason=\"timeout\"} 4\n"));
  CAF_CHECK(contains(text, "actorrent_pieces_verified_total{result=\"fail\"} 2\n"));
  CAF_CHECK(contains(text, "actorrent_disk_queued_jobs 5\n"));
  CAF_CHECK(contains(text, "actorrent_actor_mailbox_size{actor=\"session\"} 3\n"));
  CAF_CHECK(contains(text, "actorrent_api_requests_total{method=\"torrents.list\",code=\"ok\"} 2\n"));
  CAF_CHECK(contains(text, "actorrent_api_request_duration_seconds_bucket{method=\"torrents.list\",le=\"0.005\"} 1\n"));
  CAF_CHECK(contains(text, "actorrent_api_request_duration_seconds_count{method=\"torrents.list\"} 2\n"));
  CAF_CHECK(contains(text, "actorrent_hash_check_duration_seconds_count 2\n"));
  // no per-torrent series unless enabled
  CAF_CHECK(!contains(text, "actorrent_torrent_"));
  // a state and an actor that are gone
  s.torrents_by_state = {{"seeding", 999}};
  s.mailbox_sizes = {{"session", 0}};
  m.fill(s);
  text = m.render();
  CAF_CHECK(contains(text, "actorrent_torrents{state=\"checking\"} 0\n"));
  CAF_CHECK(!contains(text, "actor=\"listener\""));
  CAF_CHECK(contains(text, "actorrent_hash_check_duration_seconds_count 1\n"));
}

CAF_TEST(per torrent series are bounded and follow the snapshot) {
  daemon_metrics::options o;
  o.per_torrent_series = 2;
  daemon_metrics m{o};
  daemon_metrics_snapshot s;
  s.torrents = {{"t1", 10, 0, 1}, {"t2", 20, 0, 2}, {"t3", 30, 0, 3}};
  m.fill(s);
  auto text = m.render();
  CAF_CHECK_EQUAL(lines_with(text, "actorrent_torrent_peers{").size(), 2u);
  CAF_CHECK(contains(text, "actorrent_torrent_payload_bytes_total{torrent=\"t1\",direction=\"download\"} 10\n"));
  CAF_CHECK(!contains(text, "torrent=\"t3\""));
  CAF_CHECK(contains(text, "actorrent_metrics_series_refused_total{family=\"actorrent_torrent_peers\"} 1\n"));
  // t1 removed: its series go, t3 gets a place
  s.torrents = {{"t2", 20, 0, 2}, {"t3", 30, 0, 3}};
  m.fill(s);
  text = m.render();
  CAF_CHECK(!contains(text, "torrent=\"t1\""));
  CAF_CHECK(contains(text, "actorrent_torrent_peers{torrent=\"t3\"} 3\n"));
}

CAF_TEST(a bounded method label keeps hostile method names out) {
  daemon_metrics::options o;
  o.max_methods = 4;
  daemon_metrics m{o};
  for (int i = 0; i < 1000; ++i)
    m.observe_api("junk" + std::to_string(i), "-32601", 0.001);
  auto text = m.render();
  CAF_CHECK_EQUAL(lines_with(text, "actorrent_api_request_duration_seconds_count{").size(), 4u);
  CAF_CHECK_LESS_OR_EQUAL(lines_with(text, "actorrent_api_requests_total{").size(), 16u);
  CAF_CHECK(contains(text, "actorrent_metrics_series_refused_total{family=\"actorrent_api_request_duration_seconds\"} 996\n"));
}

CAF_TEST(session stats with the engine counters fill the daemon families) {
  // session.stats as daemon/session.cpp writes it (the parts the metrics read)
  nlohmann::json hash = {{"counts", std::vector<std::uint64_t>(daemon_metrics::hash_check_bounds().size() + 1, 0)},
                         {"sum", 0.25}};
  hash["counts"][3] = 2; // two batches of at most 4 ms
  nlohmann::json write = {{"counts", std::vector<std::uint64_t>(daemon_metrics::disk_op_bounds().size() + 1, 0)},
                          {"sum", 0.001}};
  write["counts"][0] = 7;
  nlohmann::json wrong = {{"counts", {1, 2}}, {"sum", 1}}; // other buckets: ignored
  nlohmann::json stats = {
    {"torrents", {{"by_state", {{"seeding", 2}, {"downloading", 1}}}}},
    {"bytes", {{"payload_downloaded", 1000000}, {"payload_uploaded", 10}, {"protocol_downloaded", 4321},
               {"protocol_uploaded", 1234}, {"wasted_by_reason", {{"hash_failed", 262144}, {"cancelled", 0}}}}},
    {"rates", {{"download", 5}, {"upload", 6}}},
    {"peers", {{"connected", 5}, {"seeds", 2}, {"leechers", 1}, {"half_open", 3}, {"handshaking", 1},
               {"connect_attempts", {{"connected", 9}, {"refused", 4}}},
               {"disconnects", {{"peer_closed", 6}, {"shutdown", 2}, {"other", 0}}}}},
    {"pieces", {{"passed", 40}, {"failed", 1}}},
    {"announces", {{"ok", 3}, {"failed", 1}}},
    {"disk", {{"read_bytes", 16384}, {"written_bytes", 1000000}, {"queued_jobs", 4}}},
    {"histograms", {{"hash_batch_seconds", hash}, {"disk_op_seconds", {{"write", write}, {"sync", wrong}}}}},
    {"mailbox", {{"session", 1}}}};
  daemon_metrics m;
  m.fill(actorrent::daemon::metrics_snapshot(stats));
  auto text = m.render();
  CAF_CHECK(contains(text, "actorrent_protocol_bytes_total{direction=\"download\"} 4321\n"));
  CAF_CHECK(contains(text, "actorrent_protocol_bytes_total{direction=\"upload\"} 1234\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"half_open\"} 3\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"handshaking\"} 1\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"seed\"} 2\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"leecher\"} 3\n")); // connected but not seeds
  CAF_CHECK(contains(text, "actorrent_peer_connection_attempts_total{result=\"refused\"} 4\n"));
  CAF_CHECK(contains(text, "actorrent_peer_disconnects_total{reason=\"peer_closed\"} 6\n"));
  CAF_CHECK(contains(text, "actorrent_peer_disconnects_total{reason=\"other\"} 0\n"));
  CAF_CHECK(contains(text, "actorrent_tracker_announces_total{result=\"ok\"} 3\n"));
  CAF_CHECK(contains(text, "actorrent_tracker_announces_total{result=\"error\"} 1\n"));
  CAF_CHECK(contains(text, "actorrent_pieces_verified_total{result=\"pass\"} 40\n"));
  CAF_CHECK(contains(text, "actorrent_wasted_bytes_total{reason=\"hash_failed\"} 262144\n"));
  CAF_CHECK(contains(text, "actorrent_disk_bytes_total{direction=\"read\"} 16384\n"));
  CAF_CHECK(contains(text, "actorrent_disk_queued_jobs 4\n"));
  CAF_CHECK(contains(text, "actorrent_hash_check_duration_seconds_bucket{le=\"0.004\"} 2\n"));
  CAF_CHECK(contains(text, "actorrent_hash_check_duration_seconds_count 2\n"));
  CAF_CHECK(contains(text, "actorrent_hash_check_duration_seconds_sum 0.25\n"));
  CAF_CHECK(contains(text, "actorrent_disk_operation_duration_seconds_count{op=\"write\"} 7\n"));
  CAF_CHECK(!contains(text, "actorrent_disk_operation_duration_seconds_count{op=\"sync\"} 3\n"));
  // a session.stats without the engine parts (an older daemon) leaves them at 0
  m.fill(actorrent::daemon::metrics_snapshot(nlohmann::json{{"peers", {{"connected", 1}}}}));
  text = m.render();
  CAF_CHECK(contains(text, "actorrent_protocol_bytes_total{direction=\"download\"} 0\n"));
  CAF_CHECK(contains(text, "actorrent_peers{state=\"leecher\"} 1\n"));
}
