#include "lab/docker_backend.hpp"

#include "lab/units.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace actorrent::lab {

namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!trimmed(line).empty())
      out.push_back(trimmed(line));
  return out;
}

/// Whether any fault or the peer's own link asks for tc or iptables at `peer`.
bool needs_network_admin(const resolved_plan& rp, std::size_t peer) {
  if (!rp.peers[peer].link.empty())
    return true;
  for (const auto& f : rp.faults) {
    switch (f.kind) {
      case fault_kind::partition:
      case fault_kind::blackhole:
      case fault_kind::delay:
      case fault_kind::loss:
      case fault_kind::rate:
        if (std::find(f.targets.begin(), f.targets.end(), peer) != f.targets.end()
            || std::find(f.other.begin(), f.other.end(), peer) != f.other.end())
          return true;
        break;
      case fault_kind::pause:
      case fault_kind::churn:
        break;
    }
  }
  return false;
}

/// The gateway Docker puts on its side of the network: the last host address of
/// the plan's subnet, so the tracker can have the bridge address (.0.1).
std::string gateway_of(const resolved_plan& rp) {
  auto a = rp.bridge_address;
  auto dot = a.find('.', a.find('.') + 1); // "10.77" of "10.77.0.1" (a /16)
  return a.substr(0, dot) + ".255.254";
}

argv_t tbf_args(std::uint64_t bits) {
  auto burst = std::max<std::uint64_t>(bits / 8 / 50, 32 * 1024);
  return {"tbf", "rate", tc_rate(bits), "burst", std::to_string(burst), "latency", "200ms"};
}

// ---- one peer's container --------------------------------------------------------

/// A peer run as a container: the `docker run` client in the foreground (its
/// stdout, the peer's JSON progress, appended to the peer's file), stopped with
/// `docker kill -s INT`, paused with `docker pause`, churned with `docker kill` and
/// `docker start -a`. Peak memory: VmHWM of the container's first process (the
/// peer itself: no init process), read through its PID on this machine.
class docker_driver : public peer_driver {
public:
  docker_driver(std::string name, argv_t run_argv, std::string out_file, std::string err_file)
    : name_(std::move(name)), run_argv_(std::move(run_argv)), out_file_(std::move(out_file)),
      err_file_(std::move(err_file)) {}
  ~docker_driver() override { stop(); }

  status start() override {
    argv_t argv = made_ ? argv_t{"docker", "start", "-a", name_} : run_argv_;
    std::string err;
    if (!client_.start(argv, out_file_, err_file_, err))
      return make_error(err);
    made_ = true;
    killed_by_us_ = paused_ = stop_sent_ = false;
    host_pid_ = -1;
    return {};
  }

  void request_stop() override {
    if (client_.pid <= 0 || stop_sent_)
      return;
    stopping_ = true;
    if (client_.poll()) {
      note_rss();
      if (paused_)
        docker({"unpause", name_});
      docker({"kill", "-s", "INT", name_});
      stop_sent_ = true;
    }
  }

  void stop() override {
    if (client_.pid <= 0)
      return;
    stopping_ = true;
    if (client_.poll()) {
      request_stop();
      // past actorrent's own 5 s shutdown watchdog
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
      while (client_.poll() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (client_.poll()) {
        forced_ = true;
        docker({"kill", name_});
      }
      client_.stop(0, std::chrono::seconds(5));
      auto code = exit_code();
      if (!forced_ && code > 128 && code != 128 + SIGINT && code != 128 + SIGKILL && !crash_)
        crash_ = "killed by signal " + std::to_string(code - 128) + " while stopping";
    } else {
      check_exit();
    }
    read_json_lines(out_file_, offset_, partial_, last_);
  }

  void pause(bool on) override {
    if (!client_.poll())
      return;
    if (docker({on ? "pause" : "unpause", name_}).exit_code == 0)
      paused_ = on;
  }

  void kill() override {
    if (!client_.poll())
      return;
    note_rss();
    killed_by_us_ = true;
    docker({"kill", name_});
    client_.stop(0, std::chrono::seconds(10));
  }

  status restart() override {
    if (client_.poll())
      return make_error("still running");
    return start();
  }

  peer_sample sample() override {
    peer_sample s;
    read_json_lines(out_file_, offset_, partial_, last_);
    s.running = client_.poll();
    check_exit();
    if (s.running && !paused_) {
      if (host_pid_ <= 0) {
        auto r = docker({"inspect", "-f", "{{.State.Pid}}", name_});
        auto text = trimmed(r.output);
        if (r.exit_code == 0 && !text.empty() && text.find_first_not_of("0123456789") == std::string::npos
            && text.size() < 10)
          host_pid_ = static_cast<pid_t>(std::stol(text));
      }
      s.rss_bytes = note_rss();
    }
    s.paused = paused_ && s.running;
    s.progress = last_;
    return s;
  }

  std::optional<std::string> crash() const override { return crash_; }
  std::optional<std::uint64_t> peak_rss() const override { return peak_rss_; }
  bool forced() const override { return forced_; }

private:
  static command_result docker(argv_t args) {
    args.insert(args.begin(), "docker");
    return run_command(args, std::chrono::seconds(20));
  }

  std::optional<std::uint64_t> note_rss() {
    if (host_pid_ <= 0)
      return std::nullopt;
    auto rss = read_peak_rss(host_pid_);
    if (rss && (!peak_rss_ || *rss > *peak_rss_))
      peak_rss_ = rss;
    return rss;
  }

  /// The client's exit code, which is the container's (128 + N: killed by signal N).
  int exit_code() const {
    if (!client_.exited)
      return -1;
    if (WIFEXITED(client_.status))
      return WEXITSTATUS(client_.status);
    return 128 + WTERMSIG(client_.status);
  }

  void check_exit() {
    if (client_.pid <= 0 || client_.poll() || killed_by_us_ || stopping_ || crash_)
      return;
    auto code = exit_code();
    if (code == 0)
      return;
    if (code >= 125 && code <= 127)
      crash_ = "docker could not run the container (exit " + std::to_string(code) + ", see " + err_file_ + ")";
    else if (code > 128)
      crash_ = "killed by signal " + std::to_string(code - 128);
    else
      crash_ = "exited with status " + std::to_string(code) + " before the end of the run";
  }

  std::string name_;
  argv_t run_argv_;
  std::string out_file_, err_file_;
  child_process client_;
  bool made_ = false, paused_ = false, killed_by_us_ = false, stopping_ = false, stop_sent_ = false, forced_ = false;
  pid_t host_pid_ = -1;
  std::optional<std::string> crash_;
  std::optional<std::uint64_t> peak_rss_;
  std::uint64_t offset_ = 0;
  std::string partial_;
  std::optional<nlohmann::json> last_;
};

} // namespace

// ---- the backend -----------------------------------------------------------------

docker_backend::docker_backend(const resolved_plan& rp, const backend_options& opt, std::string run_id,
                               command_sink run)
  : rp_(rp), opt_(opt), run_id_(std::move(run_id)), network_(std::string{lab_prefix} + run_id_),
    run_(std::move(run)) {
  holder_.resize(rp_.peers.size());
  for (std::size_t i = 0; i < rp_.peers.size(); ++i)
    holder_[i] = needs_network_admin(rp_, i);
  current_.assign(rp_.peers.size(), link_spec{});
  ifb_.assign(rp_.peers.size(), false);
  loss_rule_.assign(rp_.peers.size(), argv_t{});
}

docker_backend::~docker_backend() { teardown(); }

std::string docker_backend::container(std::size_t peer) const { return network_ + "-" + rp_.peers[peer].name; }

std::string docker_backend::holder(std::size_t peer) const { return container(peer) + "-net"; }

argv_t docker_backend::labels() const {
  return {"--label", std::string{docker_lab_label} + "=1", "--label", std::string{docker_run_label} + "=" + run_id_};
}

status docker_backend::must(const argv_t& argv) {
  auto r = run_(argv);
  if (r.exit_code != 0)
    return make_error("`" + printable(argv) + "` failed (" + std::to_string(r.exit_code) + "): " + trimmed(r.output));
  return {};
}

argv_t docker_backend::in_holder(std::size_t peer, const argv_t& argv) const {
  argv_t v{"docker", "exec", holder(peer)};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

status docker_backend::build() {
  bool any_holder = std::find(holder_.begin(), holder_.end(), true) != holder_.end();
  for (const auto& image : {opt_.image, any_holder ? opt_.lab_image : std::string{}}) {
    if (image.empty())
      continue;
    if (run_({"docker", "image", "inspect", "-f", "{{.Id}}", image}).exit_code != 0)
      return make_error("no Docker image " + image
                        + " (build it: scripts/docker-base.sh where nothing can be pulled, then docker-compose build;"
                          " see deploy/README.md)");
  }
  argv_t net{"docker", "network", "create", "--driver", "bridge", "--internal", "--subnet", rp_.subnet, "--gateway",
             gateway_of(rp_)};
  auto l = labels();
  net.insert(net.end(), l.begin(), l.end());
  net.push_back(network_);
  if (auto ok = must(net); !ok)
    return make_error(ok.error().message + " (another docker lab run, or a Docker network on " + rp_.subnet
                      + "? `actorrent lab cleanup` removes what a lab run left)");
  made_network_ = true;
  for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
    if (!holder_[i])
      continue;
    argv_t h{"docker", "run", "-d", "--name", holder(i)};
    h.insert(h.end(), l.begin(), l.end());
    h.insert(h.end(), {"--network", network_, "--ip", rp_.peers[i].address, "--hostname", rp_.peers[i].name,
                       "--cap-add", "NET_ADMIN", "--user", "0", "--entrypoint", "sleep", opt_.lab_image, "infinity"});
    if (auto ok = must(h); !ok)
      return ok;
    if (i == static_cast<std::size_t>(std::find(holder_.begin(), holder_.end(), true) - holder_.begin())) {
      // some kernels are built without netem: probe on the holder's loopback
      netem_ = run_(in_holder(i, {"tc", "qdisc", "replace", "dev", "lo", "root", "netem", "delay", "1ms"})).exit_code
               == 0;
      if (netem_)
        run_(in_holder(i, {"tc", "qdisc", "del", "dev", "lo", "root"}));
      auto needs_netem = [](const link_spec& s) { return s.delay_ms || s.jitter_ms; };
      if (!netem_) {
        for (auto& peer : rp_.peers)
          if (needs_netem(peer.link))
            return make_error(peer.name + ": link delay/jitter needs the netem qdisc, which this kernel lacks "
                              "(CONFIG_NET_SCH_NETEM); rate and loss work without it");
        for (auto& f : rp_.faults)
          if (needs_netem(f.link))
            return make_error("fault " + std::to_string(f.index) + ": delay/jitter needs the netem qdisc, which this "
                              "kernel lacks (CONFIG_NET_SCH_NETEM); rate and loss work without it");
      }
    }
    if (!rp_.peers[i].link.empty())
      if (auto ok = set_link(i, rp_.peers[i].link); !ok)
        return ok;
  }
  return {};
}

argv_t docker_backend::tracker_command(const argv_t& argv) {
  // opentracker chroots into its folder (-d) and drops to nobody: root inside,
  // with Docker's default capabilities; --init passes the runner's SIGTERM on.
  argv_t v{"docker", "run", "--name", network_ + "-tracker", "--init"};
  auto l = labels();
  v.insert(v.end(), l.begin(), l.end());
  v.insert(v.end(), {"--network", network_, "--ip", rp_.bridge_address, "--hostname", "tracker", "--user", "0",
                     "--tmpfs", "/config", "--tmpfs", "/downloads"});
  // every absolute path in the command is mounted (read-only) where it is
  for (std::size_t i = 1; i < argv.size(); ++i)
    if (!argv[i].empty() && argv[i][0] == '/')
      v.insert(v.end(), {"-v", argv[i] + ":" + argv[i] + ":ro"});
  v.insert(v.end(), {"--entrypoint", argv.at(0), opt_.image});
  v.insert(v.end(), argv.begin() + 1, argv.end());
  return v;
}

status docker_backend::tracker_ready() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto r = run_({"docker", "inspect", "-f", "{{.State.Running}}", network_ + "-tracker"});
    if (r.exit_code == 0 && trimmed(r.output) == "true")
      return {};
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("the tracker's container " + network_ + "-tracker did not run within 30 s: " + trimmed(r.output));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

argv_t docker_backend::peer_run_command(std::size_t peer, const argv_t& argv) const {
  const auto& p = rp_.peers[peer];
  auto dir = fs::path(opt_.out_dir);
  auto pdir = dir / "peers" / p.name;
  argv_t v{"docker", "run", "--name", container(peer)};
  auto l = labels();
  v.insert(v.end(), l.begin(), l.end());
  if (holder_[peer])
    v.insert(v.end(), {"--network", "container:" + holder(peer)});
  else
    v.insert(v.end(), {"--network", network_, "--ip", p.address, "--hostname", p.name});
  // the image's user where the runner is root (the peer's folder is handed to it);
  // the runner's own user otherwise, so the files stay the runner's
  std::string user = ::geteuid() == 0 ? "10001:10001" : std::to_string(::geteuid()) + ":" + std::to_string(::getegid());
  v.insert(v.end(), {"--user", user, "--tmpfs", "/config", "--tmpfs", "/downloads", "-v",
                     dir.string() + ":" + dir.string() + ":ro", "-v", pdir.string() + ":" + pdir.string()});
  // the runner names its own binary; the container runs the image's
  std::string entry = argv.at(0) == opt_.actorrent ? std::string{"actorrent"} : argv.at(0);
  v.insert(v.end(), {"--entrypoint", entry, opt_.image});
  v.insert(v.end(), argv.begin() + 1, argv.end());
  return v;
}

std::unique_ptr<peer_driver> docker_backend::make_peer(std::size_t peer, const argv_t& argv,
                                                       const std::string& out_file, const std::string& err_file) {
  if (::geteuid() == 0) { // the image's user (10001) writes the peer's folder
    auto pdir = fs::path(opt_.out_dir) / "peers" / rp_.peers[peer].name;
    std::error_code ec;
    [[maybe_unused]] int r = ::chown(pdir.c_str(), 10001, 10001);
    for (auto& e : fs::recursive_directory_iterator(pdir, ec))
      r = ::lchown(e.path().c_str(), 10001, 10001);
  }
  return std::make_unique<docker_driver>(container(peer), peer_run_command(peer, argv), out_file, err_file);
}

argv_t docker_backend::on_lab_network(const argv_t& argv) {
  argv_t v{"docker", "run", "--rm", "--init"};
  auto l = labels();
  v.insert(v.end(), l.begin(), l.end());
  v.insert(v.end(), {"--network", network_, "--entrypoint", argv.at(0), opt_.image});
  v.insert(v.end(), argv.begin() + 1, argv.end());
  return v;
}

status docker_backend::set_link(std::size_t peer, const link_spec& l) {
  if (!holder_.at(peer))
    return make_error(rp_.peers[peer].name + " has no network holder (internal error: its link was not planned)");
  const auto before = current_[peer];
  // the peer's egress
  argv_t egress;
  if (netem_)
    egress = netem_args(l);
  else if (l.rate_bits)
    egress = tbf_args(*l.rate_bits);
  if (!egress.empty()) {
    argv_t cmd{"tc", "qdisc", "replace", "dev", "eth0", "root"};
    cmd.insert(cmd.end(), egress.begin(), egress.end());
    if (auto ok = must(in_holder(peer, cmd)); !ok)
      return ok;
  } else if (!before.empty()) {
    run_(in_holder(peer, {"tc", "qdisc", "del", "dev", "eth0", "root"})); // none there is fine
  }
  // loss without netem: a random drop of outgoing packets
  if (!netem_ && before.loss_ppm != l.loss_ppm) {
    if (!loss_rule_[peer].empty()) {
      argv_t del = loss_rule_[peer];
      del.insert(del.begin() + 5, "-D"); // after "docker exec H iptables -w"
      if (auto ok = must(del); !ok)
        return ok;
      loss_rule_[peer].clear();
    }
    if (l.loss_ppm && *l.loss_ppm > 0) {
      auto prob = std::to_string(static_cast<double>(*l.loss_ppm) / 1e6);
      auto rule = in_holder(peer, {"iptables", "-w", "OUTPUT", "!", "-o", "lo", "-m", "statistic", "--mode", "random",
                                   "--probability", prob, "-j", "DROP"});
      argv_t add = rule;
      add.insert(add.begin() + 5, "-I");
      if (auto ok = must(add); !ok)
        return ok;
      loss_rule_[peer] = rule;
    }
  }
  current_[peer] = l;
  // the peer's ingress: there is no bridge side of its own to shape here, so the
  // packets eth0 receives are redirected through an ifb device, shaped on its egress
  if (l.rate_bits) {
    if (!ifb_[peer]) {
      for (auto& cmd : std::vector<argv_t>{
             {"ip", "link", "add", "ifb0", "type", "ifb"},
             {"ip", "link", "set", "ifb0", "up"},
             {"tc", "qdisc", "replace", "dev", "eth0", "handle", "ffff:", "ingress"},
             {"tc", "filter", "replace", "dev", "eth0", "parent", "ffff:", "protocol", "all", "u32", "match", "u32",
              "0", "0", "action", "mirred", "egress", "redirect", "dev", "ifb0"}})
        if (auto ok = must(in_holder(peer, cmd)); !ok)
          return ok;
      ifb_[peer] = true;
    }
    argv_t cmd{"tc", "qdisc", "replace", "dev", "ifb0", "root"};
    auto t = tbf_args(*l.rate_bits);
    cmd.insert(cmd.end(), t.begin(), t.end());
    return must(in_holder(peer, cmd));
  }
  if (before.rate_bits && ifb_[peer])
    run_(in_holder(peer, {"tc", "qdisc", "del", "dev", "ifb0", "root"}));
  return {};
}

std::uint64_t docker_backend::drops(std::size_t peer, const std::string& chain, int column, const std::string& value) {
  auto r = run_(in_holder(peer, {"iptables", "-w", "-L", chain, "-v", "-x", "-n"}));
  return r.exit_code == 0 ? count_drops(r.output, column, value) : 0;
}

status docker_backend::block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  const auto& a = rp_.peers[from].address;
  const auto& b = rp_.peers[to].address;
  if (!on && dropped != nullptr)
    *dropped += drops(from, "OUTPUT", drop_column::destination, b) + drops(to, "INPUT", drop_column::source, a);
  if (auto ok = must(in_holder(from, {"iptables", "-w", op, "OUTPUT", "-d", b, "-j", "DROP"})); !ok)
    return ok;
  return must(in_holder(to, {"iptables", "-w", op, "INPUT", "-s", a, "-j", "DROP"}));
}

status docker_backend::blackhole(std::size_t peer, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  if (!on && dropped != nullptr)
    *dropped += drops(peer, "INPUT", drop_column::in, "!lo") + drops(peer, "OUTPUT", drop_column::out, "!lo");
  if (auto ok = must(in_holder(peer, {"iptables", "-w", op, "INPUT", "!", "-i", "lo", "-j", "DROP"})); !ok)
    return ok;
  return must(in_holder(peer, {"iptables", "-w", op, "OUTPUT", "!", "-o", "lo", "-j", "DROP"}));
}

std::string docker_backend::teardown() {
  std::string problems;
  auto filter = "label=" + std::string{docker_run_label} + "=" + run_id_;
  auto ids = run_({"docker", "ps", "-aq", "--filter", filter});
  auto list = lines_of(ids.output);
  if (ids.exit_code == 0 && !list.empty()) {
    argv_t rm{"docker", "rm", "-f", "-v"};
    rm.insert(rm.end(), list.begin(), list.end());
    if (auto r = run_(rm); r.exit_code != 0)
      problems += "docker rm: " + trimmed(r.output) + "\n";
  }
  if (made_network_) {
    if (auto r = run_({"docker", "network", "rm", network_}); r.exit_code != 0)
      problems += "docker network rm " + network_ + ": " + trimmed(r.output) + "\n";
    made_network_ = false;
  }
  auto vols = run_({"docker", "volume", "ls", "-q", "--filter", filter});
  for (auto& v : lines_of(vols.output))
    if (auto r = run_({"docker", "volume", "rm", "-f", v}); r.exit_code != 0)
      problems += "docker volume rm " + v + ": " + trimmed(r.output) + "\n";
  return problems;
}

void docker_backend::describe(std::ostream& out) {
  out << "\nnetwork (Docker network " << network_ << ", internal, " << rp_.subnet << ", gateway " << gateway_of(rp_)
      << "; NET_ADMIN holders for:";
  std::size_t n = 0;
  for (std::size_t i = 0; i < rp_.peers.size(); ++i)
    if (holder_[i]) {
      out << " " << rp_.peers[i].name;
      ++n;
    }
  out << (n == 0 ? " none)\n" : ")\n");
  build();
}

std::string cleanup_docker_labs() {
  if (run_command({"sh", "-c", "command -v docker"}).exit_code != 0)
    return {};
  if (run_command({"docker", "info", "-f", "{{.ID}}"}, std::chrono::seconds(20)).exit_code != 0)
    return {};
  std::string report;
  auto filter = "label=" + std::string{docker_lab_label} + "=1";
  for (auto& id : lines_of(run_command({"docker", "ps", "-aq", "--filter", filter}).output)) {
    auto r = run_command({"docker", "rm", "-f", "-v", id});
    report += "removed container " + id + (r.exit_code == 0 ? "" : ": FAILED: " + trimmed(r.output)) + "\n";
  }
  for (auto& id : lines_of(run_command({"docker", "network", "ls", "-q", "--filter", filter}).output)) {
    auto r = run_command({"docker", "network", "rm", id});
    report += "removed network " + id + (r.exit_code == 0 ? "" : ": FAILED: " + trimmed(r.output)) + "\n";
  }
  for (auto& id : lines_of(run_command({"docker", "volume", "ls", "-q", "--filter", filter}).output)) {
    auto r = run_command({"docker", "volume", "rm", "-f", id});
    report += "removed volume " + id + (r.exit_code == 0 ? "" : ": FAILED: " + trimmed(r.output)) + "\n";
  }
  return report;
}

} // namespace actorrent::lab
