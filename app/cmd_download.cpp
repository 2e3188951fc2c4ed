// `actorrent download FILE.torrent [-o DIR] [--peer HOST:PORT ...] [--seed ...]`:
// fetch a torrent, showing progress like aria2c / transmission-cli, and exit
// when done (or keep seeding with --seed). `actorrent seed FILE.torrent DIR`:
// check the data, then seed it. Both listen for incoming peers on --port
// (0: any free port) the whole time.
//
// The torrent actor does the work; this command polls it for a status snapshot
// every 250 ms from a scoped actor (its observer: lifecycle events such as
// completion or an error wake it at once) and renders it: a one-line bar on a terminal,
// a plain line every 5 s otherwise, or one JSON object a second on stdout. When
// the torrent is complete (or on SIGINT/SIGTERM, --timeout, or the torrent's
// death) it asks the torrent to stop (which announces `stopped` and closes the
// files), then shuts the actor system down.
//
// Seeding ends at --seed-ratio (uploaded / size) or --seed-time (seconds since
// the data was complete), or on SIGINT/SIGTERM, which for a seeder is the
// normal way to stop.
//
// Exit codes: 0 complete (and seeding, if asked, ended at its ratio or time);
// 1 failure (bad torrent, timed out, the torrent failed, the port cannot be
// opened; for `seed`: data missing or wrong); 2 usage (bad option or
// configuration file); 130 after SIGINT (Ctrl-C) and 143 after SIGTERM, for
// `download` and `seed` alike, whether or not the data was complete.
//
// Disk errors: a block write that fails (disk full, I/O error, or a fault of
// --disk-fault) loses only its piece, which is fetched again from the swarm; a
// full disk (ENOSPC, EDQUOT, EROFS), or 8 pieces lost in a row, pauses the
// torrent (its resume data then lists the verified pieces only) and the command
// ends with exit 1 and "disk error: ..." (JSON: event "error", error and
// disk_error). Run it again when there is room: it resumes from the verified
// pieces. Under the lab's control (--control) the peer stays up, paused, shows
// the error and goes on when the coordinator turns the disk fault off.
//
// --control HOST:PORT publishes the peer's control actor (actors/control.hpp)
// with CAF's middleman for the swarm lab's coordinator (BASP, heartbeats on);
// port 0 picks a free port, printed on stderr ("control actor on HOST:PORT")
// and, with --json-progress, as a JSON line {"event":"control","control_port":N}.
// A stop from the coordinator ends the command like Ctrl-C but exits 0.
#include "actors/control.hpp"
#include "actors/listener.hpp"
#include "actors/torrent.hpp"
#include "app/commands.hpp"
#include "app/shutdown.hpp"
#include "app/download_config.hpp"
#include "app/engine_config.hpp"
#include "app/format.hpp"
#include "app/progress.hpp"
#include "logic/file_selection.hpp"
#include "logic/wire_faults.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/peer_address.hpp"
#include "protocol/peer_id.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/scoped_actor.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

namespace actorrent::app {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr auto poll_interval = 250ms;
constexpr auto progress_request_timeout = 2s;
constexpr auto stop_request_timeout = 3s;
constexpr auto plain_line_interval = 5s;
constexpr auto json_interval = 1s;
constexpr auto shutdown_grace = 5s;

/// What the command line gave (the settings are overlaid on the config file).
struct download_cli {
  std::string torrent_file;
  std::string config_file;
  download_settings given;
  // CLI11 writes into these; run_download copies the given ones into `given`.
  std::string dir;
  unsigned port = 0;
  std::vector<std::string> peers;
  bool no_trackers = false;
  std::vector<std::string> trackers;
  bool quiet = false;
  bool json_progress = false;
  bool verbose = false;
  bool show_peers = false;
  unsigned timeout = 0;
  bool seed_mode = false; ///< the `seed` command: the data must be complete
  bool seed = false;
  bool force = false;   ///< download --force: write into files that are not ours
  bool recheck = false; ///< --recheck: ignore the resume data, hash everything
  double seed_ratio = 0;
  unsigned seed_time = 0;
  std::string control;    ///< --control HOST:PORT: publish the lab's control actor
  std::string disk_fault; ///< --disk-fault SPEC (storage/disk_faults.hpp)
  std::string select_file; ///< download --select-file
  CLI::Option* select_file_opt = nullptr;
  /// Options that set one tunable of logic::settings: flag, setting, text.
  struct tunable_flag {
    CLI::Option* opt = nullptr;
    std::string setting;
    std::string text;
  };
  std::vector<std::unique_ptr<tunable_flag>> tunable_flags;
  std::vector<std::string> sets; ///< --set NAME=VALUE
  CLI::Option* seed_ratio_opt = nullptr;
  CLI::Option* seed_time_opt = nullptr;
  CLI::Option* dir_opt = nullptr;
  CLI::Option* port_opt = nullptr;
  CLI::Option* peers_opt = nullptr;
  CLI::Option* trackers_opt = nullptr;
  CLI::Option* timeout_opt = nullptr;
  std::string wire_fault; ///< lab option --wire-fault SPEC (logic/wire_faults.hpp)
};

// ---- peers -----------------------------------------------------------------------

/// Numeric endpoints of "host:port" (an IP literal, or a host name resolved
/// with getaddrinfo: every address it yields, deduplicated).
result<std::vector<peer_endpoint>> resolve_peer(const std::string& text) {
  auto hp = parse_host_port(text);
  if (!hp)
    return make_error("invalid peer address '" + text + "': " + hp.error().message);
  if (auto ep = hp->endpoint())
    return std::vector<peer_endpoint>{*ep};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(hp->host.c_str(), nullptr, &hints, &res); rc != 0)
    return make_error("cannot resolve peer '" + text + "': " + ::gai_strerror(rc));
  std::vector<peer_endpoint> out;
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    peer_endpoint e;
    e.port = hp->port;
    if (ai->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::memcpy(e.addr.data(), &sin->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::memcpy(e.addr.data(), &sin6->sin6_addr, 16);
      e.v6 = true;
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), e) == out.end())
      out.push_back(e);
  }
  ::freeaddrinfo(res);
  if (out.empty())
    return make_error("cannot resolve peer '" + text + "': no address");
  return out;
}

/// An actor's exit reason or a request error for a person: the message of a
/// (category, code, "message") error, else CAF's rendering.
std::string describe(caf::actor_system& sys, const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

/// Whether something else listens on `port` (a bind with SO_REUSEADDR, as
/// CAF's own, fails with EADDRINUSE on IPv4 or IPv6): tells a busy port from
/// other reasons a listener could not start.
bool port_in_use(std::uint16_t port) {
  auto try_bind = [port](int family) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return false;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc;
    if (family == AF_INET) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    } else {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    bool busy = rc != 0 && errno == EADDRINUSE;
    ::close(fd);
    return busy;
  };
  return port != 0 && (try_bind(AF_INET) || try_bind(AF_INET6));
}

// ---- output ------------------------------------------------------------------------

/// Renders progress according to the mode: a bar on a terminal, plain lines on
/// a pipe, JSON lines on stdout, or nothing (--quiet). Notes (verbose lines,
/// warnings) go to stderr above the bar.
// While the progress bar is drawn, the terminal does not echo control
// characters: a Ctrl-C would print "^C" after the bar (wrapping a full-width
// bar onto a new line) and the final bar could not be drawn over it. The
// terminal's settings come back when the command ends.
class quiet_control_echo {
public:
  quiet_control_echo() {
    if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_) != 0)
      return;
    auto t = saved_;
    t.c_lflag &= ~static_cast<tcflag_t>(ECHOCTL);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  ~quiet_control_echo() {
    if (active_)
      ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  quiet_control_echo(const quiet_control_echo&) = delete;
  quiet_control_echo& operator=(const quiet_control_echo&) = delete;

private:
  termios saved_{};
  bool active_ = false;
};

class reporter {
public:
  reporter(const download_options& opts, const metainfo& mi)
    : opts_(opts), name_(mi.name), hash_(mi.info_hash.hex()),
      tty_(!opts.quiet && !opts.json_progress && stderr_is_tty()) {
    if (tty_)
      echo_.emplace();
  }

  bool human() const { return !opts_.quiet && !opts_.json_progress; }

  /// A line for a person on stderr (not in quiet or JSON mode).
  void note(const std::string& line) {
    if (!human())
      return;
    print_above_bar("actorrent: " + line);
  }

  /// Verbose-only note (--quiet wins over --verbose).
  void detail(const std::string& line) {
    if (opts_.verbose && !opts_.quiet)
      print_above_bar("actorrent: " + line);
  }

  void warning(const std::string& line) {
    if (!opts_.quiet)
      print_above_bar("actorrent: warning: " + line);
  }

  void error(const std::string& line) {
    clear_bar();
    print_error(line);
    redraw();
  }

  void update(const torrent_status& st) {
    auto now = clock_type::now();
    last_ = st;
    if (opts_.verbose && !opts_.quiet)
      report_changes(st);
    have_prev_ = true;
    prev_ = st;
    if (opts_.json_progress) {
      if (!last_json_ || now - *last_json_ >= json_interval) {
        last_json_ = now;
        emit_json(progress_json(name_, hash_, st, "progress"));
        if (opts_.show_peers)
          emit_json(peers_json(name_, hash_, st));
      }
      return;
    }
    if (opts_.quiet)
      return;
    bool peers_due = opts_.show_peers && (!last_peers_ || now - *last_peers_ >= plain_line_interval);
    if (peers_due) {
      last_peers_ = now;
      if (tty_)
        for (auto& line : peer_table(st))
          print_above_bar("  " + line);
    }
    if (tty_) {
      draw(st);
    } else if (!last_plain_ || now - *last_plain_ >= plain_line_interval) {
      last_plain_ = now;
      plain_line(status_text(st));
      if (peers_due)
        for (auto& line : peer_table(st))
          plain_line("  " + line);
    }
  }

  /// The start-up check is done: what it found (a JSON "checked" event).
  void checked(const torrent_status& st) {
    if (opts_.json_progress)
      emit_json(progress_json(name_, hash_, st, "checked"));
    else
      note("checked: " + std::to_string(st.resumed_pieces) + " of " + std::to_string(st.pieces_total)
           + " pieces present");
  }

  /// Ends the progress output: the final bar stays on screen, a plain run gets
  /// a final line, JSON gets a final object with `event` (and `extra` fields).
  void finish(const std::optional<torrent_status>& st, const std::string& event,
              const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) {
    auto final_status = st.value_or(torrent_status{});
    if (opts_.json_progress) {
      auto j = progress_json(name_, hash_, final_status, event);
      for (auto& [k, v] : extra.items())
        j[k] = v;
      emit_json(j);
      return;
    }
    if (opts_.quiet || !st)
      return;
    if (tty_) {
      draw(*st);
      std::fputc('\n', stderr);
      drawn_ = false;
    } else if (auto text = status_text(*st); text != last_plain_text_) {
      plain_line(text);
    }
    std::fflush(stderr);
  }

private:
  std::optional<quiet_control_echo> echo_;
  void draw(const torrent_status& st) {
    auto line = render_progress_line(st, terminal_columns(STDERR_FILENO));
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  void plain_line(const std::string& text) {
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
    last_plain_text_ = text;
  }

  void clear_bar() {
    if (drawn_) {
      std::fputs("\r\033[K", stderr);
    }
  }

  void redraw() {
    if (drawn_ && last_)
      draw(*last_);
  }

  void print_above_bar(const std::string& line) {
    clear_bar();
    std::fprintf(stderr, "%s\n", line.c_str());
    redraw();
    std::fflush(stderr);
  }

  void emit_json(const nlohmann::ordered_json& j) {
    auto text = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    std::fprintf(stdout, "%s\n", text.c_str());
    std::fflush(stdout);
  }

  void report_changes(const torrent_status& st) {
    if (!have_prev_ || st.tracker_status != prev_.tracker_status)
      if (!st.tracker_status.empty())
        print_above_bar("actorrent: tracker: " + st.tracker_status);
    if (have_prev_ && (st.peers != prev_.peers || st.seeds != prev_.seeds))
      print_above_bar("actorrent: peers " + std::to_string(st.peers) + " (seeds " + std::to_string(st.seeds)
                      + ")");
    if (have_prev_ && st.hash_failures > prev_.hash_failures)
      print_above_bar("actorrent: hash failures: " + std::to_string(st.hash_failures) + " ("
                      + format_bytes(st.wasted) + " wasted)");
    if (have_prev_ && st.banned > prev_.banned)
      print_above_bar("actorrent: banned peers: " + std::to_string(st.banned));
  }

  const download_options& opts_;
  std::string name_;
  std::string hash_;
  bool tty_;
  bool drawn_ = false;
  bool have_prev_ = false;
  torrent_status prev_;
  std::optional<torrent_status> last_;
  std::optional<clock_type::time_point> last_plain_;
  std::string last_plain_text_; ///< no final line that repeats the last one
  std::optional<clock_type::time_point> last_json_;
  std::optional<clock_type::time_point> last_peers_;
};

// ---- the download -------------------------------------------------------------------

/// The extra fields of the JSON `complete` event: seconds since the start and
/// the average download rate of this run (bytes received / elapsed).
nlohmann::ordered_json complete_fields(const std::optional<torrent_status>& st, clock_type::duration since_start) {
  // microseconds: a resumed download can finish in a few milliseconds, and the
  // rate must agree with the elapsed time printed beside it
  auto secs = std::round(std::chrono::duration<double>(since_start).count() * 1e6) / 1e6;
  auto got = st ? st->downloaded : 0;
  nlohmann::ordered_json j;
  j["elapsed_seconds"] = secs;
  j["avg_down_rate"] = secs > 0 ? static_cast<std::uint64_t>(std::llround(static_cast<double>(got) / secs)) : 0;
  return j;
}

enum class outcome { complete, seeded, interrupted, timed_out, failed, incomplete_seed, controlled, disk_failed };

/// --control's HOST:PORT (port 0: any free port).
result<host_port> parse_control_address(const std::string& text) {
  bool any = text.size() > 2 && text.compare(text.size() - 2, 2, ":0") == 0;
  auto hp = parse_host_port(any ? text.substr(0, text.size() - 1) + "1" : text);
  if (!hp)
    return make_error("--control: " + hp.error().message);
  if (any)
    hp->port = 0;
  return hp;
}

int run_download(download_cli& cli) {
  // Settings: defaults < config file < command line.
  download_options opts;
  if (auto err = apply_config_file(cli.config_file, opts)) {
    print_error(*err);
    return exit_usage;
  }
  if (cli.dir_opt->count() > 0)
    cli.given.download_dir = cli.dir;
  if (cli.port_opt->count() > 0)
    cli.given.port = static_cast<std::uint16_t>(cli.port);
  if (cli.peers_opt->count() > 0)
    cli.given.peers = cli.peers;
  if (cli.timeout_opt->count() > 0)
    cli.given.timeout = cli.timeout;
  if (cli.no_trackers)
    cli.given.use_trackers = false;
  if (cli.trackers_opt->count() > 0)
    cli.given.trackers = cli.trackers;
  if (cli.quiet)
    cli.given.quiet = true;
  if (cli.json_progress)
    cli.given.json_progress = true;
  if (cli.verbose)
    cli.given.verbose = true;
  if (cli.show_peers)
    cli.given.show_peers = true;
  if (cli.seed || cli.seed_mode)
    cli.given.seed = true;
  if (cli.seed_ratio_opt->count() > 0)
    cli.given.seed_ratio = cli.seed_ratio;
  if (cli.seed_time_opt->count() > 0)
    cli.given.seed_time = cli.seed_time;
  if (cli.select_file_opt != nullptr && cli.select_file_opt->count() > 0)
    cli.given.select_file = cli.select_file;
  // tunables: --set first, then the named flags (the more specific wins)
  for (auto& assignment : cli.sets) {
    auto eq = assignment.find('=');
    auto* e = eq == std::string::npos ? nullptr : logic::find_setting(assignment.substr(0, eq));
    logic::settings probe;
    if (auto ok = logic::set_setting(probe, assignment); !ok || e == nullptr) {
      print_error("--set: " + ok.error().message);
      return exit_usage;
    }
    cli.given.tunables[std::string{e->name}] = probe.*(e->field);
  }
  for (auto& f : cli.tunable_flags) {
    if (f->opt->count() == 0)
      continue;
    auto* e = logic::find_setting(f->setting);
    auto v = logic::parse_setting(*e, f->text);
    if (!v) {
      print_error(f->opt->get_name() + ": " + v.error().message);
      return exit_usage;
    }
    cli.given.tunables[f->setting] = *v;
  }
  apply_to(cli.given, opts);
  if (auto ok = logic::validate(opts.tunables); !ok) {
    print_error(ok.error().message);
    return exit_usage;
  }
  if (opts.download_dir.empty()) {
    print_error("the download directory is empty");
    return exit_usage;
  }
  for (auto& p : opts.peers) {
    if (auto ok = check_peer_address(p); !ok) {
      print_error("invalid peer address '" + p + "': " + ok.error().message);
      return exit_usage;
    }
  }

  std::optional<host_port> control_at;
  if (!cli.control.empty()) {
    auto hp = parse_control_address(cli.control);
    if (!hp) {
      print_error(hp.error().message);
      return exit_usage;
    }
    control_at = *hp;
  }
  auto disk_faults = std::make_shared<storage::disk_faults>();
  if (!cli.disk_fault.empty()) {
    auto spec = storage::parse_disk_fault_spec(cli.disk_fault);
    if (!spec) {
      print_error("--disk-fault: " + spec.error().message);
      return exit_usage;
    }
    disk_faults->set(*spec);
  }

  if (cli.torrent_file.rfind("magnet:", 0) == 0) {
    print_error("magnet links are not supported yet: give the .torrent file");
    return exit_failure;
  }
  auto mi = load_metainfo_file(cli.torrent_file);
  if (!mi) {
    print_error(cli.torrent_file + ": " + mi.error().to_string());
    return exit_failure;
  }
  std::vector<bool> selected_files; // --select-file: one flag per entry of mi->files; empty: all
  if (!opts.select_file.empty()) {
    if (cli.seed_mode) {
      print_error("select_file: seed serves the whole torrent; choose files with download");
      return exit_usage;
    }
    auto sel = logic::parse_file_selection(opts.select_file, mi->files);
    if (!sel) {
      print_error("--select-file: " + sel.error().message);
      return exit_usage;
    }
    selected_files = std::move(*sel);
  }
  if (opts.use_trackers && !opts.trackers.empty()) {
    // the user's trackers: one more tier after the torrent's own (BEP 12);
    // trackers are not part of the info dictionary, so the info-hash stays
    std::vector<std::string> tier;
    for (auto& url : opts.trackers) {
      bool dup = std::find(tier.begin(), tier.end(), url) != tier.end();
      for (auto& t : mi->trackers)
        dup = dup || std::find(t.begin(), t.end(), url) != t.end();
      if (!dup)
        tier.push_back(url);
    }
    if (!tier.empty())
      mi->trackers.push_back(std::move(tier));
  }
  auto torrent_info = std::make_shared<const metainfo>(std::move(*mi));
  const metainfo& info = *torrent_info;

  std::vector<peer_endpoint> initial;
  for (auto& p : opts.peers) {
    auto eps = resolve_peer(p);
    if (!eps) {
      print_error(eps.error().message);
      return exit_failure;
    }
    for (auto& e : *eps)
      if (std::find(initial.begin(), initial.end(), e) == initial.end())
        initial.push_back(e);
  }

  if (cli.seed_mode) {
    // `seed` checks data that must be there: it never creates the directory
    std::error_code ec;
    if (!std::filesystem::is_directory(opts.download_dir, ec)) {
      print_error("cannot seed: " + opts.download_dir + " is not a directory (all "
                  + std::to_string(info.num_pieces()) + " pieces missing)");
      return exit_failure;
    }
  }

  reporter out{opts, info};
  bool trackers = opts.use_trackers && !info.trackers.empty();
  if (!trackers && initial.empty() && !opts.seed)
    out.warning(std::string{"no peers to connect to: "}
                + (opts.use_trackers ? "the torrent has no trackers" : "trackers are off")
                + " and no --peer was given");
  out.note(std::string{cli.seed_mode ? "seeding " : "downloading "} + info.name + " ("
           + format_bytes(info.total_size) + ", " + std::to_string(info.num_pieces()) + " pieces) "
           + (cli.seed_mode ? "from " : "to ") + opts.download_dir);
  out.detail("info-hash " + info.info_hash.hex() + ", port " + std::to_string(opts.port) + ", max peers "
             + std::to_string(opts.tunables.max_peers) + ", trackers " + (trackers ? "on" : "off") + ", "
             + std::to_string(initial.size()) + " peer address(es) given"
             + (opts.timeout > 0 ? ", timeout " + std::to_string(opts.timeout) + " s" : std::string{}));
  std::uint64_t selected_size = info.total_size; // what the summary counts
  if (!selected_files.empty()) {
    std::uint64_t bytes = 0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < selected_files.size(); ++i)
      if (selected_files[i]) {
        bytes += info.files[i].size;
        ++count;
      }
    out.note("selected " + std::to_string(count) + " of " + std::to_string(logic::user_file_count(info.files))
             + " files (" + format_bytes(bytes) + "): " + opts.select_file);
    selected_size = bytes;
  }
  for (auto& e : initial)
    out.detail("peer " + e.to_string());

  install_stop_signals(false);
  int code = exit_failure;
  std::optional<shutdown_watchdog> watchdog;
  {
    caf::actor_system_config cfg;
    cfg.load<caf::io::middleman>();
    add_control_types(cfg);
    configure_basp(cfg);
    configure_scheduler(cfg); // sharing, or ACTORRENT_SCHED
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};

    listener_config lc;
    apply_settings(opts.tunables, lc);
    lc.port = opts.port;
    auto listener = spawn_listener(sys, lc);
    if (!listener) {
      if (port_in_use(opts.port))
        print_error("port " + std::to_string(opts.port) + " is in use (choose another with --port, or 0 for any)");
      else
        print_error("cannot listen on port " + std::to_string(opts.port) + ": " + describe(sys, listener.error()));
      return exit_failure;
    }
    {
      // only once the port is ours: a failed start leaves no directory behind
      std::error_code ec;
      std::filesystem::create_directories(opts.download_dir, ec);
      if (ec || !std::filesystem::is_directory(opts.download_dir, ec)) {
        print_error("cannot create download directory " + opts.download_dir + ": "
                    + (ec ? ec.message() : std::string{"not a directory"}));
        self->send_exit(*listener, caf::exit_reason::user_shutdown);
        return exit_failure;
      }
    }
    std::uint16_t port = opts.port;
    self->request(*listener, progress_request_timeout, caf::get_atom_v)
      .receive([&](std::uint16_t p) { port = p; }, [](caf::error&) {});
    out.note("listening on port " + std::to_string(port));

    torrent_config tc;
    tc.torrent = torrent_info;
    tc.download_dir = opts.download_dir;
    tc.listen_port = port;
    apply_settings(opts.tunables, tc);
    tc.initial_peers = initial;
    tc.use_trackers = opts.use_trackers;
    tc.verbose = opts.verbose && !opts.quiet;
    tc.peer_id = generate_peer_id();
    tc.seed = opts.seed;
    tc.require_complete = cli.seed_mode; // check first: missing data ends it before any announce or dial
    tc.observer = caf::actor_cast<caf::actor>(self);
    tc.listener = *listener;
    // resume data beside the data, like aria2's control files, so a copied or
    // moved download directory keeps it; a hidden directory keeps it out of the way
    tc.resume_file = opts.download_dir + "/.actorrent/" + info.info_hash.hex() + ".resume";
    tc.selected_files = selected_files;
    tc.force_overwrite = cli.force;
    tc.recheck = cli.recheck;
    if (!cli.wire_fault.empty()) { // checked by the option already
      tc.wire_fault = *logic::parse_wire_fault_spec(cli.wire_fault);
      if (!opts.quiet && !opts.json_progress)
        out.note("wire faults on (lab): " + tc.wire_fault.to_string());
    }
    tc.disk_faults = disk_faults;
    if (disk_faults->active())
      out.note("disk faults on: " + disk_faults->spec().to_string());
    auto start = clock_type::now();
    auto torrent = spawn_torrent(sys, std::move(tc));
    self->monitor(torrent);
    caf::actor control_handle;
    if (control_at) {
      control_config cc;
      cc.torrent = torrent;
      cc.owner = caf::actor_cast<caf::actor>(self);
      auto ctl = sys.spawn(control, std::move(cc));
      control_handle = caf::actor_cast<caf::actor>(ctl);
      auto bound = caf::io::publish(ctl, control_at->port, control_at->host.c_str(), true);
      if (!bound) {
        print_error("cannot publish the control actor on " + control_at->to_string() + ": " + describe(sys, bound.error()));
        self->send_exit(ctl, caf::exit_reason::user_shutdown);
        self->send_exit(torrent, caf::exit_reason::user_shutdown);
        self->send_exit(*listener, caf::exit_reason::user_shutdown);
        return exit_failure;
      }
      host_port shown = *control_at;
      shown.port = *bound;
      std::fprintf(stderr, "actorrent: control actor on %s\n", shown.to_string().c_str());
      std::fflush(stderr);
      if (opts.json_progress) {
        std::printf("{\"event\":\"control\",\"control_host\":\"%s\",\"control_port\":%u}\n",
                    control_at->host.c_str(), static_cast<unsigned>(*bound));
        std::fflush(stdout);
      }
    }
    bool control_stop = false; // the coordinator asked us to end

    std::optional<torrent_status> last;
    std::string failure;
    auto result = outcome::failed;
    auto deadline = opts.timeout > 0 ? start + std::chrono::seconds{opts.timeout} : clock_type::time_point::max();
    std::optional<clock_type::time_point> complete_at;
    bool seed_missing = false; // `seed`: the check found pieces missing (the torrent ends itself)
    // Lifecycle events from the torrent: the check's result, completion, errors.
    auto on_event = [&](torrent_event& ev) {
      if (ev.what == torrent_event::kind::checked) {
        last = ev.status;
        out.checked(ev.status);
        seed_missing = cli.seed_mode && ev.status.pieces_have < ev.status.pieces_total;
      } else if (ev.what == torrent_event::kind::completed) {
        last = ev.status;
      } else if (ev.what == torrent_event::kind::error) {
        failure = ev.message;
      }
    };
    bool dead = false;
    auto on_down = [&](caf::down_msg& dm) {
      dead = true;
      if (failure.empty())
        failure = dm.reason ? describe(sys, dm.reason) : std::string{"the torrent actor quit"};
    };
    for (;;) {
      if (stop_signal != 0) {
        result = complete_at ? outcome::seeded : outcome::interrupted;
        break;
      }
      if (control_stop) {
        result = outcome::controlled;
        break;
      }
      if (last && !last->disk_error.empty() && !control_at) {
        failure = "disk error: " + last->disk_error;
        result = outcome::disk_failed;
        break;
      }
      if (!complete_at && clock_type::now() >= deadline) {
        result = outcome::timed_out;
        break;
      }
      if (!dead)
        self->request(torrent, progress_request_timeout, progress_atom_v)
          .receive(
            [&](torrent_status& st) { last = std::move(st); },
            [&](caf::error& err) {
              if (err == caf::sec::request_timeout) {
                out.detail("the torrent did not answer a progress request within 2 s");
              } else {
                dead = true;
                if (failure.empty())
                  failure = describe(sys, err);
              }
            });
      // Events and a down message (the torrent is gone, whatever the request said).
      self->receive([&](event_atom, torrent_event& ev) { on_event(ev); }, on_down,
                    [&](stop_atom) { control_stop = true; },
                    caf::after(std::chrono::milliseconds{0}) >> [] {});
      if (dead) {
        result = seed_missing ? outcome::incomplete_seed : outcome::failed;
        break;
      }
      if (last) {
        out.update(*last);
        if (last->complete) {
          if (!opts.seed) {
            result = outcome::complete;
            break;
          }
          auto now = clock_type::now();
          if (!complete_at) {
            complete_at = now;
            if (!cli.seed_mode) // the download part is done; seeding goes on
              out.finish(last, "complete", complete_fields(last, clock_type::now() - start));
          }
          auto ratio = last->total_size > 0 ? static_cast<double>(last->uploaded) / static_cast<double>(last->total_size) : 0.0;
          if (opts.seed_ratio > 0 && ratio >= opts.seed_ratio) {
            out.note("seed ratio " + format_ratio(last->uploaded, last->total_size) + " reached");
            result = outcome::seeded;
            break;
          }
          if (opts.seed_time > 0 && now - *complete_at >= std::chrono::seconds{opts.seed_time}) {
            out.note("seeded for " + std::to_string(opts.seed_time) + " s");
            result = outcome::seeded;
            break;
          }
        }
      }
      // Until the next poll; an event of the torrent's (completion, an error)
      // ends the wait at once, so completion is never a poll late.
      self->receive([&](event_atom, torrent_event& ev) { on_event(ev); }, on_down,
                    [&](stop_atom) { control_stop = true; },
                    caf::after(poll_interval) >> [] {});
    }
    auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();

    if (result != outcome::failed && result != outcome::incomplete_seed) {
      // Stop: close peers, flush files, announce `stopped` (bounded by the torrent).
      self->request(torrent, stop_request_timeout, stop_atom_v)
        .receive([&](bool) {},
                 [&](caf::error& err) { out.warning("the torrent did not stop cleanly: " + describe(sys, err)); });
      // The last poll can be a second behind the peers' counters (they report
      // once a second, and finally as they close): the final line gets the
      // totals as they are now that the peers are closed.
      self->request(torrent, progress_request_timeout, progress_atom_v)
        .receive([&](torrent_status& st) { last = std::move(st); }, [&](caf::error&) {});
    }
    self->send_exit(torrent, caf::exit_reason::user_shutdown);
    self->send_exit(*listener, caf::exit_reason::user_shutdown);
    if (control_handle)
      self->send_exit(control_handle, caf::exit_reason::user_shutdown);

    switch (result) {
      case outcome::controlled:
        out.finish(last, "stopped", {{"reason", "stopped by the lab's control"}});
        out.note("stopped by the lab's control");
        code = exit_ok;
        break;
      case outcome::disk_failed:
        out.finish(last, "error", {{"error", failure}});
        print_error(failure + " (" + std::to_string(last ? last->pieces_have : 0)
                    + " verified pieces kept in the resume data; run again when the disk has room)");
        break;
      case outcome::seeded:
        out.finish(last, "stopped", {{"reason", stop_signal != 0 ? "interrupted" : "seeding done"}});
        if (out.human())
          std::printf("seeding stopped: %s uploaded, ratio %s\n", format_bytes(last ? last->uploaded : 0).c_str(),
                      format_ratio(last ? last->uploaded : 0, info.total_size).c_str());
        code = stop_signal != 0 ? exit_signal_base + stop_signal : exit_ok;
        break;
      case outcome::incomplete_seed:
        out.finish(last, "error", {{"error", "data incomplete"}});
        print_error("cannot seed: only " + std::to_string(last->pieces_have) + " of "
                    + std::to_string(last->pieces_total) + " pieces verify in " + opts.download_dir + " ("
                    + std::to_string(last->pieces_total - last->pieces_have) + " missing)");
        break;
      case outcome::complete:
        out.finish(last, "complete", complete_fields(last, clock_type::now() - start));
        if (out.human())
          std::printf("%s\n",
                      format_summary(info.name, selected_size, elapsed, last ? last->downloaded : 0).c_str());
        code = exit_ok;
        break;
      case outcome::interrupted:
        out.finish(last, "stopped", {{"reason", "interrupted"}});
        print_error(std::string{"interrupted ("} + (stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        code = exit_signal_base + stop_signal;
        break;
      case outcome::timed_out:
        out.finish(last, "stopped", {{"reason", "timed out"}});
        print_error("timed out after " + std::to_string(opts.timeout) + " s ("
                    + format_percent(last ? last->have_bytes : 0, info.total_size) + " done)");
        break;
      case outcome::failed:
        out.finish(last, "error", {{"error", failure}});
        print_error("the torrent failed: " + failure);
        break;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    // Shutting the system down waits for every actor; bound it.
    watchdog.emplace(code, shutdown_grace, "actorrent: warning: actors did not shut down within 5 s; exiting anyway");
  }
  watchdog.reset();
  return code;
}

} // namespace

namespace {

/// An option that sets the tunable `setting` (its value parsed with the
/// setting's units and bounds when the command runs).
void add_tunable_flag(CLI::App* cmd, download_cli& cli, const std::string& flag, const std::string& setting,
                      const std::string& help) {
  auto f = std::make_unique<download_cli::tunable_flag>();
  f->setting = setting;
  f->opt = cmd->add_option(flag, f->text, help);
  cli.tunable_flags.push_back(std::move(f));
}

// Options both commands share.
void add_common_options(CLI::App* cmd, download_cli& cli) {
  cli.port_opt = cmd->add_option("--port", cli.port, "Port to listen on and announce (default 6881; 0: any free port)")
                   ->check(CLI::Range(0, 65535));
  add_tunable_flag(cmd, cli, "--max-peers", "max_peers", "Most peers connected at once (default 50)");
  cli.peers_opt = cmd->add_option("--peer", cli.peers, "Peer to connect to, HOST:PORT or [IPv6]:PORT (repeatable)")
                    ->check([](const std::string& v) {
                      auto ok = check_peer_address(v);
                      return ok ? std::string{} : ok.error().message;
                    })
                    ->allow_extra_args(false); // one address per --peer: never swallow the file
  cmd->add_flag("--no-trackers", cli.no_trackers, "Do not contact the torrent's trackers (nor --tracker ones)");
  cli.trackers_opt = cmd->add_option("--tracker", cli.trackers,
                                     "Another tracker URL to announce to, after the torrent's own (repeatable)")
                       ->check([](const std::string& v) {
                         auto ok = check_tracker_url(v);
                         return ok ? std::string{} : ok.error().message;
                       })
                       ->allow_extra_args(false);
  cmd->add_flag("-q,--quiet", cli.quiet, "Print nothing but errors");
  cmd->add_flag("--json-progress", cli.json_progress,
                "Print one JSON object a second on stdout, and a final one with \"event\"");
  cmd->add_flag("-v,--verbose", cli.verbose, "Print settings, tracker, peer and hash-failure events");
  cmd->add_flag("--peers", cli.show_peers,
                "Show the peer list (address, client, rates, bytes, flags I incoming, S seed, i interested, "
                "U unchoked, s snubbed) every 5 s; with --json-progress, a \"peers\" event a second");
  cli.seed_ratio_opt = cmd->add_option("--seed-ratio", cli.seed_ratio, "Stop seeding at this upload/size ratio (0: never)")
                         ->check(CLI::Range(0.0, seed_ratio_limit));
  cli.seed_time_opt = cmd->add_option("--seed-time", cli.seed_time, "Stop seeding after this many seconds (0: never)")
                        ->check(CLI::Range(0u, timeout_limit));
  add_tunable_flag(cmd, cli, "--upload-slots", "upload_slots",
                   "Peers unchoked at once, besides one optimistic unchoke (default 4)");
  add_tunable_flag(cmd, cli, "--max-upload-rate", "max_upload_rate",
                   "Upload limit for the torrent in bytes/s, K/M/G suffixes (e.g. 5M; 0: none)");
  add_tunable_flag(cmd, cli, "--max-download-rate", "max_download_rate",
                   "Download limit for the torrent in bytes/s, K/M/G suffixes (e.g. 10M; 0: none)");
  cmd->add_option("--set", cli.sets,
                  "Set any tunable, NAME=VALUE with its unit (e.g. read_size=128K, choke_interval=5s); "
                  "repeatable; 'actorrent settings' lists them")
    ->allow_extra_args(false);
  cmd->add_flag("--recheck", cli.recheck,
                "Ignore the resume data and hash every piece at the start-up check (as aria2c's --check-integrity)");
  cmd->add_option("--wire-fault", cli.wire_fault,
                  "Lab option: misbehave on the peer wire on purpose, e.g. corrupt_blocks=20%,snub,seed=42,peer=NAME "
                  "(names as a lab plan's behavior; off by default)")
    ->check([](const std::string& v) {
      auto spec = logic::parse_wire_fault_spec(v);
      return spec ? std::string{} : spec.error().message;
    });
  cmd->add_option("--control", cli.control,
                  "Publish the swarm lab's control actor (BASP) on HOST:PORT (port 0: any, printed on stderr)")
    ->allow_extra_args(false);
  cmd->add_option("--disk-fault", cli.disk_fault,
                  "Inject disk faults into block writes, e.g. full_after=4MiB, write_errors=10%, errors_after=1MiB, "
                  "slow_writes=20ms (comma-separated)")
    ->allow_extra_args(false);
  cmd->add_option("--config", cli.config_file,
                  "YAML file with settings (download_dir, port, peers, use_trackers, trackers, quiet, json_progress, "
                  "verbose, show_peers, timeout, seed, seed_ratio, seed_time, select_file, and every name of 'actorrent settings'); "
                  "options given here override it");
}

} // namespace

command_runner add_download_command(CLI::App& parent) {
  auto cli = std::make_shared<download_cli>();
  auto* cmd = parent.add_subcommand("download", "Download a torrent and exit when it is complete (or seed on)");
  cmd->add_option("file", cli->torrent_file, "The .torrent file")->required();
  cli->dir_opt = cmd->add_option("-o,--dir", cli->dir, "Directory to save into (created if missing; default .)");
  add_common_options(cmd, *cli);
  cmd->add_flag("--seed", cli->seed, "Keep seeding after the download (until --seed-ratio/--seed-time or Ctrl-C)");
  cli->select_file_opt = cmd->add_option("--select-file", cli->select_file,
                                         "Download only these files, numbered as 'actorrent info' lists them "
                                         "(e.g. 1,3-5); the others are not written")
                           ->allow_extra_args(false);
  cmd->add_flag("--force", cli->force,
                "Write into existing files even when no resume data or verified piece says they are this torrent's");
  cli->timeout_opt = cmd->add_option("--timeout", cli->timeout, "Stop and fail if not complete after this many seconds (0: never)")
                       ->check(CLI::Range(0u, timeout_limit));
  return [cli] { return run_download(*cli); };
}

command_runner add_seed_command(CLI::App& parent) {
  auto cli = std::make_shared<download_cli>();
  cli->seed_mode = true;
  auto* cmd = parent.add_subcommand("seed", "Check a torrent's data, then seed it (until Ctrl-C, --seed-ratio or --seed-time)");
  cmd->add_option("file", cli->torrent_file, "The .torrent file")->required();
  cli->dir_opt = cmd->add_option("dir", cli->dir, "Directory holding the data (as given to download -o)")->required();
  add_common_options(cmd, *cli);
  cli->timeout_opt = cmd->add_option("--timeout", cli->timeout,
                                     "Fail if checking the data takes longer than this many seconds (0: never; "
                                     "use --seed-time to stop seeding after a time)")
                       ->check(CLI::Range(0u, timeout_limit));
  return [cli] { return run_download(*cli); };
}

} // namespace actorrent::app
