#include "lab/docker_backend.hpp"

#include "lab/units.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
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
      case fault_kind::reset:      // iptables; refused on docker (backend_unsupported_parts)
      case fault_kind::burst_loss: // likewise
        if (std::find(f.targets.begin(), f.targets.end(), peer) != f.targets.end()
            || std::find(f.other.begin(), f.other.end(), peer) != f.other.end())
          return true;
        break;
      case fault_kind::pause:
      case fault_kind::churn:
      case fault_kind::wire: // in the peer's own process, over BASP
      case fault_kind::disk:
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
  docker_driver(std::string name, argv_t run_argv, std::string out_file, std::string err_file, std::string cid_file)
    : name_(std::move(name)), run_argv_(std::move(run_argv)), out_file_(std::move(out_file)),
      err_file_(std::move(err_file)), cid_file_(std::move(cid_file)) {}
  ~docker_driver() override { stop(); }

  status start() override {
    argv_t argv = made_ ? argv_t{"docker", "start", "-a", name_} : run_argv_;
    std::string err;
    if (!made_)
      ::unlink(cid_file_.c_str()); // docker run --cidfile refuses an existing file
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
      // in the background: many peers are asked at once, each docker call takes a while
      std::string err;
      killer_.start({"docker", "kill", "-s", "INT", name_}, "", "", err);
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
      killer_.stop(0, std::chrono::seconds(5));
      auto code = exit_code();
      if (!forced_ && code > 128 && code != 128 + SIGINT && code != 128 + SIGKILL && !crash_)
        crash_ = "killed by signal " + std::to_string(code - 128) + " while stopping";
    } else {
      check_exit();
    }
    read_json_lines(out_file_, offset_, partial_, last_);
  }

  bool running() override { return client_.pid > 0 && client_.poll(); }

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
      if (host_pid_ <= 0)
        host_pid_ = first_process();
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
  /// The container's first process on this machine: from its cgroup (the id
  /// that `docker run --cidfile` wrote; cgroup v1 or v2, cgroupfs or systemd
  /// driver), else from `docker inspect` (at most every 5th call: it is slow).
  pid_t first_process() {
    std::ifstream cid_in(cid_file_);
    std::string id;
    cid_in >> id;
    if (id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos) {
      for (const auto& dir : {"/sys/fs/cgroup/pids/docker/" + id, "/sys/fs/cgroup/memory/docker/" + id,
                              "/sys/fs/cgroup/system.slice/docker-" + id + ".scope", "/sys/fs/cgroup/docker/" + id}) {
        std::ifstream procs(dir + "/cgroup.procs");
        long pid = 0;
        if (procs >> pid && pid > 1)
          return static_cast<pid_t>(pid);
      }
    }
    if (inspect_calls_++ % 5 != 0)
      return -1;
    auto r = docker({"inspect", "-f", "{{.State.Pid}}", name_});
    auto text = trimmed(r.output);
    if (r.exit_code == 0 && !text.empty() && text.size() < 10 && text.find_first_not_of("0123456789") == std::string::npos)
      return static_cast<pid_t>(std::stol(text));
    return -1;
  }

  static command_result docker(argv_t args) {
    args.insert(args.begin(), "docker");
    return run_command(args, std::chrono::seconds(20));
  }

  std::optional<std::uint64_t> note_rss() {
    if (host_pid_ <= 0)
      return std::nullopt;
    auto rss = read_peak_rss(host_pid_);
    if (!rss) {
      host_pid_ = -1; // gone or not readable: looked up again at the next sample
      return std::nullopt;
    }
    if (!peak_rss_ || *rss > *peak_rss_)
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
  std::string out_file_, err_file_, cid_file_;
  child_process client_, killer_;
  unsigned inspect_calls_ = 0;
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
  // containers without a plan address (the tracker probe, a coordinator) get one
  // from x.y.254.0/24, which no peer has (1000 peers at most: up to x.y.3.233)
  auto gw = gateway_of(rp_);
  argv_t net{"docker", "network", "create", "--driver", "bridge", "--internal", "--subnet", rp_.subnet, "--ip-range",
             gw.substr(0, gw.rfind(".255.254")) + ".254.0/24", "--gateway", gw};
  auto l = labels();
  net.insert(net.end(), l.begin(), l.end());
  net.push_back(network_);
  if (auto ok = must(net); !ok)
    return make_error(ok.error().message + " (another docker lab run, or a Docker network on " + rp_.subnet
                      + "? `actorrent lab cleanup` removes what a lab run left)");
  made_network_ = true;
  if (auto ok = make_coordinator_holder(); !ok)
    return ok;
  // the holders, side by side
  std::vector<argv_t> holders;
  for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
    if (!holder_[i])
      continue;
    argv_t h{"docker", "run", "-d", "--name", holder(i)};
    h.insert(h.end(), l.begin(), l.end());
    h.insert(h.end(), {"--network", network_, "--ip", rp_.peers[i].address, "--hostname", rp_.peers[i].name,
                       "--cap-add", "NET_ADMIN", "--user", "0", "--entrypoint", "sleep", opt_.lab_image, "infinity"});
    holders.push_back(std::move(h));
  }
  auto made = run_all(holders);
  for (std::size_t k = 0; k < holders.size(); ++k)
    if (made[k].exit_code != 0)
      return make_error("`" + printable(holders[k]) + "` failed (" + std::to_string(made[k].exit_code)
                        + "): " + trimmed(made[k].output));
  if (!any_holder)
    return {};
  // some kernels are built without netem: probe on the first holder's loopback
  auto first = static_cast<std::size_t>(std::find(holder_.begin(), holder_.end(), true) - holder_.begin());
  netem_ = run_(in_holder(first, {"tc", "qdisc", "replace", "dev", "lo", "root", "netem", "delay", "1ms"})).exit_code
           == 0;
  if (netem_)
    run_(in_holder(first, {"tc", "qdisc", "del", "dev", "lo", "root"}));
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
  for (std::size_t i = 0; i < rp_.peers.size(); ++i)
    if (holder_[i] && !rp_.peers[i].link.empty())
      if (auto ok = set_link(i, rp_.peers[i].link); !ok)
        return ok;
  return commit(); // every holder's shaping, side by side
}

status docker_backend::make_coordinator_holder() {
  argv_t h{"docker", "run", "-d", "--name", coordinator_holder()};
  auto l = labels();
  h.insert(h.end(), l.begin(), l.end());
  h.insert(h.end(), {"--network", network_, "--ip", rp_.bridge_address, "--hostname", "coordinator", "--entrypoint",
                     "sleep", opt_.image, "infinity"});
  if (auto ok = must(h); !ok)
    return ok;
  if (::geteuid() != 0) // setns needs CAP_SYS_ADMIN: no coordinator (see the header)
    return {};
  if (opt_.dry_run) {
    run_({"docker", "inspect", "-f", "{{.State.Pid}}", coordinator_holder()});
    coord_netns_ = "/proc/<PID of " + coordinator_holder() + ">/ns/net";
    return {};
  }
  auto r = run_({"docker", "inspect", "-f", "{{.State.Pid}}", coordinator_holder()});
  auto pid = trimmed(r.output);
  if (r.exit_code != 0 || pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos
      || pid == "0")
    return make_error("cannot find the process of " + coordinator_holder() + " (docker inspect: " + pid + ")");
  coord_netns_ = "/proc/" + pid + "/ns/net";
  return {};
}

argv_t docker_backend::tracker_command(const argv_t& argv) {
  // opentracker chroots into its folder (-d) and drops to nobody: root inside,
  // with Docker's default capabilities; --init passes the runner's SIGTERM on.
  // It shares the coordinator holder's network (the bridge address).
  argv_t v{"docker", "run", "--name", network_ + "-tracker", "--init"};
  auto l = labels();
  v.insert(v.end(), l.begin(), l.end());
  v.insert(v.end(), {"--network", "container:" + coordinator_holder(), "--user", "0", "--tmpfs", "/config", "--tmpfs",
                     "/downloads"});
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
      break;
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("the tracker's container " + network_ + "-tracker did not run within 30 s: " + trimmed(r.output));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // running is not yet answering: the peers' first announce must not time out,
  // so wait until a container on the lab network can connect to it
  auto target = "/dev/tcp/" + rp_.bridge_address + "/" + std::to_string(rp_.tracker_port);
  argv_t probe{"docker", "run", "--rm"};
  auto l = labels();
  probe.insert(probe.end(), l.begin(), l.end());
  probe.insert(probe.end(), {"--network", network_, "--entrypoint", "bash", opt_.image, "-c",
                             "for i in $(seq 150); do (exec 3<>" + target
                               + ") 2>/dev/null && exit 0; sleep 0.2; done; exit 1"});
  auto r = run_command(probe, std::chrono::seconds(60));
  if (r.exit_code != 0)
    return make_error("the tracker at " + rp_.bridge_address + ":" + std::to_string(rp_.tracker_port)
                      + " did not answer a container on the lab network within 30 s: " + trimmed(r.output));
  return {};
}

argv_t docker_backend::peer_run_command(std::size_t peer, const argv_t& argv) const {
  const auto& p = rp_.peers[peer];
  auto dir = fs::path(opt_.out_dir);
  auto pdir = dir / "peers" / p.name;
  argv_t v{"docker", "run", "--name", container(peer), "--cidfile", (dir / "peers" / (p.name + ".cid")).string()};
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
  return std::make_unique<docker_driver>(container(peer), peer_run_command(peer, argv), out_file, err_file,
                                         (fs::path(opt_.out_dir) / "peers" / (rp_.peers[peer].name + ".cid")).string());
}

argv_t docker_backend::on_lab_network(const argv_t& argv) {
  argv_t v{"docker", "run", "--rm", "--init"};
  auto l = labels();
  v.insert(v.end(), l.begin(), l.end());
  v.insert(v.end(), {"--network", network_, "--entrypoint", argv.at(0), opt_.image});
  v.insert(v.end(), argv.begin() + 1, argv.end());
  return v;
}

void docker_backend::queue(std::size_t peer, argv_t argv, bool optional) {
  queued_[peer].push_back({std::move(argv), optional});
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
    queue(peer, cmd);
  } else if (!before.empty()) {
    queue(peer, {"tc", "qdisc", "del", "dev", "eth0", "root"}, true); // none there is fine
  }
  // loss without netem: a random drop of outgoing packets
  if (!netem_ && before.loss_ppm != l.loss_ppm) {
    if (!loss_rule_[peer].empty()) {
      argv_t del = loss_rule_[peer];
      del.insert(del.begin() + 2, "-D"); // after "iptables -w"
      queue(peer, del);
      loss_rule_[peer].clear();
    }
    if (l.loss_ppm && *l.loss_ppm > 0) {
      auto prob = std::to_string(static_cast<double>(*l.loss_ppm) / 1e6);
      argv_t rule{"iptables", "-w", "OUTPUT", "!", "-o", "lo", "-m", "statistic", "--mode", "random",
                  "--probability", prob, "-j", "DROP"};
      argv_t add = rule;
      add.insert(add.begin() + 2, "-I");
      queue(peer, add);
      loss_rule_[peer] = rule;
    }
  }
  current_[peer] = l;
  // the peer's ingress: there is no bridge side of its own to shape here, so the
  // packets eth0 receives are redirected through an ifb device, shaped on its egress
  if (l.rate_bits) {
    if (!ifb_[peer]) {
      queue(peer, {"ip", "link", "add", "ifb0", "type", "ifb"});
      queue(peer, {"ip", "link", "set", "ifb0", "up"});
      queue(peer, {"tc", "qdisc", "replace", "dev", "eth0", "handle", "ffff:", "ingress"});
      queue(peer, {"tc", "filter", "replace", "dev", "eth0", "parent", "ffff:", "protocol", "all", "u32", "match",
                   "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "ifb0"});
      ifb_[peer] = true;
    }
    argv_t cmd{"tc", "qdisc", "replace", "dev", "ifb0", "root"};
    auto t = tbf_args(*l.rate_bits);
    cmd.insert(cmd.end(), t.begin(), t.end());
    queue(peer, cmd);
  } else if (before.rate_bits && ifb_[peer]) {
    queue(peer, {"tc", "qdisc", "del", "dev", "ifb0", "root"}, true);
  }
  return {};
}

status docker_backend::block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  const auto& a = rp_.peers[from].address;
  const auto& b = rp_.peers[to].address;
  if (!on && dropped != nullptr) { // read before the rules go (commit reads first)
    reads_.push_back({from, "OUTPUT", drop_column::destination, b, dropped});
    reads_.push_back({to, "INPUT", drop_column::source, a, dropped});
  }
  queue(from, {"iptables", "-w", op, "OUTPUT", "-d", b, "-j", "DROP"});
  queue(to, {"iptables", "-w", op, "INPUT", "-s", a, "-j", "DROP"});
  return {};
}

status docker_backend::blackhole(std::size_t peer, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  if (!on && dropped != nullptr) {
    reads_.push_back({peer, "INPUT", drop_column::in, "!lo", dropped});
    reads_.push_back({peer, "OUTPUT", drop_column::out, "!lo", dropped});
  }
  queue(peer, {"iptables", "-w", op, "INPUT", "!", "-i", "lo", "-j", "DROP"});
  queue(peer, {"iptables", "-w", op, "OUTPUT", "!", "-o", "lo", "-j", "DROP"});
  return {};
}

namespace {

/// The lines of chain `chain` in an `iptables -L -v -x -n` listing of every chain.
std::string chain_section(const std::string& listing, const std::string& chain) {
  auto at = listing.find("Chain " + chain + " ");
  if (at == std::string::npos)
    return {};
  auto next = listing.find("\nChain ", at);
  return listing.substr(at, next == std::string::npos ? std::string::npos : next - at);
}

} // namespace

std::vector<command_result> docker_backend::run_all(const std::vector<argv_t>& cmds) {
  std::vector<command_result> out(cmds.size());
  if (opt_.dry_run) { // printed in order
    for (std::size_t i = 0; i < cmds.size(); ++i)
      out[i] = run_(cmds[i]);
    return out;
  }
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < cmds.size(); ++i)
    workers.emplace_back([this, &cmds, &out, i] { out[i] = run_(cmds[i]); });
  for (auto& w : workers)
    w.join();
  return out;
}

status docker_backend::commit() {
  // 1. what the rules about to go have dropped: one listing per holder
  std::vector<std::size_t> listed;
  for (auto& r : reads_)
    if (std::find(listed.begin(), listed.end(), r.peer) == listed.end())
      listed.push_back(r.peer);
  std::vector<argv_t> cmds;
  for (auto peer : listed)
    cmds.push_back(in_holder(peer, {"iptables", "-w", "-L", "-v", "-x", "-n"}));
  auto lists = run_all(cmds);
  for (auto& r : reads_) {
    auto k = static_cast<std::size_t>(std::find(listed.begin(), listed.end(), r.peer) - listed.begin());
    if (lists[k].exit_code == 0)
      *r.out += count_drops(chain_section(lists[k].output, r.chain), r.column, r.value);
  }
  reads_.clear();
  // 2. each holder's commands in order, in one `docker exec`; the holders side by side
  cmds.clear();
  for (auto& [peer, list] : queued_) {
    if (list.size() == 1 && !list[0].optional) {
      cmds.push_back(in_holder(peer, list[0].argv));
      continue;
    }
    std::string script = "set -e";
    for (auto& c : list)
      script += "\n" + printable(c.argv) + (c.optional ? " 2>/dev/null || true" : "");
    cmds.push_back(in_holder(peer, {"sh", "-c", script}));
  }
  queued_.clear();
  auto results = run_all(cmds);
  for (std::size_t i = 0; i < cmds.size(); ++i)
    if (results[i].exit_code != 0)
      return make_error("`" + printable(cmds[i]) + "` failed (" + std::to_string(results[i].exit_code)
                        + "): " + trimmed(results[i].output));
  return {};
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
  out << "  " << coordinator_holder() << " holds " << rp_.bridge_address << " for the tracker and the coordinator"
      << (::geteuid() == 0 ? "" : " (not root: no coordinator, peers sampled from their JSON lines)") << "\n";
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
