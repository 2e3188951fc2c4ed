// metrics_demo: a small HTTP server on loopback that serves the daemon's metrics
// writer and change feed, for the integration tests (until the daemon serves them).
//
//   metrics_demo --print                 the exposition of a sample snapshot on stdout
//   metrics_demo [--port N] [--token T] [--heartbeat-ms N] [--ring N] [--max-streams N]
//                [--per-torrent N] [--first-seq N]
//
// Routes: GET /metrics (a synthetic snapshot whose counters grow at every scrape),
// GET /api/v1/events (Server-Sent Events), POST /demo/publish (the body, a JSON
// object, is published on the feed; answers {"seq": N}), GET /demo/streams (open,
// served and refused event streams), GET /healthz. With --token,
// /api/v1/events and /demo/publish want "Authorization: Bearer T" (401 otherwise).
// Listens on 127.0.0.1 only (port 0: any free port) and prints "listening on
// 127.0.0.1:PORT". SIGTERM or SIGINT stops the server (streams end within their poll
// interval) and the program exits 0.
#include "api/event_feed.hpp"
#include "api/metrics.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <thread>

using namespace actorrent::api;

namespace {

daemon_metrics_snapshot sample_snapshot(std::uint64_t tick) {
  daemon_metrics_snapshot s;
  double t = static_cast<double>(tick);
  s.torrents_by_state = {{"seeding", 7}, {"downloading", 2}, {"paused", 1}, {"error", 0}};
  s.payload_download_bytes = 1e6 * t;
  s.payload_upload_bytes = 2.5e6 * t;
  s.protocol_download_bytes = 1e4 * t;
  s.protocol_upload_bytes = 2e4 * t;
  s.download_rate = 1e6;
  s.upload_rate = 2.5e6;
  s.peers_half_open = 3;
  s.peers_handshaking = 1;
  s.peers_seed = 4;
  s.peers_leecher = 9;
  s.connection_attempts = {{"connected", 10 * t}, {"refused", t}, {"timeout", 2 * t}};
  s.disconnects = {{"peer_closed", 3 * t}, {"protocol_error", 0}, {"banned", 1}};
  s.announces = {{"ok", 5 * t}, {"error", 1}};
  s.pieces_passed = 40 * t;
  s.pieces_failed = 1;
  s.wasted_bytes = {{"hash_failed", 262144}, {"cancelled", 16384 * t}};
  s.disk_read_bytes = 2.5e6 * t;
  s.disk_written_bytes = 1e6 * t;
  s.disk_queued_jobs = 2;
  s.disk_queued_bytes = 32768;
  histogram_data h;
  for (int i = 0; i < 20; ++i)
    h.observe(0.001 * (i + 1) * (1 + static_cast<double>(tick % 3)), daemon_metrics::hash_check_bounds());
  s.hash_check_seconds = h;
  histogram_data w;
  w.observe(0.0002, daemon_metrics::disk_op_bounds());
  w.observe(0.004, daemon_metrics::disk_op_bounds());
  s.disk_op_seconds["write"] = w;
  s.mailbox_sizes = {{"session", 0}, {"listener", 1}, {"disk \"store\"\n1", 4}};
  s.torrents = {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1e6 * t, 0, 3},
                {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 0, 2.5e6 * t, 5}};
  return s;
}

[[noreturn]] void usage(const char* why) {
  std::cerr << "metrics_demo: " << why
            << "\nusage: metrics_demo --print | [--port N] [--token T] [--heartbeat-ms N]"
               " [--ring N] [--max-streams N] [--per-torrent N] [--first-seq N]\n";
  std::exit(2);
}

std::uint64_t number(const char* flag, const char* v) {
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoull(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0')
    usage((std::string(flag) + " wants a number").c_str());
  return n;
}

} // namespace

int main(int argc, char** argv) {
  bool print = false;
  int port = 0;
  std::string token;
  events_options eopts;
  event_feed::options fopts;
  daemon_metrics::options mopts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc)
        usage((a + " wants a value").c_str());
      return argv[++i];
    };
    if (a == "--print")
      print = true;
    else if (a == "--port")
      port = static_cast<int>(number("--port", next()));
    else if (a == "--token")
      token = next();
    else if (a == "--heartbeat-ms")
      eopts.heartbeat = std::chrono::milliseconds(number("--heartbeat-ms", next()));
    else if (a == "--ring")
      fopts.capacity = number("--ring", next());
    else if (a == "--max-streams")
      eopts.max_streams = number("--max-streams", next());
    else if (a == "--per-torrent")
      mopts.per_torrent_series = number("--per-torrent", next());
    else if (a == "--first-seq")
      fopts.first_seq = number("--first-seq", next());
    else
      usage(("unknown argument " + a).c_str());
  }
  daemon_metrics metrics{mopts};
  if (print) {
    metrics.fill(sample_snapshot(3));
    metrics.observe_api("torrents.list", "ok", 0.002);
    metrics.observe_api("torrents.add", "-32602", 0.0004);
    std::cout << metrics.render();
    return 0;
  }

  // SIGTERM/SIGINT go to a thread that waits for them (no work in a signal handler).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  event_feed feed{fopts};
  httplib::Server svr;
  authorize_fn auth;
  if (!token.empty())
    auth = [token](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") == "Bearer " + token)
        return true;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content("{\"error\":\"missing or wrong bearer token\"}", "application/json");
      return false;
    };
  std::atomic<std::uint64_t> ticks{0};
  mount_metrics(svr, [&] {
    metrics.fill(sample_snapshot(++ticks));
    return metrics.render();
  });
  auto ep = mount_events(svr, feed, auth, eopts);
  svr.Post("/demo/publish", [&](const httplib::Request& req, httplib::Response& res) {
    auto t0 = std::chrono::steady_clock::now();
    if (auth && !auth(req, res)) {
      metrics.observe_api("demo.publish", "401", 0);
      return;
    }
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    std::string code = "ok";
    if (j.is_discarded() || !j.is_object()) {
      res.status = 400;
      res.set_content("{\"error\":\"the body must be a JSON object\"}", "application/json");
      code = "400";
    } else {
      auto seq = feed.publish(j);
      res.set_content(nlohmann::json{{"seq", seq}}.dump(), "application/json");
    }
    metrics.observe_api("demo.publish", code,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });
  svr.Get("/demo/streams", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(nlohmann::json{{"open", ep->open_streams()},
                                   {"served", ep->streams_served()},
                                   {"refused", ep->streams_refused()}}
                      .dump(),
                    "application/json");
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });

  int bound = port == 0 ? svr.bind_to_any_port("127.0.0.1") : (svr.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::cerr << "metrics_demo: cannot listen on 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << bound << std::endl;

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::cout << "signal " << sig << ": stopping" << std::endl;
    for (int i = 0; i < 500 && !svr.is_running(); ++i) // a signal before listen() began
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    svr.stop(); // open event streams notice it within their poll interval
  });
  svr.listen_after_bind();
  feed.close();
  // listen_after_bind also returns on an error: make sure the stopper ends
  if (stopper.joinable()) {
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  std::cout << "stopped; " << ep->streams_served() << " stream(s) served, "
            << ep->streams_refused() << " refused" << std::endl;
  return 0;
}
