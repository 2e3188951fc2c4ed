#include "lab/backend.hpp"

#include "lab/docker_backend.hpp"

#include <ostream>

#include <unistd.h>

namespace actorrent::lab {

namespace {

/// Namespaces (lab/netns.*) and processes (process_driver).
class netns_backend : public lab_backend {
public:
  netns_backend(const resolved_plan& rp, const backend_options& opt, const std::string& run_id, command_sink run)
    : net_(rp, run_id, std::move(run)) {
    // delay/jitter on a kernel without netem: `actorrent lab delayer` in the peer's namespace
    net_.use_delayer(opt.actorrent, (opt.out_dir.empty() ? std::string{"."} : opt.out_dir) + "/delayers", opt.dry_run);
  }
  std::string_view name() const override { return "netns"; }
  status build() override { return net_.build(); }
  argv_t tracker_command(const argv_t& argv) override { return net_.in_bridge(argv); }
  status tracker_ready() override { return net_.tracker_reachable(); }
  argv_t peer_command(std::size_t peer, const argv_t& argv) override { return net_.in_peer(peer, argv); }
  std::unique_ptr<peer_driver> make_peer(std::size_t peer, const argv_t& argv, const std::string& out_file,
                                         const std::string& err_file) override {
    return std::make_unique<process_driver>(net_.in_peer(peer, argv), out_file, err_file);
  }
  argv_t on_lab_network(const argv_t& argv) override { return net_.in_bridge(argv); }
  status set_link(std::size_t peer, const link_spec& l) override { return net_.set_link(peer, l); }
  status block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped) override {
    return net_.block(from, to, on, dropped);
  }
  status blackhole(std::size_t peer, bool on, std::uint64_t* dropped) override {
    return net_.blackhole(peer, on, dropped);
  }
  status reset_after(std::size_t peer, std::uint64_t bytes, bool on, std::uint64_t* resets) override {
    return net_.reset_after(peer, bytes, on, resets);
  }
  status burst_drop(std::size_t peer, std::uint32_t ppm, std::uint64_t* dropped) override {
    return net_.burst_drop(peer, ppm, dropped);
  }
  delay_counts take_delay_counts(std::size_t peer) override { return net_.take_delay_counts(peer); }
  std::string teardown() override { return net_.teardown(); }
  std::string coordinator_netns() const override { return "/run/netns/" + net_.bridge_ns(); }
  void describe(std::ostream& out) override {
    out << "\nnetwork (namespaces " << net_.bridge_ns() << " and one per peer):\n";
    net_.build();
    if (!net_.has_netem())
      out << "  (this kernel has no netem: a link's or a window's delay/jitter is an `actorrent lab delayer` "
             "process in the peer's namespace, holding its outgoing packets on an NFQUEUE; its counts go to "
             "report.json)\n";
  }

private:
  lab_network net_;
};

} // namespace

result<std::unique_ptr<lab_backend>> make_backend(const resolved_plan& rp, const backend_options& opt,
                                                  const std::string& run_id, command_sink run) {
  if (opt.name == "netns")
    return std::unique_ptr<lab_backend>(std::make_unique<netns_backend>(rp, opt, run_id, std::move(run)));
  if (opt.name == "docker")
    return std::unique_ptr<lab_backend>(std::make_unique<docker_backend>(rp, opt, run_id, std::move(run)));
  return make_error("unknown backend '" + opt.name + "' (netns or docker)");
}

std::string backend_unsupported_parts(const resolved_plan& rp, const std::string& backend) {
  std::string s;
  if (backend == "docker")
    for (auto& g : rp.spec.groups)
      if (g.kind != peer_kind::actorrent)
        s += "group " + g.name + ": kind " + std::string{to_string(g.kind)}
             + " (the docker backend runs actorrent peers only: the image has no " + std::string{to_string(g.kind)}
             + ")\n";
  if (backend == "docker")
    for (auto& f : rp.spec.faults) {
      if (f.kind == fault_kind::reset || f.kind == fault_kind::burst_loss)
        s += f.where + ": a " + std::string{to_string(f.kind)}
             + " fault needs iptables rules in the peer's namespace, which the docker backend does not make\n";
      else if ((f.kind == fault_kind::wire || f.kind == fault_kind::disk) && ::geteuid() != 0)
        // the coordinator enters the lab network by setns, which needs root
        s += f.where + ": a " + std::string{to_string(f.kind)}
             + " fault window needs the BASP coordinator, which the docker backend starts only as root "
               "(it enters the lab network's namespace; a group's behavior works)\n";
    }
  return s;
}

} // namespace actorrent::lab
