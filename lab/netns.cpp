#include "lab/netns.hpp"

#include "lab/delayer.hpp"
#include "lab/units.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <sys/types.h>
#include <unistd.h>

namespace actorrent::lab {

lab_network::lab_network(const resolved_plan& rp, std::string run_id, command_sink run)
  : rp_(rp), run_id_(std::move(run_id)), bridge_ns_(std::string{lab_prefix} + run_id_ + "-br"), run_(std::move(run)) {}

struct lab_network::delayer {
  child_process proc;
  unsigned queue = 0;
  argv_t rule; ///< the NFQUEUE rule (without -I/-D)
  std::string stats_file;
  std::uint64_t delay_ms = 0, jitter_ms = 0;
};

lab_network::~lab_network() { teardown(); }

void delay_counts::add(const delay_counts& o) {
  runs += o.runs;
  delayed += o.delayed;
  dropped += o.dropped;
  order_waits += o.order_waits;
  total_hold_ms += o.total_hold_ms;
  max_hold_ms = std::max(max_hold_ms, o.max_hold_ms);
  died += o.died;
  lost += o.lost;
}

void lab_network::use_delayer(std::string actorrent, std::string stats_dir, bool dry_run) {
  delayer_binary_ = std::move(actorrent);
  delayer_dir_ = std::move(stats_dir);
  dry_run_ = dry_run;
}

std::string lab_network::peer_ns(std::size_t peer) const {
  return std::string{lab_prefix} + run_id_ + "-" + rp_.peers[peer].name;
}

argv_t lab_network::in_peer(std::size_t peer, const argv_t& argv) const {
  argv_t v{"ip", "netns", "exec", peer_ns(peer)};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

argv_t lab_network::in_bridge(const argv_t& argv) const {
  argv_t v{"ip", "netns", "exec", bridge_ns_};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

status lab_network::must(const argv_t& argv) {
  auto r = run_(argv);
  if (r.exit_code != 0) {
    auto out = r.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
      out.pop_back();
    return make_error("`" + printable(argv) + "` failed (" + std::to_string(r.exit_code) + "): " + out);
  }
  return {};
}

argv_t netem_args(const link_spec& l) {
  if (!l.delay_ms && !l.loss_ppm && !l.rate_bits)
    return {};
  argv_t a{"netem"};
  if (l.delay_ms) {
    a.insert(a.end(), {"delay", tc_time_us(*l.delay_ms * 1000)});
    if (l.jitter_ms)
      a.push_back(tc_time_us(*l.jitter_ms * 1000));
  }
  if (l.loss_ppm)
    a.insert(a.end(), {"loss", tc_percent(*l.loss_ppm)});
  if (l.rate_bits)
    a.insert(a.end(), {"rate", tc_rate(*l.rate_bits)});
  a.insert(a.end(), {"limit", "10000"});
  return a;
}

std::string lab_mac(std::size_t peer) {
  // 02: locally administered; 61:6c ("al"); then peer + 1 (0 is the bridge's)
  auto n = peer == bridge_mac_index ? 0 : peer + 1;
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:61:6c:%02x:%02x:%02x", static_cast<unsigned>((n >> 16) & 0xff),
                static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff));
  return buf;
}

status lab_network::build() {
  auto host_bits = std::to_string(rp_.prefix_length);
  made_.push_back(bridge_ns_);
  if (auto ok = must({"ip", "netns", "add", bridge_ns_}); !ok) {
    made_.pop_back();
    return ok;
  }
  for (auto& cmd : std::vector<argv_t>{
         {"ip", "-n", bridge_ns_, "link", "set", "lo", "up"},
         {"ip", "-n", bridge_ns_, "link", "add", "br0", "address", lab_mac(bridge_mac_index), "type", "bridge"},
         {"ip", "-n", bridge_ns_, "addr", "add", rp_.bridge_address + "/" + host_bits, "dev", "br0"},
         {"ip", "-n", bridge_ns_, "link", "set", "br0", "up"}})
    if (auto ok = must(cmd); !ok)
      return ok;
  // some kernels are built without netem: probe on the bridge namespace's loopback
  netem_ = run_({"tc", "-n", bridge_ns_, "qdisc", "replace", "dev", "lo", "root", "netem", "delay", "1ms"}).exit_code == 0;
  if (netem_)
    run_({"tc", "-n", bridge_ns_, "qdisc", "del", "dev", "lo", "root"});
  if (dry_run_ && netem_) {
    // the printed probe "succeeds": ask the kernel for real, in a namespace that
    // lives only as long as this one tc (needs root; else assume netem)
    auto probe = run_command({"unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"});
    netem_ = probe.exit_code == 0 || ::geteuid() != 0;
  }
  if (auto ok = check_shaping(); !ok)
    return ok;
  current_.assign(rp_.peers.size(), link_spec{});
  loss_rule_.assign(rp_.peers.size(), argv_t{});
  for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
    auto ns = peer_ns(i);
    made_.push_back(ns);
    if (auto ok = must({"ip", "netns", "add", ns}); !ok) {
      made_.pop_back();
      return ok;
    }
    auto port = "p" + std::to_string(i);
    for (auto& cmd : std::vector<argv_t>{
           {"ip", "-n", ns, "link", "set", "lo", "up"},
           // both ends are made inside the namespaces: nothing appears in the host's
           {"ip", "-n", bridge_ns_, "link", "add", port, "type", "veth", "peer", "name", "eth0", "address", lab_mac(i),
            "netns", ns},
           {"ip", "-n", bridge_ns_, "link", "set", port, "master", "br0", "up"},
           {"ip", "-n", ns, "addr", "add", rp_.peers[i].address + "/" + host_bits, "dev", "eth0"},
           {"ip", "-n", ns, "link", "set", "eth0", "up"}})
      if (auto ok = must(cmd); !ok)
        return ok;
    if (!rp_.peers[i].link.empty())
      if (auto ok = set_link(i, rp_.peers[i].link); !ok)
        return ok;
  }
  return add_neighbours();
}

status lab_network::add_neighbours() {
  // The kernel's ARP table is one for the whole machine, all namespaces together:
  // past net.ipv4.neigh.default.gc_thresh3 (1024 by default) learnt entries it
  // refuses new ones ("neighbor table overflow"), and a peer then cannot reach the
  // tracker or another peer. N peers that all talk to each other want about N^2
  // entries (50 peers: 2,500). Permanent entries are not counted against that
  // limit, and the MACs are ours (lab_mac), so every namespace gets one for every
  // lab address, written with `ip -batch` (one process per namespace).
  // ACTORRENT_LAB_ARP=learn leaves ARP to learn them, as before (to reproduce the
  // overflow: docs/lab.md, scale).
  if (const char* arp = std::getenv("ACTORRENT_LAB_ARP"); arp != nullptr && std::string_view{arp} == "learn")
    return {};
  auto file = (std::filesystem::temp_directory_path() / (bridge_ns_ + "-neigh.batch")).string();
  auto write_batch = [&](std::size_t skip, const std::string& dev, bool with_bridge) {
    std::ofstream out(file, std::ios::trunc);
    if (with_bridge)
      out << "neigh replace " << rp_.bridge_address << " lladdr " << lab_mac(bridge_mac_index) << " dev " << dev
          << " nud permanent\n";
    for (std::size_t j = 0; j < rp_.peers.size(); ++j)
      if (j != skip)
        out << "neigh replace " << rp_.peers[j].address << " lladdr " << lab_mac(j) << " dev " << dev
            << " nud permanent\n";
    return static_cast<bool>(out);
  };
  status st;
  for (std::size_t i = 0; i <= rp_.peers.size() && st; ++i) {
    bool bridge = i == rp_.peers.size();
    if (!write_batch(bridge ? bridge_mac_index : i, bridge ? "br0" : "eth0", !bridge)) {
      st = make_error("cannot write " + file);
      break;
    }
    st = must({"ip", "-n", bridge ? bridge_ns_ : peer_ns(i), "-batch", file});
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
  return st;
}

status lab_network::check_shaping() const {
  if (netem_)
    return {};
  // without netem, the userspace delayer makes delay and jitter, where this
  // binary has it and the runner said which binary to start
  if (delayer_available() && !delayer_binary_.empty())
    return {};
  auto why = std::string{delayer_available() ? "no delayer binary was given"
                                             : "this build has no userspace delayer (libnetfilter-queue-dev)"};
  auto needs_netem = [](const link_spec& l) { return l.delay_ms || l.jitter_ms; };
  for (auto& peer : rp_.peers)
    if (needs_netem(peer.link))
      return make_error(peer.name + ": link delay/jitter needs the netem qdisc, which this kernel lacks "
                        "(CONFIG_NET_SCH_NETEM), and " + why + "; rate and loss work without it");
  for (auto& f : rp_.faults)
    if (needs_netem(f.link))
      return make_error("fault " + std::to_string(f.index) + ": delay/jitter needs the netem qdisc, which this "
                        "kernel lacks (CONFIG_NET_SCH_NETEM), and " + why + "; rate and loss work without it");
  return {};
}

status lab_network::set_link(std::size_t peer, const link_spec& l) {
  auto ns = peer_ns(peer);
  auto port = "p" + std::to_string(peer);
  if (current_.size() <= peer) {
    current_.resize(rp_.peers.size());
    loss_rule_.resize(rp_.peers.size());
  }
  const auto before = current_[peer];
  auto tbf = [](std::uint64_t bits) {
    auto burst = std::max<std::uint64_t>(bits / 8 / 50, 32 * 1024);
    return argv_t{"tbf", "rate", tc_rate(bits), "burst", std::to_string(burst), "latency", "200ms"};
  };
  // the peer's egress
  argv_t egress;
  if (netem_)
    egress = netem_args(l);
  else if (l.rate_bits)
    egress = tbf(*l.rate_bits);
  if (!egress.empty()) {
    argv_t cmd{"tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root"};
    cmd.insert(cmd.end(), egress.begin(), egress.end());
    if (auto ok = must(cmd); !ok)
      return ok;
  } else if (!before.empty()) {
    run_({"tc", "-n", ns, "qdisc", "del", "dev", "eth0", "root"}); // none there is fine
  }
  // loss without netem: a random drop of outgoing packets
  if (!netem_ && before.loss_ppm != l.loss_ppm) {
    if (!loss_rule_[peer].empty()) {
      argv_t del = loss_rule_[peer];
      del.insert(del.begin() + 6, "-D");
      if (auto ok = must(del); !ok)
        return ok;
      loss_rule_[peer].clear();
    }
    if (l.loss_ppm && *l.loss_ppm > 0) {
      auto prob = std::to_string(static_cast<double>(*l.loss_ppm) / 1e6);
      auto rule = in_peer(peer, {"iptables", "-w", "OUTPUT", "!", "-o", "lo", "-m", "statistic", "--mode", "random",
                                 "--probability", prob, "-j", "DROP"});
      argv_t add = rule;
      add.insert(add.begin() + 6, "-I"); // after "ip netns exec NS iptables -w"
      if (auto ok = must(add); !ok)
        return ok;
      loss_rule_[peer] = rule;
    }
  }
  // delay and jitter without netem: a userspace delayer
  if (!netem_) {
    if (delayers_.size() < rp_.peers.size())
      delayers_.resize(rp_.peers.size());
    auto& run = delayers_[peer];
    bool same = run && l.delay_ms && run->delay_ms == *l.delay_ms && run->jitter_ms == l.jitter_ms.value_or(0);
    if (l.delay_ms && !same) {
      if (auto ok = start_delayer(peer, l); !ok)
        return ok;
    } else if (!l.delay_ms && run) {
      if (auto ok = stop_delayer(peer); !ok)
        return ok;
    }
  }
  current_[peer] = l;
  // the peer's ingress: a token bucket on the bridge's side of its veth
  if (l.rate_bits) {
    argv_t cmd{"tc", "-n", bridge_ns_, "qdisc", "replace", "dev", port, "root"};
    auto t = tbf(*l.rate_bits);
    cmd.insert(cmd.end(), t.begin(), t.end());
    return must(cmd);
  }
  if (before.rate_bits)
    run_({"tc", "-n", bridge_ns_, "qdisc", "del", "dev", port, "root"});
  return {};
}

status lab_network::start_delayer(std::size_t peer, const link_spec& l) {
  auto& old = delayers_[peer];
  auto d = std::make_unique<delayer>();
  d->queue = old ? old->queue ^ 1u : 0u; // queues are per namespace: 0 and 1 take turns
  d->delay_ms = *l.delay_ms;
  d->jitter_ms = l.jitter_ms.value_or(0);
  auto base = delayer_dir_ + "/" + rp_.peers[peer].name;
  d->stats_file = base + "-" + std::to_string(++delayers_started_) + ".json";
  auto argv = in_peer(peer, {delayer_binary_, "lab", "delayer", "--queue", std::to_string(d->queue), "--delay",
                             std::to_string(d->delay_ms) + "ms", "--jitter", std::to_string(d->jitter_ms) + "ms",
                             "--seed", std::to_string(rp_.spec.seed), "--name", rp_.peers[peer].name, "--stats",
                             d->stats_file});
  // The peer's INCOMING packets (on eth0, before its filter rules see them),
  // not its outgoing ones as netem does: a packet a local TCP socket sent still
  // counts against that socket while the delayer holds it, so TCP small queues
  // let only about two packets per connection wait, and a 40 ms delay on the
  // egress cut a bulk TCP transfer to 0.1 MB/s; a packet that came over the veth
  // belongs to no socket here (measured: 66 MB/s through a 40 ms delay; docs/lab.md).
  // Either way the delay is added once to every round trip through the peer's link.
  // --queue-bypass: were the delayer gone, packets pass undelayed (the runner
  // reports a delayer that died) rather than the peer going dark.
  d->rule = in_peer(peer, {"iptables", "-w", "-t", "mangle", "PREROUTING", "-i", "eth0", "-m", "comment",
                           "--comment", "alab-delay", "-j", "NFQUEUE", "--queue-num", std::to_string(d->queue),
                           "--queue-bypass"});
  auto with = [](argv_t rule, const char* op) {
    rule.insert(rule.begin() + 8, op); // after "ip netns exec NS iptables -w -t mangle"
    return rule;
  };
  if (dry_run_) {
    run_(argv); // printed: started in the background, by PID
  } else {
    std::error_code ec;
    std::filesystem::create_directories(delayer_dir_, ec);
    std::string error;
    if (!d->proc.start(argv, "", base + ".delayer.log", error))
      return make_error(rp_.peers[peer].name + ": cannot start the delayer: " + error);
    // ready once its stats file exists (written after the queue is bound); at most 5 s
    bool ready = false;
    for (int i = 0; i < 250 && !ready; ++i) {
      if (std::filesystem::exists(d->stats_file)) {
        ready = true;
        break;
      }
      if (!d->proc.poll())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!ready) {
      d->proc.stop(SIGKILL, std::chrono::milliseconds(500));
      std::ifstream in(base + ".delayer.log");
      std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return make_error(rp_.peers[peer].name + ": the delayer did not bind its NFQUEUE (" + d->proc.describe_status()
                        + "): " + log);
    }
  }
  if (auto ok = must(with(d->rule, "-I")); !ok) {
    d->proc.stop(SIGTERM, std::chrono::seconds(2));
    return ok;
  }
  if (old)
    if (auto ok = stop_delayer(peer); !ok)
      return ok;
  old = std::move(d);
  return {};
}

status lab_network::stop_delayer(std::size_t peer) {
  if (peer >= delayers_.size() || !delayers_[peer])
    return {};
  auto d = std::move(delayers_[peer]);
  auto rule = d->rule;
  rule.insert(rule.begin() + 8, "-D");
  auto st = must(rule); // first the rule: no packet is queued to a delayer that goes
  if (dry_run_)
    return st;
  delay_counts c;
  c.runs = 1;
  if (!d->proc.poll())
    c.died = 1;
  d->proc.stop(SIGTERM, std::chrono::seconds(3));
  std::ifstream in(d->stats_file);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object()) {
    c.delayed = j.value("delayed", std::uint64_t{0});
    c.dropped = j.value("dropped", std::uint64_t{0});
    c.order_waits = j.value("order_waits", std::uint64_t{0});
    c.total_hold_ms = j.value("mean_hold_ms", 0.0) * static_cast<double>(c.delayed);
    c.max_hold_ms = j.value("max_hold_ms", 0.0);
    c.lost = j.value("enobufs", std::uint64_t{0});
  }
  if (delay_counts_.size() < rp_.peers.size())
    delay_counts_.resize(rp_.peers.size());
  delay_counts_[peer].add(c);
  return st;
}

delay_counts lab_network::take_delay_counts(std::size_t peer) {
  if (peer >= delay_counts_.size())
    return {};
  return std::exchange(delay_counts_[peer], delay_counts{});
}

void lab_network::stop_delayers() {
  for (std::size_t i = 0; i < delayers_.size(); ++i)
    stop_delayer(i);
}

std::uint64_t count_drops(const std::string& listing, int column, const std::string& value) {
  // "pkts bytes target prot opt in out source destination", one rule a line
  std::istringstream in(listing);
  std::string line;
  std::uint64_t total = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;)
      f.push_back(w);
    if (f.size() < 9 || f[2] != "DROP" || f[0].find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto at = static_cast<std::size_t>(column);
    if (f[at] == value || f[at] == value + "/32")
      total += std::stoull(f[0]);
  }
  return total;
}

std::uint64_t lab_network::drops(std::size_t peer, const std::string& chain, int column, const std::string& value) {
  auto r = run_(in_peer(peer, {"iptables", "-w", "-L", chain, "-v", "-x", "-n"}));
  return r.exit_code == 0 ? count_drops(r.output, column, value) : 0;
}

status lab_network::tracker_reachable() {
  // bash's /dev/tcp opens a connection and closes it at once; each try bounded
  // by 1 s (a connect with no ARP answer would hang), 20 tries 0.2 s apart: within
  // run_command's 30 s
  auto target = "/dev/tcp/" + rp_.bridge_address + "/" + std::to_string(rp_.tracker_port);
  auto script = "for i in $(seq 20); do timeout 1 bash -c 'exec 3<>" + target
                + "' 2>/dev/null && exit 0; sleep 0.2; done; exit 1";
  for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
    auto r = run_(in_peer(i, {"bash", "-c", script}));
    if (r.exit_code != 0)
      return make_error(rp_.peers[i].name + " cannot reach the tracker at " + rp_.bridge_address + ":"
                        + std::to_string(rp_.tracker_port) + " from its namespace (20 tries in 25 s): " + r.output);
  }
  return {};
}

std::uint64_t count_marked(const std::string& listing, const std::string& marker) {
  std::istringstream in(listing);
  std::string line;
  std::uint64_t total = 0;
  auto comment = "/* " + marker + " */";
  while (std::getline(in, line)) {
    if (line.find(comment) == std::string::npos)
      continue;
    std::istringstream fields(line);
    std::string pkts;
    fields >> pkts;
    if (!pkts.empty() && pkts.size() < 20 && pkts.find_first_not_of("0123456789") == std::string::npos)
      total += std::stoull(pkts);
  }
  return total;
}

std::uint64_t lab_network::marked(std::size_t peer, const std::string& chain, const std::string& marker) {
  auto r = run_(in_peer(peer, {"iptables", "-w", "-L", chain, "-v", "-x", "-n"}));
  return r.exit_code == 0 ? count_marked(r.output, marker) : 0;
}

namespace {
/// iptables ... with `op` (-I or -D) put after "ip netns exec NS iptables -w".
argv_t with_op(argv_t rule, const char* op) {
  rule.insert(rule.begin() + 6, op);
  return rule;
}
} // namespace

status lab_network::reset_after(std::size_t peer, std::uint64_t bytes, bool on, std::uint64_t* resets) {
  if (reset_rules_.size() < rp_.peers.size())
    reset_rules_.resize(rp_.peers.size());
  auto& rules = reset_rules_[peer];
  if (!on) {
    if (resets != nullptr)
      *resets += marked(peer, "INPUT", "alab-reset") + marked(peer, "OUTPUT", "alab-reset");
    status st;
    for (auto& r : rules)
      if (auto ok = must(with_op(r, "-D")); !ok && st)
        st = ok;
    rules.clear();
    return st;
  }
  if (!rules.empty())
    return {};
  // connbytes counts both directions of the connection; past `bytes`, each packet
  // of it that arrives or leaves is answered with a TCP reset
  auto rule = [&](const char* chain, const char* dir_flag) {
    return in_peer(peer, {"iptables", "-w", chain, "-p", "tcp", "!", dir_flag, "lo", "-m", "connbytes", "--connbytes",
                          std::to_string(bytes) + ":", "--connbytes-dir", "both", "--connbytes-mode", "bytes", "-m",
                          "comment", "--comment", "alab-reset", "-j", "REJECT", "--reject-with", "tcp-reset"});
  };
  for (auto& r : {rule("INPUT", "-i"), rule("OUTPUT", "-o")}) {
    if (auto ok = must(with_op(r, "-I")); !ok)
      return ok;
    rules.push_back(r);
  }
  return {};
}

status lab_network::burst_drop(std::size_t peer, std::uint32_t ppm, std::uint64_t* dropped) {
  if (burst_rule_.size() < rp_.peers.size())
    burst_rule_.resize(rp_.peers.size());
  auto& current = burst_rule_[peer];
  argv_t next;
  if (ppm > 0) {
    argv_t match{"iptables", "-w", "OUTPUT", "!", "-o", "lo"};
    if (ppm < 1'000'000)
      match.insert(match.end(), {"-m", "statistic", "--mode", "random", "--probability",
                                 std::to_string(static_cast<double>(ppm) / 1e6)});
    match.insert(match.end(), {"-m", "comment", "--comment", "alab-burst", "-j", "DROP"});
    next = in_peer(peer, match);
  }
  if (next == current)
    return {};
  if (!current.empty()) {
    if (dropped != nullptr)
      *dropped += marked(peer, "OUTPUT", "alab-burst");
    if (auto ok = must(with_op(current, "-D")); !ok)
      return ok;
    current.clear();
  }
  if (!next.empty()) {
    if (auto ok = must(with_op(next, "-I")); !ok)
      return ok;
    current = next;
  }
  return {};
}

namespace {
constexpr int col_in = drop_column::in, col_out = drop_column::out, col_source = drop_column::source,
              col_destination = drop_column::destination;
}

status lab_network::block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  const auto& a = rp_.peers[from].address;
  const auto& b = rp_.peers[to].address;
  if (!on && dropped != nullptr) // read the counters before the rules go
    *dropped += drops(from, "OUTPUT", col_destination, b) + drops(to, "INPUT", col_source, a);
  if (auto ok = must(in_peer(from, {"iptables", "-w", op, "OUTPUT", "-d", b, "-j", "DROP"})); !ok)
    return ok;
  return must(in_peer(to, {"iptables", "-w", op, "INPUT", "-s", a, "-j", "DROP"}));
}

status lab_network::blackhole(std::size_t peer, bool on, std::uint64_t* dropped) {
  auto op = on ? "-I" : "-D";
  if (!on && dropped != nullptr)
    *dropped += drops(peer, "INPUT", col_in, "!lo") + drops(peer, "OUTPUT", col_out, "!lo");
  if (auto ok = must(in_peer(peer, {"iptables", "-w", op, "INPUT", "!", "-i", "lo", "-j", "DROP"})); !ok)
    return ok;
  return must(in_peer(peer, {"iptables", "-w", op, "OUTPUT", "!", "-o", "lo", "-j", "DROP"}));
}

namespace {

/// Kills the processes `ip netns pids` lists for `ns`; returns how many.
std::size_t kill_inside(const command_sink& run, const std::string& ns) {
  auto r = run({"ip", "netns", "pids", ns});
  if (r.exit_code != 0)
    return 0;
  std::istringstream in(r.output);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line.size() > 10 || line.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto pid = static_cast<pid_t>(std::stol(line));
    if (pid > 1 && ::kill(pid, SIGKILL) == 0)
      ++n;
  }
  return n;
}

command_result run_real(const argv_t& argv) { return run_command(argv); }

} // namespace

std::string lab_network::teardown() {
  std::string problems;
  stop_delayers(); // before kill_inside: they let their held packets go and write their counts
  // the peers' namespaces first, the bridge last (reverse order of creation)
  while (!made_.empty()) {
    auto ns = made_.back();
    made_.pop_back();
    kill_inside(run_, ns);
    auto r = run_({"ip", "netns", "del", ns});
    if (r.exit_code != 0)
      problems += "ip netns del " + ns + ": " + r.output + "\n";
  }
  return problems;
}

std::vector<std::string> list_lab_namespaces() {
  std::vector<std::string> out;
  auto r = run_command({"ip", "netns", "list"});
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    auto name = line.substr(0, line.find(' '));
    if (name.rfind(lab_prefix, 0) == 0)
      out.push_back(name);
  }
  return out;
}

std::string cleanup_all_labs(const std::string& run_id) {
  std::string report;
  command_sink run = &run_real;
  auto own = std::string{lab_prefix} + run_id + "-";
  for (auto& ns : list_lab_namespaces()) {
    if (!run_id.empty() && ns.rfind(own, 0) != 0)
      continue;
    auto killed = kill_inside(run, ns);
    auto r = run({"ip", "netns", "del", ns});
    report += "removed namespace " + ns;
    if (killed > 0)
      report += " (killed " + std::to_string(killed) + " processes in it)";
    if (r.exit_code != 0)
      report += ": FAILED: " + r.output;
    report += "\n";
  }
  return report;
}

} // namespace actorrent::lab
