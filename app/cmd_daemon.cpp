// `actorrent daemon --config FILE.yaml`: many torrents in one process, one
// listening port for all, controlled through JSON-RPC over HTTP
// (daemon/session.* and daemon/http_api.*; keys in deploy/actorrent.example.yaml).
//
// Start: the configuration (file < environment < config.set overrides kept in
// the state directory) must be valid, or the command exits 2 naming the key,
// the line and the column. Then the listener, the session (which restores
// every torrent of the state directory from its resume data) and the API.
// SIGHUP re-reads the file (config.reload); SIGTERM or SIGINT stop every
// torrent in parallel (stopped announces, resume data) within
// shutdown.timeout, and the log names what did not finish.
//
// Exit codes: 0 after a clean shutdown, 1 when the ports or the state
// directory cannot be had or something did not finish at shutdown, 2 for a
// bad configuration.
#include "actors/listener.hpp"
#include "app/commands.hpp"
#include "app/shutdown.hpp"
#include "app/engine_config.hpp"
#include "app/format.hpp"
#include "daemon/config.hpp"
#include "daemon/http_api.hpp"
#include "daemon/observability.hpp"
#include "daemon/session.hpp"
#include "protocol/text.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <malloc.h>
#include <cstdio>
#include <mutex>
#include <thread>

namespace actorrent::app {

namespace {

using namespace std::chrono_literals;

void say(const std::string& line) {
  std::fprintf(stderr, "actorrent daemon: %s\n", line.c_str());
  std::fflush(stderr);
}

struct daemon_cli {
  std::string config_file;
  bool verbose = false;
  bool check_only = false;
};

int run_daemon(const daemon_cli& cli) {
  auto env = daemon::process_environment();
  auto first = daemon::load_daemon_config(cli.config_file, env, {});
  if (!first) {
    print_error(first.error().message);
    return exit_usage;
  }
  auto overrides = daemon::read_api_overrides(first->cfg.state);
  if (!overrides) {
    print_error(overrides.error().message);
    return exit_usage;
  }
  auto loaded = daemon::load_daemon_config(cli.config_file, env, *overrides);
  if (!loaded) {
    print_error(loaded.error().message);
    return exit_usage;
  }
  if (cli.check_only) {
    std::printf("%s: configuration is valid\n", cli.config_file.c_str());
    return exit_ok;
  }
  const auto& cfg = loaded->cfg;
  if (auto err = daemon::prepare_state_dir(cfg.state); !err.empty()) {
    print_error(err);
    return exit_failure;
  }
  std::vector<std::string> problems;
  auto restore = daemon::read_state_dir(cfg.state, problems);
  for (auto& p : problems)
    say("warning: " + p);

  install_stop_signals(true); // SIGPIPE is ignored by main()
  // Blocks of 256 KiB and more (a full torrents.list of 5,000 torrents is a
  // 1.3 MB text, copied a few times on its way out) are mappings of their
  // own, given back when freed. A fixed threshold also stops glibc from
  // raising it after the first such block: in the arenas, these copies grew
  // the heaps, and the small long-lived blocks allocated later in that room
  // kept it resident (5,000 sleeping torrents: 71 MB RSS instead of 58). The
  // page faults cost a full list of 1,000 torrents about 0.5 ms (6.0 against
  // 5.5 ms, measured while the torrents went to sleep).
  // Free memory at the top of an arena stays up to 4 MB; the session's
  // malloc_trim every 30 s returns it.
  ::mallopt(M_MMAP_THRESHOLD, 256 << 10);
  ::mallopt(M_TRIM_THRESHOLD, 4 << 20);
  // Two arenas rather than glibc's eight per core: a daemon's threads (the
  // scheduler's, the middleman, the API's, the tracker workers) each got one,
  // and each kept its own free memory resident. 5,000 sleeping torrents, same
  // run: 44.8 MB settled instead of 46.1; the list time did not change.
  ::mallopt(M_ARENA_MAX, 2);
  int code = exit_ok;
  std::optional<shutdown_watchdog> watchdog;
  {
    caf::actor_system_config sys_cfg;
    sys_cfg.load<caf::io::middleman>();
    configure_scheduler(sys_cfg); // sharing, or ACTORRENT_SCHED
    caf::actor_system sys{sys_cfg};

    listener_config lc;
    apply_settings(cfg.engine, lc);
    lc.port = cfg.listen_port;
    auto listener = spawn_listener(sys, lc);
    if (!listener) {
      print_error("cannot listen for peers on port " + std::to_string(cfg.listen_port) + ": "
                  + sys.render(listener.error()));
      return exit_failure;
    }
    std::uint16_t port = cfg.listen_port;
    {
      caf::scoped_actor self{sys};
      self->request(*listener, 5s, caf::get_atom_v).receive([&](std::uint16_t p) { port = p; }, [](caf::error&) {});
    }

    auto ready = std::make_shared<std::atomic<bool>>(false);
    auto api_holder = std::make_shared<std::atomic<daemon::http_api*>>(nullptr);
    daemon::session_config sc;
    sc.config = *loaded;
    sc.env = env;
    sc.config_path = cli.config_file;
    sc.listener = *listener;
    sc.listen_port = port;
    sc.restore = std::move(restore);
    sc.ready = ready;
    sc.verbose = cli.verbose;
    // The change feed (GET /api/v1/events) and the metrics (GET /metrics).
    auto obs = std::make_shared<daemon::observability>();
    sc.hooks.on_event = [obs, verbose = cli.verbose](const nlohmann::json& ev) {
      obs->publish(ev);
      if (verbose && ev.value("type", "") != "stats")
        say("event " + ev.dump());
    };
    sc.on_config = [api_holder](const daemon::loaded_config& c) {
      if (auto* api = api_holder->load())
        api->update(c);
    };
    auto session = daemon::spawn_session(sys, std::move(sc));

    daemon::http_api api{sys, session, *loaded, ready, cli.config_file};
    api_holder->store(&api);
    obs->mount(api);
    std::string err;
    int api_port = api.bind(err);
    if (api_port < 0) {
      print_error(err);
      api_holder->store(nullptr);
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(*listener, caf::exit_reason::user_shutdown);
      watchdog.emplace(exit_failure, 5s, "actorrent daemon: warning: actors did not shut down in time; exiting anyway");
      return exit_failure;
    }
    api.start();
    say("peers on port " + std::to_string(port) + "; API on http://" + cfg.api_bind + ":" + std::to_string(api_port)
        + "/api/v1/rpc; state in " + cfg.state);
    std::printf("api_port=%d listen_port=%u\n", api_port, static_cast<unsigned>(port));
    std::fflush(stdout);

    while (stop_signal == 0) {
      std::this_thread::sleep_for(100ms);
      if (hup_signal != 0) {
        hup_signal = 0;
        std::string rerr;
        try {
          std::string why;
          auto text = text::read_text_file(cli.config_file, 1 << 20, why);
          if (!text)
            throw daemon::rpc::rpc_error(daemon::rpc::failed, why);
          auto r = daemon::ask_session(sys, session, "config.reload", nlohmann::json::object(), std::move(*text),
                                       10s);
          say("SIGHUP: reloaded " + cli.config_file + ": applied " + r["applied"].dump() + ", needs a restart "
              + r["needs_restart"].dump());
        } catch (const daemon::rpc::rpc_error& e) {
          say("SIGHUP: the configuration was not reloaded: " + std::string{e.what()});
        }
      }
    }
    say(std::string{"stopping ("} + (stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") + "): stopped announces and resume "
        "data, at most " + std::to_string(cfg.shutdown_timeout) + " s");
    obs->close(); // open event streams end before the server stops
    api.stop();
    api_holder->store(nullptr);
    {
      caf::scoped_actor self{sys};
      auto bound = std::chrono::seconds{cfg.shutdown_timeout} + 2s;
      self->request(session, bound, stop_atom_v)
        .receive(
          [&](std::string& report) {
            auto j = nlohmann::json::parse(report, nullptr, false);
            if (j.is_discarded()) {
              say("shutdown: " + report);
              return;
            }
            say("shutdown: " + std::to_string(j.value("stopped", 0)) + " torrent(s) stopped cleanly in "
                + std::to_string(j.value("ms", 0)) + " ms");
            for (auto& f : j["not_finished"]) {
              say("shutdown: did not finish: " + f.get<std::string>());
              code = exit_failure;
            }
          },
          [&](caf::error& e) {
            say("shutdown: the session did not answer within the bound: " + sys.render(e));
            code = exit_failure;
          });
      self->send_exit(session, caf::exit_reason::user_shutdown);
      self->send_exit(*listener, caf::exit_reason::user_shutdown);
    }
    watchdog.emplace(code, 5s, "actorrent daemon: warning: actors did not shut down in time; exiting anyway");
  }
  watchdog.reset();
  return code;
}

} // namespace

command_runner add_daemon_command(CLI::App& parent) {
  auto cli = std::make_shared<daemon_cli>();
  auto* cmd = parent.add_subcommand("daemon", "Run many torrents in one process, controlled by a JSON-RPC API");
  cmd->add_option("--config", cli->config_file, "The YAML configuration (see deploy/actorrent.example.yaml)")
    ->required();
  cmd->add_flag("-v,--verbose", cli->verbose, "Log every event and the torrents' own notes");
  cmd->add_flag("--check", cli->check_only, "Only check the configuration (exit 0 valid, 2 invalid)");
  return [cli] { return run_daemon(*cli); };
}

} // namespace actorrent::app
