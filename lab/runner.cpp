#include "lab/runner.hpp"

#include "lab/analysis.hpp"
#include "lab/bans.hpp"
#include "lab/clients.hpp"
#include "lab/backend.hpp"
#include "lab/basp_driver.hpp"
#include "lab/burst_loss.hpp"
#include "lab/driver.hpp"
#include "lab/netns.hpp"
#include "lab/units.hpp"
#include "protocol/metainfo.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <thread>

#include <unistd.h>

namespace actorrent::lab {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using clock_type = std::chrono::steady_clock;

namespace {

std::atomic<int> g_stop_signal{0};

void on_lab_stop_signal(int sig) { g_stop_signal.store(sig); }

const std::string payload_name = "payload";

/// One step of the timeline: a fault starts or ends.
struct timeline_event {
  std::uint64_t t_ms = 0;
  std::size_t fault = 0; ///< index into resolved_plan::faults
  bool begin = true;
};

std::vector<timeline_event> timeline(const resolved_plan& rp) {
  std::vector<timeline_event> ev;
  for (std::size_t i = 0; i < rp.faults.size(); ++i) {
    const auto& f = rp.faults[i];
    ev.push_back({f.start_ms, i, true});
    if (f.end_ms)
      ev.push_back({*f.end_ms, i, false});
    else if (f.down_for_ms)
      ev.push_back({f.start_ms + *f.down_for_ms, i, false});
  }
  std::stable_sort(ev.begin(), ev.end(), [](auto& a, auto& b) { return a.t_ms < b.t_ms; });
  return ev;
}

link_spec overlay(link_spec own, const link_spec& over) {
  if (over.rate_bits)
    own.rate_bits = over.rate_bits;
  if (over.delay_ms)
    own.delay_ms = over.delay_ms;
  if (over.jitter_ms)
    own.jitter_ms = over.jitter_ms;
  if (over.loss_ppm)
    own.loss_ppm = over.loss_ppm;
  return own;
}

std::string announce_url(const resolved_plan& rp) {
  return "http://" + rp.bridge_address + ":" + std::to_string(rp.tracker_port) + "/announce";
}

argv_t tracker_argv(const resolved_plan& rp, const std::string& dir) {
  auto port = std::to_string(rp.tracker_port);
  return {"opentracker", "-i", rp.bridge_address, "-p", port, "-P", port, "-d", dir, "-w", "whitelist"};
}

/// The libtorrent driver script (lab/lt_peer.py of the source tree, or
/// $ACTORRENT_LAB_LT_PEER).
std::string lt_peer_script() {
  if (const char* env = std::getenv("ACTORRENT_LAB_LT_PEER"); env != nullptr && *env != '\0')
    return env;
  return std::string{ACTORRENT_LAB_DIR} + "/lt_peer.py";
}

argv_t peer_argv(const resolved_plan& rp, std::size_t i, const std::string& actorrent, const std::string& torrent,
                 const std::string& dir, bool with_control) {
  const auto& peer = rp.peers[i];
  auto port = std::to_string(peer.port);
  if (peer.kind == peer_kind::libtorrent) // Debian's python: the one with the libtorrent module
    return {"/usr/bin/python3", lt_peer_script(), std::string{to_string(peer.role)}, torrent, dir, port};
  if (peer.kind == peer_kind::aria2c || peer.kind == peer_kind::transmission)
    return real_client_argv(rp, i, torrent, dir);
  argv_t argv = peer.role == peer_role::seed
                  ? argv_t{actorrent, "seed", torrent, dir, "--json-progress", "--verbose", "--port", port}
                  // leechers keep seeding once complete, as members of a real swarm do
                  : argv_t{actorrent, "download", torrent, "-o", dir, "--json-progress", "--verbose", "--seed", "--port", port};
  if (auto wf = wire_fault_arg(rp, i); !wf.empty()) // a misbehaving group (lab/bans.hpp)
    argv.insert(argv.end(), {"--wire-fault", wf});
  if (with_control) // the control actor the coordinator drives over BASP, on the peer's lab address
    argv.insert(argv.end(), {"--control", peer.address + ":" + std::to_string(control_port)});
  return argv;
}

/// Applies (or, with drivers empty, only describes) one timeline event. Returns
/// how many actions it took.
struct fault_applier {
  const resolved_plan& rp;
  lab_backend& net;
  std::vector<std::unique_ptr<peer_driver>>* drivers; ///< null for a dry run
  std::ostream* say;                                  ///< dry run: where signal actions are described
  std::uint64_t dropped = 0; ///< packets the partition/blackhole/burst rules dropped (counted as they are removed)
  std::uint64_t resets = 0;  ///< packets the reset rules answered with a TCP reset (counted as they are removed)
  /// wire/disk: what each target answered ({peer, "on: accepted"}, ...) and,
  /// when the fault ends, its counters
  std::vector<std::pair<std::size_t, json>> answers{};

  std::size_t fault_over_basp(const resolved_fault& f, std::size_t t, bool begin);

  result<std::size_t> apply(const timeline_event& ev) {
    const auto& f = rp.faults[ev.fault];
    std::size_t actions = 0;
    auto signal_action = [&](std::size_t peer, const char* what, auto&& act) -> status {
      if (drivers == nullptr) {
        *say << "    " << what << " " << rp.peers[peer].name << " (its process, by PID)\n";
      } else {
        auto ok = act(*(*drivers)[peer]);
        if (!ok)
          return ok;
      }
      ++actions;
      return {};
    };
    for (auto t : f.targets) {
      status ok;
      switch (f.kind) {
        case fault_kind::partition:
          for (auto o : f.other) {
            if (ok = net.block(t, o, ev.begin, &dropped); !ok)
              break;
            ++actions;
            if (!f.one_way) {
              if (ok = net.block(o, t, ev.begin, &dropped); !ok)
                break;
              ++actions;
            }
          }
          break;
        case fault_kind::blackhole:
          ok = net.blackhole(t, ev.begin, &dropped);
          actions += ok ? 1 : 0;
          break;
        case fault_kind::delay:
        case fault_kind::loss:
        case fault_kind::rate:
          ok = net.set_link(t, ev.begin ? overlay(rp.peers[t].link, f.link) : rp.peers[t].link);
          actions += ok ? 1 : 0;
          break;
        case fault_kind::pause:
          ok = signal_action(t, ev.begin ? "SIGSTOP" : "SIGCONT", [&](peer_driver& d) {
            d.pause(ev.begin);
            return status{};
          });
          break;
        case fault_kind::churn:
          ok = signal_action(t, ev.begin ? "SIGKILL" : "restart (resuming its data)", [&](peer_driver& d) {
            if (!ev.begin)
              return d.restart();
            d.kill();
            return status{};
          });
          break;
        case fault_kind::wire:
        case fault_kind::disk:
          actions += fault_over_basp(f, t, ev.begin);
          break;
        case fault_kind::reset:
          ok = net.reset_after(t, f.after_bytes.value_or(0), ev.begin, &resets);
          actions += ok ? 1 : 0;
          break;
        case fault_kind::burst_loss:
          // the chain starts in state good; the runner steps it (lab_run::step_bursts)
          if (drivers == nullptr && ev.begin)
            *say << "    " << rp.peers[t].name << ": Gilbert-Elliott chain stepped every "
                 << format_duration_ms(f.burst.step_ms) << " by the runner; state bad replaces the rule by one "
                 << "dropping " << format_percent_ppm(f.burst.loss_bad_ppm) << " of its outgoing packets\n";
          ok = net.burst_drop(t, ev.begin ? f.burst.loss_good_ppm : 0, &dropped);
          actions += ok ? 1 : 0;
          break;
      }
      if (!ok)
        return make_error("fault " + std::to_string(ev.fault) + " (" + std::string{to_string(f.kind)} + "): "
                          + ok.error().message);
    }
    if (auto ok = net.commit(); !ok)
      return make_error("fault " + std::to_string(ev.fault) + " (" + std::string{to_string(f.kind)} + "): "
                        + ok.error().message);
    return actions;
  }
};

/// wire/disk on one peer through the coordinator: 1 when the peer accepted.
/// A refusal (a bad spec, a build without the wire layer, a peer not
/// connected) is recorded, not fatal.
std::size_t fault_applier::fault_over_basp(const resolved_fault& f, std::size_t t, bool begin) {
  auto layer = f.kind == fault_kind::wire ? fault_layer::wire : fault_layer::disk;
  auto spec = begin ? fault_spec_string(rp, f, t) : std::string{};
  if (drivers == nullptr) {
    *say << "    " << to_string(f.kind) << " fault " << (begin ? "on" : "off") << " " << rp.peers[t].name
         << " over BASP (its control actor at " << rp.peers[t].address << ":" << control_port << ")"
         << (begin ? ": " + spec : std::string{}) << "\n";
    return 1;
  }
  auto& d = *(*drivers)[t];
  auto r = d.set_fault(layer, spec);
  json a{{"event", begin ? "on" : "off"}, {"accepted", r.ok()}};
  if (begin)
    a["spec"] = spec;
  if (!r)
    a["error"] = r.error().message;
  if (!begin)
    if (auto s = d.sample_now(); s && s->contains("faults"))
      a["counters"] = json::parse((*s)["faults"].dump());
  answers.emplace_back(t, std::move(a));
  return r.ok() ? 1 : 0;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    return {};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s.push_back(hex[md[i] >> 4]);
    s.push_back(hex[md[i] & 15]);
  }
  return s;
}

/// The content: `files` files of pseudo-random bytes from the plan's seed.
status make_content(const plan& p, const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  seeded_rng rng(p.seed, "content");
  std::vector<fs::path> files;
  if (p.files == 1) {
    files.push_back(root / payload_name);
  } else {
    fs::create_directories(root / payload_name, ec);
    for (std::uint32_t i = 1; i <= p.files; ++i)
      files.push_back(root / payload_name / ("file-" + std::to_string(i) + ".bin"));
  }
  std::vector<char> buf(1 << 16);
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto size = p.size / p.files + (i + 1 == files.size() ? p.size % p.files : 0);
    std::ofstream out(files[i], std::ios::binary | std::ios::trunc);
    if (!out)
      return make_error("cannot write " + files[i].string());
    while (size > 0) {
      auto n = std::min<std::uint64_t>(size, buf.size());
      for (std::size_t k = 0; k < n; k += 8) {
        auto x = rng.next();
        std::memcpy(buf.data() + k, &x, std::min<std::size_t>(8, n - k));
      }
      out.write(buf.data(), static_cast<std::streamsize>(n));
      size -= n;
    }
    if (!out.flush())
      return make_error("cannot write " + files[i].string());
  }
  return {};
}

/// Whether every file under `a` equals its twin under `b` (same relative paths).
bool same_tree(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  auto same_file = [](const fs::path& x, const fs::path& y) {
    std::ifstream fx(x, std::ios::binary), fy(y, std::ios::binary);
    if (!fx || !fy)
      return false;
    std::vector<char> bx(1 << 16), by(1 << 16);
    for (;;) {
      fx.read(bx.data(), static_cast<std::streamsize>(bx.size()));
      fy.read(by.data(), static_cast<std::streamsize>(by.size()));
      if (fx.gcount() != fy.gcount() || !std::equal(bx.begin(), bx.begin() + fx.gcount(), by.begin()))
        return false;
      if (fx.gcount() == 0 || !fx)
        return !fy.read(by.data(), 1) || fy.gcount() == 0;
    }
  };
  if (fs::is_regular_file(a, ec))
    return same_file(a, b);
  for (auto& e : fs::recursive_directory_iterator(a, ec))
    if (e.is_regular_file() && !same_file(e.path(), b / fs::relative(e.path(), a)))
      return false;
  return !ec;
}

std::string run_id() {
  auto t = static_cast<unsigned long>(std::chrono::system_clock::now().time_since_epoch().count());
  seeded_rng rng(t ^ static_cast<unsigned long>(::getpid()), "run-id");
  static const char* alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id;
  for (int i = 0; i < 5; ++i)
    id.push_back(alphabet[rng.below(36)]);
  return id;
}

} // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_lab_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    ::sigaction(sig, &sa, nullptr);
}

bool stop_requested() { return g_stop_signal.load() != 0; }

std::string unsupported_parts(const resolved_plan& rp) {
  std::string s;
  for (auto& g : rp.spec.groups) {
    if (!g.behavior.empty() && g.kind != peer_kind::actorrent)
      s += "group " + g.name + ": behavior (only actorrent peers have the wire-fault layer)\n";
  }
  return s;
}

backend_options backend_options_of(const run_options& opt, const std::string& dir) {
  backend_options b;
  b.name = opt.backend;
  b.out_dir = dir;
  b.actorrent = opt.actorrent;
  b.image = opt.docker_image;
  b.lab_image = opt.docker_lab_image;
  return b;
}

void print_dry_run(const resolved_plan& rp, const run_options& opt, std::ostream& out) {
  out << describe(rp);
  if (auto u = unsupported_parts(rp); !u.empty())
    out << "\nNOT RUNNABLE YET (lab run refuses this plan):\n" << u;
  auto dir = opt.out_dir.empty() ? std::string{"OUT"} : opt.out_dir;
  auto torrent = dir + "/lab.torrent";
  command_sink print = [&](const argv_t& argv) {
    out << "  " << printable(argv) << "\n";
    return command_result{0, {}};
  };
  out << "\ncontent: " << format_size(rp.spec.size) << " of seeded random bytes in " << dir << "/content/"
      << payload_name << "\n";
  out << "  " << printable({opt.actorrent, "create", dir + "/content/" + payload_name, "-t", announce_url(rp), "-o",
                            torrent, "-l", std::to_string(rp.spec.piece_length)})
      << "\n";
  auto bo = backend_options_of(opt, dir);
  bo.dry_run = true;
  auto backend = make_backend(rp, bo, "RUNID", print);
  if (!backend) {
    out << backend.error().message << "\n";
    return;
  }
  auto& net = **backend;
  net.describe(out);
  out << "\ntracker (whitelist " << dir << "/tracker/whitelist holds the info-hash):\n  "
      << printable(net.tracker_command(tracker_argv(rp, dir + "/tracker"))) << "\n";
  bool basp = !net.coordinator_netns().empty();
  if (basp)
    out << "\ncoordinator: a CAF actor system started inside " << net.coordinator_netns() << " (address "
        << rp.bridge_address << "); it connects over BASP to the control actor of every actorrent peer (ADDRESS:"
        << control_port << "), samples each once a second and sets wire and disk faults\n";
  out << "\npeers (stdout: JSON progress lines; " << (basp ? "actorrent peers are sampled over BASP, the others from these lines,\n" : "")
      << "once a second into " << dir << "/samples.jsonl):\n";
  for (std::size_t i = 0; i < rp.peers.size(); ++i)
    out << "  " << printable(net.peer_command(i, peer_argv(rp, i, opt.actorrent, torrent, dir + "/peers/" + rp.peers[i].name, basp)))
        << "\n";
  out << "\ntimeline (times from the start of the peers):\n";
  fault_applier fa{rp, net, nullptr, &out};
  for (auto& ev : timeline(rp)) {
    out << "  at " << format_duration_ms(ev.t_ms) << ": fault " << ev.fault << " ("
        << to_string(rp.faults[ev.fault].kind) << ") " << (ev.begin ? "starts" : "ends") << "\n";
    fa.apply(ev);
  }
  out << "  at the end (all honest leechers complete, or " << format_duration_ms(rp.spec.max_duration_ms)
      << "): SIGINT to every peer (SIGKILL after 8s), SIGTERM to the tracker\n";
  out << "\nteardown:\n";
  net.teardown();
}

namespace {

struct peer_record {
  bool completed = false;
  std::optional<double> completion_s;
  std::optional<bool> data_ok;
  json last = nullptr; ///< last progress object
};

struct fault_record {
  std::size_t count = 0;
  std::optional<std::uint64_t> dropped_packets; ///< partition/blackhole/burst_loss: counted when the rules go
  std::optional<std::uint64_t> resets;          ///< reset: packets answered with a TCP reset
  std::vector<gilbert_elliott> chains;          ///< burst_loss: one per target
  std::uint64_t next_step_ms = 0;               ///< burst_loss: when the chains step next
  std::uint64_t state_changes = 0;              ///< burst_loss: rule changes the chains caused
  bool active = false;                          ///< started and not ended
  std::optional<double> first_s, last_s;
  json peers = json::object(); ///< wire/disk: each target's answers ({"on": ..., "off": ...})
  delay_counts delayer;        ///< delay windows without netem: what the targets' delayers did
};

/// A userspace delayer's counts for the report (null when none ran).
json delay_counts_json(const delay_counts& c) {
  if (c.runs == 0)
    return nullptr;
  return json{{"delayers", c.runs},
              {"delayed_packets", c.delayed},
              {"dropped_queue_full", c.dropped},
              {"order_waits", c.order_waits},
              {"mean_hold_ms", c.delayed ? std::round(c.total_hold_ms / static_cast<double>(c.delayed) * 100) / 100 : 0.0},
              {"max_hold_ms", std::round(c.max_hold_ms * 100) / 100},
              {"died_early", c.died},
              {"lost_notifications", c.lost}};
}

/// One real run; the destructor tears down whatever was made.
class lab_run {
public:
  lab_run(const resolved_plan& rp, const run_options& opt, std::ostream& log)
    : rp_(rp), opt_(opt), log_(log), dir_(fs::absolute(opt.out_dir)) {
    auto b = make_backend(rp, backend_options_of(opt, dir_.string()), run_id_, &run_logged_command);
    if (b)
      net_ = std::move(*b);
    else
      backend_error_ = b.error().message;
  }

  ~lab_run() { shutdown(); }

  int run() {
    if (!net_)
      return fail(backend_error_);
    if (auto ok = prepare(); !ok)
      return fail(ok.error().message);
    if (auto ok = start(); !ok)
      return fail(ok.error().message);
    auto ok = loop();
    shutdown();
    if (!ok)
      return fail(ok.error().message);
    return finish();
  }

private:
  static command_result run_logged_command(const argv_t& argv) { return run_command(argv); }

  int fail(const std::string& why) {
    log_ << "lab run: " << why << "\n";
    error_ = why;
    shutdown();
    write_report();
    write_html_report(dir_.string(), log_);
    return 1;
  }

  double now_s() const { return std::chrono::duration<double>(clock_type::now() - t0_).count(); }

  status prepare() {
    std::error_code ec;
    fs::create_directories(dir_ / "peers", ec);
    fs::create_directories(dir_ / "tracker", ec);
    if (ec)
      return make_error("cannot create " + dir_.string() + ": " + ec.message());
    // opentracker drops privileges to nobody: it must read its folder
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                            | fs::perms::others_read | fs::perms::others_exec, ec);
    fs::permissions(dir_ / "tracker", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                                        | fs::perms::others_read | fs::perms::others_exec, ec);
    std::ofstream(dir_ / "plan.yaml", std::ios::trunc) << opt_.plan_text; // the report shows it
    log_ << "lab: content " << format_size(rp_.spec.size) << " and torrent in " << dir_.string() << "\n";
    if (auto ok = make_content(rp_.spec, dir_ / "content"); !ok)
      return ok;
    torrent_ = (dir_ / "lab.torrent").string();
    auto made = run_command({opt_.actorrent, "create", (dir_ / "content" / payload_name).string(), "-t",
                             announce_url(rp_), "-o", torrent_, "-l", std::to_string(rp_.spec.piece_length), "-f"},
                            std::chrono::minutes(5));
    if (made.exit_code != 0)
      return make_error("actorrent create failed: " + made.output);
    auto mi = load_metainfo_file(torrent_);
    if (!mi)
      return make_error("cannot read back " + torrent_ + ": " + mi.error().to_string());
    std::ofstream wl(dir_ / "tracker" / "whitelist");
    wl << mi->info_hash.hex() << "\n";
    if (!wl.flush())
      return make_error("cannot write the tracker's whitelist");
    fs::permissions(dir_ / "tracker" / "whitelist", fs::perms::owner_read | fs::perms::owner_write
                                                      | fs::perms::group_read | fs::perms::others_read, ec);
    for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
      auto pdir = dir_ / "peers" / rp_.peers[i].name;
      fs::create_directories(pdir, ec);
      if (rp_.peers[i].role == peer_role::seed)
        fs::copy(dir_ / "content" / payload_name, pdir / payload_name,
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      if (ec)
        return make_error("cannot prepare " + pdir.string() + ": " + ec.message());
    }
    return {};
  }

  status start() {
    log_ << "lab: network of " << rp_.peers.size() << " peers + tracker (" << net_->name() << ", run " << run_id_ << ")\n";
    if (auto ok = net_->build(); !ok)
      return ok;
    std::string err;
    if (!tracker_.start(net_->tracker_command(tracker_argv(rp_, (dir_ / "tracker").string())),
                        (dir_ / "tracker" / "out.log").string(), (dir_ / "tracker" / "err.log").string(), err))
      return make_error("cannot start opentracker: " + err);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (auto ok = net_->tracker_ready(); !ok)
      return ok;
    if (!tracker_.poll())
      return make_error("opentracker ended at once (" + tracker_.describe_status() + "; see "
                        + (dir_ / "tracker" / "err.log").string() + ")");
    // the coordinator's CAF threads live in the lab network (lab/coordinator.hpp); a
    // backend without such a namespace (docker run without root) samples its peers' JSON lines
    if (auto ns = net_->coordinator_netns(); !ns.empty()) {
      auto coord = coordinator::start(ns);
      if (!coord)
        return make_error("cannot start the coordinator: " + coord.error().message);
      coord_ = std::shared_ptr<coordinator>(std::move(*coord));
      log_ << "lab: coordinator (CAF, BASP) in namespace " << ns << "\n";
    }
    t0_ = clock_type::now();
    for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
      auto pdir = dir_ / "peers" / rp_.peers[i].name;
      bool basp = coord_ && rp_.peers[i].kind == peer_kind::actorrent;
      auto argv = peer_argv(rp_, i, opt_.actorrent, torrent_, pdir.string(), basp);
      auto out = (dir_ / "peers" / (rp_.peers[i].name + ".jsonl")).string();
      auto err = (dir_ / "peers" / (rp_.peers[i].name + ".err")).string();
      std::unique_ptr<peer_driver> d;
      d = net_->make_peer(i, argv, out, err);
      if (basp) // the backend's driver supervises it; samples and faults go over BASP
        d = std::make_unique<basp_driver>(coord_, i, rp_.peers[i].name, rp_.peers[i].address, control_port,
                                          std::move(d));
      if (auto ok = d->start(); !ok)
        return make_error("cannot start " + rp_.peers[i].name + ": " + ok.error().message);
      drivers_.push_back(std::move(d));
    }
    records_.resize(rp_.peers.size());
    faults_.resize(rp_.faults.size());
    link_delay_.resize(rp_.peers.size());
    delay_owner_.assign(rp_.peers.size(), no_fault);
    samples_.open(dir_ / "samples.jsonl", std::ios::trunc);
    log_ << "lab: tracker and " << drivers_.size() << " peers started\n";
    return {};
  }

  void sample_all() {
    auto t = now_s();
    for (std::size_t i = 0; i < drivers_.size(); ++i) {
      auto s = drivers_[i]->sample();
      json line;
      line["t"] = std::round(t * 10) / 10;
      line["peer"] = rp_.peers[i].name;
      line["running"] = s.running;
      line["paused"] = s.paused;
      line["source"] = s.source;
      if (s.sample_error)
        line["sample_error"] = *s.sample_error;
      if (s.progress) {
        records_[i].last = json::parse(s.progress->dump());
        for (auto key : {"percent", "have_bytes", "downloaded", "uploaded", "wasted", "down_rate", "up_rate", "peers",
                         "seeds", "hash_failures", "banned", "complete", "pieces_have", "pieces_total"})
          line[key] = s.progress->contains(key) ? json::parse((*s.progress)[key].dump()) : json(nullptr);
        if (s.progress->contains("have") && (*s.progress)["have"].is_string())
          line["have"] = (*s.progress)["have"]; // hex bitfield: the report counts the copies of each piece
        for (auto key : {"state", "errors", "faults", "node"}) // BASP samples carry these too
          if (s.progress->contains(key))
            line[key] = json::parse((*s.progress)[key].dump());
        if (s.progress->value("complete", false) && !records_[i].completed) {
          records_[i].completed = true;
          // a seed is complete from the start: only leechers get a completion time
          if (rp_.peers[i].role == peer_role::leech) {
            records_[i].completion_s = std::round(t * 10) / 10;
            log_ << "lab: " << rp_.peers[i].name << " complete at " << *records_[i].completion_s << " s\n";
          }
        }
      }
      line["peak_rss_bytes"] = s.rss_bytes ? json(*s.rss_bytes) : json(nullptr);
      samples_ << line.dump() << "\n";
    }
    samples_.flush();
  }

  bool honest_leechers_complete() const {
    for (std::size_t i = 0; i < rp_.peers.size(); ++i)
      if (rp_.peers[i].honest && rp_.peers[i].role == peer_role::leech && !records_[i].completed)
        return false;
    return true;
  }

  status loop() {
    auto events = timeline(rp_);
    std::size_t next_event = 0;
    double next_sample = 0;
    fault_applier fa{rp_, *net_, &drivers_, nullptr};
    for (;;) {
      if (g_stop_signal.load() != 0) {
        interrupted_ = true;
        log_ << "lab: interrupted (signal " << g_stop_signal.load() << "), tearing down\n";
        return {};
      }
      auto t = now_s();
      while (next_event < events.size() && events[next_event].t_ms <= t * 1000) {
        const auto& ev = events[next_event++];
        fa.dropped = 0;
        fa.answers.clear();
        auto n = fa.apply(ev);
        if (!n)
          return n.error();
        auto& rec = faults_[ev.fault];
        for (auto& [peer, answer] : fa.answers) {
          log_ << "lab: " << rp_.peers[peer].name << ": " << answer.dump() << "\n";
          rec.peers[rp_.peers[peer].name][ev.begin ? "on" : "off"] = std::move(answer);
        }
        rec.count += *n;
        rec.active = ev.begin;
        auto k = rp_.faults[ev.fault].kind;
        if (!ev.begin && counts_drops(k))
          rec.dropped_packets = rec.dropped_packets.value_or(0) + fa.dropped;
        if (!ev.begin && k == fault_kind::reset)
          rec.resets = rec.resets.value_or(0) + fa.resets;
        if (ev.begin && k == fault_kind::burst_loss)
          start_chains(ev.fault);
        if (k == fault_kind::delay || k == fault_kind::loss || k == fault_kind::rate)
          collect_delay_counts(ev);
        if (!rec.first_s)
          rec.first_s = std::round(t * 10) / 10;
        rec.last_s = std::round(t * 10) / 10;
        std::string who;
        for (auto p : rp_.faults[ev.fault].targets)
          who += (who.empty() ? "" : ",") + rp_.peers[p].name;
        log_ << "lab: " << std::round(t * 10) / 10 << " s: fault " << ev.fault << " ("
             << to_string(rp_.faults[ev.fault].kind) << " " << who << ") " << (ev.begin ? "on" : "off") << ", "
             << *n << " actions\n";
      }
      if (auto ok = step_bursts(t); !ok)
        return ok;
      if (coord_)
        if (auto f = coord_->fatal())
          return make_error(*f);
      if (t >= next_sample) {
        sample_all();
        next_sample += 1.0;
        if (honest_leechers_complete())
          return {};
      }
      if (t * 1000 >= static_cast<double>(rp_.spec.max_duration_ms)) {
        timed_out_ = true;
        log_ << "lab: max_duration reached\n";
        return {};
      }
      if (!tracker_.poll())
        return make_error("opentracker ended during the run (" + tracker_.describe_status() + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void shutdown() {
    if (down_)
      return;
    down_ = true;
    // every peer is asked at once and waited for with one deadline, then the
    // ones still running are asked again (a BASP stop becomes a signal), so a
    // swarm whose peers ignore the first request stops in about 4 + 8 s, not
    // in that time for each peer
    auto wait_all = [this](std::chrono::milliseconds bound) {
      auto until = std::chrono::steady_clock::now() + bound;
      while (std::chrono::steady_clock::now() < until
             && std::any_of(drivers_.begin(), drivers_.end(), [](auto& d) { return d->running(); }))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    for (auto& d : drivers_)
      d->request_stop();
    wait_all(std::chrono::seconds(4));
    for (auto& d : drivers_)
      if (d->running())
        d->request_stop();
    for (std::size_t i = 0; i < drivers_.size(); ++i) {
      drivers_[i]->stop();
      if (auto s = drivers_[i]->sample(); s.progress && i < records_.size())
        records_[i].last = json::parse(s.progress->dump());
    }
    if (coord_)
      coord_->shutdown(); // its connections go before the namespaces do
    tracker_.stop(SIGTERM, std::chrono::seconds(3));
    duration_s_ = now_s();
    if (!net_)
      return;
    count_active_drops();
    if (auto problems = net_->teardown(); !problems.empty())
      log_ << "lab: teardown problems:\n" << problems;
    for (std::size_t p = 0; p < delay_owner_.size(); ++p) // the delayers teardown stopped
      add_delay_counts(p, net_->take_delay_counts(p));
  }

  static constexpr std::size_t no_fault = static_cast<std::size_t>(-1);

  /// Counts of delayers the backend stopped for peer `p`: to the delay window
  /// that started them, or else to the peer's own link.
  void add_delay_counts(std::size_t p, const delay_counts& c) {
    if (c.runs == 0)
      return;
    if (c.died > 0)
      log_ << "lab: " << rp_.peers[p].name << ": a delayer had ended before it was stopped (its packets then "
           << "passed undelayed; see " << dir_.string() << "/delayers/)\n";
    if (delay_owner_[p] == no_fault)
      link_delay_[p].add(c);
    else
      faults_[delay_owner_[p]].delayer.add(c);
  }

  /// After a delay/loss/rate event: what the targets' replaced delayers did, and
  /// who owns their new one (a window with a delay owns it until it ends).
  void collect_delay_counts(const timeline_event& ev) {
    const auto& f = rp_.faults[ev.fault];
    for (auto t : f.targets) {
      add_delay_counts(t, net_->take_delay_counts(t));
      if (ev.begin && f.link.delay_ms)
        delay_owner_[t] = ev.fault;
      else if (!ev.begin && delay_owner_[t] == ev.fault)
        delay_owner_[t] = no_fault;
    }
  }

  static bool counts_drops(fault_kind k) {
    return k == fault_kind::partition || k == fault_kind::blackhole || k == fault_kind::burst_loss;
  }

  /// Partitions, blackholes, resets and bursty losses still on at the end: read
  /// what their rules counted before the namespaces go (the rules go with them).
  void count_active_drops() {
    fault_applier fa{rp_, *net_, &drivers_, nullptr};
    for (std::size_t i = 0; i < faults_.size(); ++i) {
      auto k = rp_.faults[i].kind;
      if (!faults_[i].active || (!counts_drops(k) && k != fault_kind::reset))
        continue;
      fa.dropped = 0;
      fa.resets = 0;
      if (fa.apply({0, i, false})) {
        if (counts_drops(k))
          faults_[i].dropped_packets = faults_[i].dropped_packets.value_or(0) + fa.dropped;
        else
          faults_[i].resets = faults_[i].resets.value_or(0) + fa.resets;
      }
      faults_[i].active = false;
    }
  }

  /// A burst_loss fault begins: one chain per target, in state good.
  void start_chains(std::size_t fault) {
    const auto& f = rp_.faults[fault];
    auto& rec = faults_[fault];
    rec.chains.clear();
    for (auto t : f.targets)
      rec.chains.emplace_back(f.burst, rp_.spec.seed, "burst-loss-" + std::to_string(fault) + "-" + rp_.peers[t].name);
    rec.next_step_ms = f.start_ms + f.burst.step_ms;
  }

  /// Steps the chains of the active burst_loss faults up to `t` (seconds since the
  /// start; steps the loop was late for are all taken, the rule follows the last
  /// state) and changes a target's rule when its state changed.
  status step_bursts(double t) {
    for (std::size_t i = 0; i < faults_.size(); ++i) {
      auto& rec = faults_[i];
      const auto& f = rp_.faults[i];
      if (f.kind != fault_kind::burst_loss || !rec.active)
        continue;
      std::vector<bool> changed(rec.chains.size(), false);
      std::size_t bound = 100'000; // steps taken in one call, at most
      while (static_cast<double>(rec.next_step_ms) <= t * 1000 && bound-- > 0) {
        for (std::size_t c = 0; c < rec.chains.size(); ++c)
          if (rec.chains[c].step())
            changed[c] = !changed[c];
        rec.next_step_ms += f.burst.step_ms;
      }
      for (std::size_t c = 0; c < rec.chains.size(); ++c) {
        if (!changed[c])
          continue;
        std::uint64_t dropped = 0;
        if (auto ok = net_->burst_drop(f.targets[c], rec.chains[c].loss_ppm(), &dropped); !ok)
          return make_error("fault " + std::to_string(i) + " (burst_loss): " + ok.error().message);
        rec.dropped_packets = rec.dropped_packets.value_or(0) + dropped;
        ++rec.state_changes;
      }
    }
    return {};
  }

  json oracle(const oracle_spec& o) {
    if (o.name == "slowdown") // against the --baseline run (lab/analysis.cpp)
      return slowdown_oracle(peers_json(), opt_.baseline_dir, o.factor.value_or(1.0));
    bool passed = true;
    std::string detail;
    auto add = [&](const std::string& s) { detail += (detail.empty() ? "" : "; ") + s; };
    for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
      const auto& peer = rp_.peers[i];
      const auto& rec = records_[i];
      if (o.name == "all_honest_complete" && peer.honest && peer.role == peer_role::leech) {
        if (!rec.completed) {
          passed = false;
          add(peer.name + " did not complete");
        } else if (o.within_ms && *rec.completion_s * 1000 > static_cast<double>(*o.within_ms)) {
          passed = false;
          add(peer.name + " completed after " + std::to_string(*rec.completion_s) + " s");
        }
      } else if (o.name == "data_intact" && rec.completed && rec.data_ok && !*rec.data_ok) {
        passed = false;
        add(peer.name + "'s files differ from the source");
      } else if (o.name == "no_crash" && drivers_[i]->crash()) {
        passed = false;
        add(peer.name + ": " + *drivers_[i]->crash());
      } else if (o.name == "max_rss" && peer.kind == peer_kind::actorrent && drivers_[i]->peak_rss()
                 && *drivers_[i]->peak_rss() > *o.max_bytes) {
        passed = false;
        add(peer.name + " peaked at " + std::to_string(*drivers_[i]->peak_rss()) + " bytes");
      }
    }
    if (o.name == "no_honest_banned" || o.name == "misbehaving_banned") { // who banned whom: lab/bans.*
      auto mis = o.name == "misbehaving_banned";
      passed = mis ? bans_.misbehaving_banned : bans_.no_honest_banned;
      add(mis ? bans_.misbehaving_detail : bans_.no_honest_detail);
    }
    if (o.name == "data_intact") {
      std::size_t checked = 0;
      for (auto& r : records_)
        checked += r.data_ok ? 1 : 0;
      add(std::to_string(checked) + " completed peers compared byte for byte");
    }
    if (passed && detail.empty())
      detail = "holds for every peer";
    return json{{"name", o.name}, {"passed", passed}, {"detail", detail}};
  }

  void check_data() {
    for (std::size_t i = 0; i < rp_.peers.size(); ++i)
      if (records_[i].completed)
        records_[i].data_ok = same_tree(dir_ / "content" / payload_name, dir_ / "peers" / rp_.peers[i].name / payload_name);
  }

  void judge_bans() {
    std::vector<ban_report> reports(rp_.peers.size());
    for (std::size_t i = 0; i < reports.size() && i < records_.size(); ++i) {
      const auto& last = records_[i].last;
      if (!last.is_object())
        continue;
      reports[i].reported = true;
      if (last.contains("banned_peers") && last["banned_peers"].is_array()) {
        reports[i].banned.emplace();
        for (auto& a : last["banned_peers"])
          if (a.is_string())
            reports[i].banned->push_back(a.get<std::string>());
      }
      if (last.contains("hash_failures_from") && last["hash_failures_from"].is_object())
        for (auto& [addr, v] : last["hash_failures_from"].items())
          if (v.is_number_unsigned())
            reports[i].failed_from[addr] = v.get<std::uint64_t>();
      if (last.contains("wire_corrupted_to") && last["wire_corrupted_to"].is_object())
        for (auto& [addr, v] : last["wire_corrupted_to"].items())
          if (v.is_number_unsigned())
            reports[i].corrupted_to[addr] = v.get<std::uint64_t>();
    }
    bans_ = analyse_bans(rp_, reports);
  }

  json peers_json() const {
    json out = json::array();
    for (std::size_t i = 0; i < rp_.peers.size(); ++i) {
      const auto& peer = rp_.peers[i];
      const auto* rec = i < records_.size() ? &records_[i] : nullptr;
      const auto* drv = i < drivers_.size() ? drivers_[i].get() : nullptr;
      auto last = [&](const char* key) {
        return rec && rec->last.is_object() && rec->last.contains(key) ? json::parse(rec->last[key].dump()) : json(nullptr);
      };
      json p{{"name", peer.name}, {"group", rp_.spec.groups[peer.group].name}, {"kind", to_string(peer.kind)},
             {"role", to_string(peer.role)}, {"honest", peer.honest}, {"address", peer.address}};
      p["completed"] = rec ? json(rec->completed) : json(nullptr);
      p["completion_s"] = rec && rec->completion_s ? json(*rec->completion_s) : json(nullptr);
      p["data_ok"] = rec && rec->data_ok ? json(*rec->data_ok) : json(nullptr);
      p["bytes_down"] = last("downloaded");
      p["bytes_up"] = last("uploaded");
      p["wasted_bytes"] = last("wasted");
      p["banned_peers"] = i < bans_.known.size() && bans_.known[i] ? json(bans_.banned_peers[i]) : json(nullptr);
      p["wire_faults"] = last("wire"); // what a misbehaving peer's wire-fault layer did
      p["banned_count"] = last("banned");
      p["hash_failures"] = last("hash_failures");
      p["crashed"] = drv ? json(drv->crash().has_value()) : json(nullptr);
      p["crash"] = drv && drv->crash() ? json(*drv->crash()) : json(nullptr);
      p["stop_needed_sigkill"] = drv ? json(drv->forced()) : json(nullptr);
      p["peak_rss_bytes"] = drv && drv->peak_rss() ? json(*drv->peak_rss()) : json(nullptr);
      // its link's delay/jitter made by a userspace delayer (no netem): what it did
      p["delayer"] = i < link_delay_.size() ? delay_counts_json(link_delay_[i]) : json(nullptr);
      out.push_back(std::move(p));
    }
    return out;
  }

  json faults_json() const {
    json out = json::array();
    for (std::size_t i = 0; i < rp_.faults.size(); ++i) {
      const auto& f = rp_.faults[i];
      json targets = json::array();
      for (auto t : f.targets)
        targets.push_back(rp_.peers[t].name);
      json fj{{"kind", to_string(f.kind)}, {"targets", targets}};
      if (f.kind == fault_kind::partition) {
        json other = json::array();
        for (auto t : f.other)
          other.push_back(rp_.peers[t].name);
        fj["other"] = other;
        fj["one_way"] = f.one_way;
      }
      fj["at_s"] = static_cast<double>(f.start_ms) / 1000;
      fj["for_s"] = f.end_ms ? json(static_cast<double>(*f.end_ms - f.start_ms) / 1000)
                    : f.down_for_ms ? json(static_cast<double>(*f.down_for_ms) / 1000) : json(nullptr);
      if (!f.link.empty())
        fj["link"] = f.link.describe();
      const auto* rec = i < faults_.size() ? &faults_[i] : nullptr;
      fj["applied"] = json{{"count", rec ? rec->count : 0},
                           {"first_s", rec && rec->first_s ? json(*rec->first_s) : json(nullptr)},
                           {"last_s", rec && rec->last_s ? json(*rec->last_s) : json(nullptr)},
                           {"dropped_packets", rec && rec->dropped_packets ? json(*rec->dropped_packets) : json(nullptr)}};
      if (f.link.delay_ms)
        fj["applied"]["delayer"] = rec ? delay_counts_json(rec->delayer) : json(nullptr);
      if (f.kind == fault_kind::reset) {
        fj["after_bytes"] = f.after_bytes ? json(*f.after_bytes) : json(nullptr);
        fj["applied"]["resets"] = rec && rec->resets ? json(*rec->resets) : json(nullptr);
      }
      if (f.kind == fault_kind::burst_loss && rec) {
        fj["burst"] = json{{"to_bad", format_percent_ppm(f.burst.to_bad_ppm)},
                           {"to_good", format_percent_ppm(f.burst.to_good_ppm)},
                           {"loss_bad", format_percent_ppm(f.burst.loss_bad_ppm)},
                           {"loss_good", format_percent_ppm(f.burst.loss_good_ppm)},
                           {"step_s", static_cast<double>(f.burst.step_ms) / 1000}};
        std::uint64_t steps = 0, bad = 0, bursts = 0;
        for (auto& c : rec->chains) {
          steps += c.steps();
          bad += c.bad_steps();
          bursts += c.bursts();
        }
        fj["applied"]["steps"] = steps;
        fj["applied"]["bad_steps"] = bad;
        fj["applied"]["bursts"] = bursts;
        fj["applied"]["rule_changes"] = rec->state_changes;
      }
      if (f.kind == fault_kind::wire || f.kind == fault_kind::disk) {
        fj["spec"] = fault_spec_string(rp_, f, f.targets.empty() ? 0 : f.targets.front());
        fj["applied"]["peers"] = rec ? rec->peers : json::object();
      }
      out.push_back(std::move(fj));
    }
    return out;
  }

  void write_report() {
    json r;
    r["plan"] = json{{"name", rp_.spec.name}, {"sha256", sha256_hex(opt_.plan_text)}, {"seed", rp_.spec.seed},
                     {"source", rp_.spec.source}};
    r["commit"] = opt_.commit.empty() ? json(nullptr) : json(opt_.commit);
    r["duration_s"] = std::round(duration_s_ * 10) / 10;
    r["backend"] = json{{"name", opt_.backend}, {"run_id", run_id_}};
    r["interrupted"] = interrupted_;
    r["timed_out"] = timed_out_;
    r["error"] = error_.empty() ? json(nullptr) : json(error_);
    r["peers"] = peers_json();
    r["faults"] = faults_json();
    r["oracles"] = oracles_;
    auto opt = [](const std::optional<double>& x) { return x ? json(*x) : json(nullptr); };
    r["bans"] = json{{"precision", opt(bans_.precision)}, {"recall", opt(bans_.recall)}}; // over honest actorrent peers
    r["completion"] = completion_figures(r["peers"]);
    if (!opt_.baseline_dir.empty())
      r["baseline"] = baseline_json(r["peers"], opt_.baseline_dir);
    r["runner"] = runner_usage();
    std::ofstream out(dir_ / "report.json", std::ios::trunc);
    out << r.dump(2) << "\n";
  }

  int finish() {
    check_data();
    judge_bans();
    bool all = true;
    oracles_ = json::array();
    for (auto& o : rp_.spec.oracles) {
      auto j = oracle(o);
      all = all && j["passed"].get<bool>();
      log_ << "lab: oracle " << o.describe() << ": " << (j["passed"].get<bool>() ? "holds" : "FAILS") << " ("
           << j["detail"].get<std::string>() << ")\n";
      oracles_.push_back(std::move(j));
    }
    write_report();
    log_ << "lab: report in " << (dir_ / "report.json").string() << "\n";
    write_html_report(dir_.string(), log_);
    return all && !interrupted_ ? 0 : 1;
  }

  const resolved_plan& rp_;
  const run_options& opt_;
  std::ostream& log_;
  fs::path dir_;
  std::string run_id_ = run_id();
  std::unique_ptr<lab_backend> net_;
  std::string backend_error_;
  std::string torrent_;
  child_process tracker_;
  std::shared_ptr<coordinator> coord_; ///< before drivers_: they use it until they are gone
  std::vector<std::unique_ptr<peer_driver>> drivers_;
  std::vector<peer_record> records_;
  std::vector<fault_record> faults_;
  std::vector<delay_counts> link_delay_; ///< each peer's own link's delayers (no netem)
  std::vector<std::size_t> delay_owner_; ///< each peer: the fault whose delayer runs now, or no_fault
  std::ofstream samples_;
  json oracles_ = json::array();
  ban_analysis bans_;
  clock_type::time_point t0_ = clock_type::now();
  double duration_s_ = 0;
  bool interrupted_ = false, timed_out_ = false, down_ = false;
  std::string error_;
};

} // namespace

int run_plan(const resolved_plan& rp, const run_options& opt, std::ostream& log) {
  lab_run run(rp, opt, log);
  return run.run();
}

} // namespace actorrent::lab
