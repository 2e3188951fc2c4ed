// `actorrent lab validate PLAN`, `lab run PLAN --out DIR [--dry-run]`,
// `lab cleanup`: the swarm lab (issue 12). The work is in lab/; this file reads
// the options and maps outcomes to exit codes (0 every oracle holds, 1 one
// fails or the run could not be made, 2 a bad or not yet runnable plan).
// `lab control HOST:PORT... [--disk-fault SPEC] [--wire-fault SPEC]
// [--pause|--unpause|--stop] [--netns NAME]` drives running peers' control
// actors with the lab's coordinator (lab/coordinator.hpp) by hand: it
// connects to each (from namespace NAME, if given), prints one JSON line per
// peer (node ID, the answers, a sample), and exits 0 when every peer answered
// and accepted, 1 otherwise (also when two peers share a CAF node ID).
#include "app/commands.hpp"
#include <algorithm>
#include "build_info.hpp" // generated: ACTORRENT_COMMIT
#include "lab/analysis.hpp"
#include "lab/clients.hpp"
#include "lab/backend.hpp"
#include "lab/docker_backend.hpp"
#include "lab/coordinator.hpp"
#include "lab/delayer.hpp"
#include "lab/netns.hpp"
#include "lab/plan.hpp"
#include "lab/runner.hpp"
#include "lab/units.hpp"

#include <CLI/CLI.hpp>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include <unistd.h>

namespace actorrent::app {

namespace {

struct lab_cli {
  std::string plan_file;
  std::string out_dir;
  bool dry_run = false;
  bool baseline = false;
  std::string backend = "netns";
  std::string image = "actorrent:latest";
  std::string lab_image = "actorrent-lab:latest";
  std::string cleanup_backend = "all";
  std::string cleanup_run;
  // lab control
  std::vector<std::string> peers;
  std::string netns;
  std::string disk_fault, wire_fault;
  CLI::Option* disk_opt = nullptr;
  CLI::Option* wire_opt = nullptr;
  bool pause = false, unpause = false, stop = false;
  unsigned wait_s = 10;
  // lab delayer (hidden: the runner starts it inside a peer's namespace)
  lab::delayer_options delayer;
  std::string delayer_delay, delayer_jitter = "0ms";
};

std::string self_path() {
  char buf[PATH_MAX];
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return "actorrent";
  return std::string(buf, static_cast<std::size_t>(n));
}

/// Loads and resolves the plan; prints the error and returns nullopt on a bad one.
std::optional<lab::resolved_plan> load(const std::string& file, std::string& text) {
  auto p = lab::load_plan(file, &text);
  if (!p) {
    std::fprintf(stderr, "actorrent: %s\n", p.error().message.c_str());
    return std::nullopt;
  }
  auto r = lab::resolve(*p);
  if (!r) {
    std::fprintf(stderr, "actorrent: %s\n", r.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*r);
}

int run_validate(const lab_cli& cli) {
  std::string text;
  auto rp = load(cli.plan_file, text);
  if (!rp)
    return exit_usage;
  std::cout << lab::describe(*rp);
  if (auto u = lab::unsupported_parts(*rp); !u.empty())
    std::cout << "\nvalid, but lab run cannot carry out yet:\n" << u;
  return exit_ok;
}

int run_run(const lab_cli& cli) {
  std::string text;
  auto rp = load(cli.plan_file, text);
  if (!rp)
    return exit_usage;
  lab::run_options opt;
  opt.out_dir = cli.out_dir;
  opt.actorrent = self_path();
  opt.plan_text = text;
  opt.commit = ACTORRENT_COMMIT;
  opt.backend = cli.backend;
  opt.docker_image = cli.image;
  opt.docker_lab_image = cli.lab_image;
  if (auto u = lab::backend_unsupported_parts(*rp, cli.backend); !u.empty()) {
    std::fprintf(stderr, "actorrent: %s: the %s backend cannot carry out:\n%s", cli.plan_file.c_str(),
                 cli.backend.c_str(), u.c_str());
    return exit_usage;
  }
  if (cli.dry_run) {
    if (cli.baseline)
      std::cout << "--baseline: first the same plan without faults or behaviors (the oracles but slowdown and"
                   " misbehaving_banned) into " << (cli.out_dir.empty() ? std::string{"OUT"} : cli.out_dir)
                << "/baseline, on a network of its own; then this plan:\n\n";
    lab::print_dry_run(*rp, opt, std::cout);
    return lab::unsupported_parts(*rp).empty() ? exit_ok : exit_usage;
  }
  bool slowdown = false;
  for (auto& o : rp->spec.oracles)
    slowdown = slowdown || o.name == "slowdown";
  if (slowdown && !cli.baseline) {
    std::fprintf(stderr, "actorrent: %s: oracle slowdown compares against a fault-free run: add --baseline\n",
                 cli.plan_file.c_str());
    return exit_usage;
  }
  if (auto u = lab::unsupported_parts(*rp); !u.empty()) {
    std::fprintf(stderr, "actorrent: %s: lab run cannot carry out yet:\n%s", cli.plan_file.c_str(), u.c_str());
    return exit_usage;
  }
  if (cli.out_dir.empty()) {
    std::fprintf(stderr, "actorrent: lab run needs --out DIR (or --dry-run)\n");
    return exit_usage;
  }
  if (std::error_code ec; std::filesystem::exists(cli.out_dir, ec) && !std::filesystem::is_empty(cli.out_dir, ec)) {
    // a previous run's peer folders would let leechers "complete" from old data
    std::fprintf(stderr, "actorrent: --out %s: exists and is not empty (give a new directory)\n", cli.out_dir.c_str());
    return exit_usage;
  }
  if (cli.backend == "netns" && ::geteuid() != 0) {
    std::fprintf(stderr, "actorrent: lab run needs root (it makes network namespaces)\n");
    return exit_failure;
  }
  if (auto missing = lab::missing_clients(*rp); !missing.empty()) {
    std::fprintf(stderr, "actorrent: %s: this machine cannot run the plan's peers (nothing was started):\n%s",
                 cli.plan_file.c_str(), missing.c_str());
    return exit_failure;
  }
  lab::install_stop_handlers();
  if (cli.baseline) {
    // the same plan without faults or behaviors first, into OUT/baseline
    auto base = lab::without_faults(*rp);
    lab::run_options bopt = opt;
    bopt.out_dir = (std::filesystem::path(cli.out_dir) / "baseline").string();
    std::cerr << "lab: baseline run (no faults, no behaviors) into " << bopt.out_dir << "\n";
    auto brc = lab::run_plan(base, bopt, std::cerr);
    std::cerr << "lab: baseline run ended (exit " << brc << "); now the plan itself\n";
    if (lab::stop_requested())
      return exit_failure;
    opt.baseline_dir = std::filesystem::absolute(bopt.out_dir).string();
  }
  return lab::run_plan(*rp, opt, std::cerr);
}

int run_control(const lab_cli& cli) {
  struct target {
    std::string host;
    std::uint16_t port = 0;
  };
  std::vector<target> targets;
  for (auto& p : cli.peers) {
    auto colon = p.rfind(':');
    unsigned long port = 0;
    if (colon == std::string::npos || colon == 0 || colon + 1 == p.size()
        || p.find_first_not_of("0123456789", colon + 1) != std::string::npos || p.size() - colon > 6
        || (port = std::stoul(p.substr(colon + 1))) == 0 || port > 65535) {
      std::fprintf(stderr, "actorrent: lab control: expected HOST:PORT, got '%s'\n", p.c_str());
      return exit_usage;
    }
    targets.push_back({p.substr(0, colon), static_cast<std::uint16_t>(port)});
  }
  auto coord = lab::coordinator::start(cli.netns.empty() ? std::string{} : "/run/netns/" + cli.netns);
  if (!coord) {
    std::fprintf(stderr, "actorrent: lab control: %s\n", coord.error().message.c_str());
    return exit_failure;
  }
  auto& c = **coord;
  for (std::size_t i = 0; i < targets.size(); ++i)
    c.add_peer(i, cli.peers[i], targets[i].host, targets[i].port);
  // connections are made asynchronously (retried every second): wait for them, bounded
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{cli.wait_s};
  for (;;) {
    bool all = true;
    for (std::size_t i = 0; i < targets.size(); ++i)
      all = all && c.latest(i).connected;
    if (all || c.fatal() || std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  bool ok = true;
  if (auto f = c.fatal()) {
    std::fprintf(stderr, "actorrent: lab control: %s\n", f->c_str());
    ok = false;
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto e = c.latest(i);
    nlohmann::ordered_json j;
    j["peer"] = cli.peers[i];
    j["connected"] = e.connected;
    j["node"] = e.node;
    if (!e.connected) {
      j["error"] = e.error;
      ok = false;
      std::cout << j.dump() << std::endl;
      continue;
    }
    auto answer = [&](const char* what, const result<bool>& r) {
      j[what] = r ? nlohmann::ordered_json(true) : nlohmann::ordered_json(r.error().message);
      ok = ok && r.ok();
    };
    if (cli.disk_opt->count() > 0)
      answer("disk_fault", c.set_fault(i, lab::fault_layer::disk, cli.disk_fault));
    if (cli.wire_opt->count() > 0)
      answer("wire_fault", c.set_fault(i, lab::fault_layer::wire, cli.wire_fault));
    if (cli.pause || cli.unpause)
      answer(cli.pause ? "pause" : "unpause", c.pause(i, cli.pause));
    if (auto s = c.sample_now(i))
      j["sample"] = nlohmann::ordered_json::parse(s->dump());
    else {
      j["sample_error"] = s.error().message;
      ok = false;
    }
    if (cli.stop)
      answer("stop", c.stop(i));
    std::cout << j.dump() << std::endl;
  }
  c.shutdown();
  return ok ? exit_ok : exit_failure;
}

int run_delayer_cmd(lab_cli& cli) {
  auto d = lab::parse_duration_ms(cli.delayer_delay);
  auto j = lab::parse_duration_ms(cli.delayer_jitter);
  if (!d || !j) {
    std::fprintf(stderr, "actorrent: lab delayer: --delay and --jitter are durations such as 40ms\n");
    return exit_usage;
  }
  cli.delayer.delay_ms = *d;
  cli.delayer.jitter_ms = *j;
  return lab::run_delayer(cli.delayer, std::cerr) == 0 ? exit_ok : exit_failure;
}

int run_cleanup(const lab_cli& cli) {
  bool netns = cli.cleanup_backend != "docker", docker = cli.cleanup_backend != "netns";
  if (!cli.cleanup_run.empty()) {
    if (cli.cleanup_run.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
      std::fprintf(stderr, "actorrent: lab cleanup --run: a run ID is lowercase letters and digits (as `lab run` logs it)\n");
      return exit_usage;
    }
    if (!netns) {
      std::fprintf(stderr, "actorrent: lab cleanup --run is for the netns backend\n");
      return exit_usage;
    }
    docker = false; // a run's Docker objects are not named by its ID here
  }
  if (netns && ::geteuid() != 0) {
    std::fprintf(stderr, "actorrent: lab cleanup needs root (or --backend docker)\n");
    return exit_failure;
  }
  auto report = (netns ? lab::cleanup_all_labs(cli.cleanup_run) : std::string{}) + (docker ? lab::cleanup_docker_labs() : std::string{});
  std::cout << (report.empty() ? std::string{"nothing left by a lab run\n"} : report);
  auto left = lab::list_lab_namespaces();
  auto own = std::string{lab::lab_prefix} + cli.cleanup_run + "-";
  bool clean = std::none_of(left.begin(), left.end(), [&](const std::string& ns) { return ns.rfind(own, 0) == 0; });
  return !netns || clean ? exit_ok : exit_failure;
}

} // namespace

command_runner add_lab_command(CLI::App& parent) {
  auto cli = std::make_shared<lab_cli>();
  auto* lab = parent.add_subcommand("lab", "Swarm lab: fault-injection experiments from a YAML plan");
  lab->require_subcommand(1);
  auto* validate = lab->add_subcommand("validate", "Check a plan and print it resolved (peers, addresses, fault times)");
  validate->add_option("plan", cli->plan_file, "The plan (YAML)")->required();
  auto* run = lab->add_subcommand("run", "Run a plan in network namespaces (root), write DIR/report.json");
  run->add_option("plan", cli->plan_file, "The plan (YAML)")->required();
  run->add_option("--out", cli->out_dir, "Directory for samples.jsonl, report.json and the peers' data");
  run->add_flag("--dry-run", cli->dry_run, "Print the resolved plan and every command, start nothing");
  run->add_flag("--baseline", cli->baseline,
                "First run the plan without faults or behaviors into DIR/baseline (for the slowdown oracle and report)");
  run->add_option("--backend", cli->backend,
                  "Where peers run: netns (network namespaces, root) or docker (containers on a private Docker network)")
    ->check(CLI::IsMember({"netns", "docker"}));
  run->add_option("--docker-image", cli->image, "docker backend: the peers' and tracker's image (actorrent:latest)");
  run->add_option("--docker-lab-image", cli->lab_image,
                  "docker backend: the image of the NET_ADMIN network holders, with ip, tc, iptables (actorrent-lab:latest)");
  auto* cleanup = lab->add_subcommand("cleanup", "Remove namespaces, processes and Docker objects a crashed lab run left (root)");
  cleanup->add_option("--backend", cli->cleanup_backend,
                      "What to remove: netns (every alab-* namespace), docker (every container, network and volume "
                      "labelled actorrent.lab) or all")
    ->check(CLI::IsMember({"netns", "docker", "all"}));
  cleanup->add_option("--run", cli->cleanup_run,
                      "Only the namespaces of this run (alab-ID-*; the ID `lab run` logs as \"(netns, run ID)\"), "
                      "leaving other lab runs on the machine alone");
  auto* control = lab->add_subcommand("control", "Drive running peers' control actors (--control) over BASP by hand");
  control->add_option("peers", cli->peers, "HOST:PORT of each peer's control actor")->required();
  control->add_option("--netns", cli->netns, "Connect from this network namespace (a name of 'ip netns list')");
  cli->disk_opt = control->add_option("--disk-fault", cli->disk_fault, "Turn disk faults on with SPEC (\"\" or off: off)");
  cli->wire_opt = control->add_option("--wire-fault", cli->wire_fault, "Turn wire faults on with SPEC (\"\": off)");
  control->add_flag("--pause", cli->pause, "Pause the torrents");
  control->add_flag("--unpause", cli->unpause, "Resume the torrents");
  control->add_flag("--stop", cli->stop, "End the peers cleanly (they announce stopped, exit 0)");
  control->add_option("--wait", cli->wait_s, "Seconds to wait for every connection (default 10)")->check(CLI::Range(1, 600));
  auto* delayer = lab->add_subcommand("delayer", "Userspace delayer on an NFQUEUE (started by lab run)");
  delayer->group(""); // hidden: not for users
  delayer->add_option("--queue", cli->delayer.queue, "NFQUEUE number")->required()->check(CLI::Range(0, 65535));
  delayer->add_option("--delay", cli->delayer_delay, "Delay (e.g. 40ms)")->required();
  delayer->add_option("--jitter", cli->delayer_jitter, "Jitter (e.g. 10ms)");
  delayer->add_option("--seed", cli->delayer.seed, "The plan's seed");
  delayer->add_option("--name", cli->delayer.name, "Names the jitter draws (the peer)");
  delayer->add_option("--limit", cli->delayer.limit, "Packets held at most")->check(CLI::Range(1, 100000));
  delayer->add_option("--stats", cli->delayer.stats_file, "JSON file for the counters");
  return [cli, validate, run, cleanup, control, delayer] {
    if (delayer->parsed())
      return run_delayer_cmd(*cli);
    if (control->parsed())
      return run_control(*cli);
    if (validate->parsed())
      return run_validate(*cli);
    if (run->parsed())
      return run_run(*cli);
    if (cleanup->parsed())
      return run_cleanup(*cli);
    return static_cast<int>(exit_usage);
  };
}

} // namespace actorrent::app
