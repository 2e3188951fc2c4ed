// The lab on Docker (`lab run --backend docker`): every peer a container on a
// private Docker network made for the run (`--internal`: no route out of it, the
// plan's subnet and addresses), the tracker a container at the plan's bridge
// address. Only the docker CLI, through the lab's process helpers (no SDK).
//
// A peer whose plan shapes or cuts its link (its own `link`, or a partition,
// blackhole, delay, loss or rate fault naming it) gets a holder container first:
// `sleep` in the lab image (ip, tc, iptables) with NET_ADMIN, owning the peer's
// address and network namespace, where its tc qdiscs (tbf or netem on eth0; the
// ingress through an ifb device) and iptables rules live. The peer's container
// joins that namespace (`--network container:HOLDER`) without NET_ADMIN, so a
// churned peer (docker kill, docker start) keeps its link and rules, as a peer's
// namespace does with the netns backend. Peers with no network fault get no
// holder and no capability.
//
// The coordinator (lab/coordinator.hpp) reaches the actorrent peers' control
// actors over BASP on the lab network, as with namespaces: a holder container
// (`sleep` in the actorrent image, no capability) owns the plan's bridge address
// (.0.1); the tracker's container joins its network namespace, and the runner
// starts the coordinator's CAF threads inside it (setns on /proc/PID/ns/net of
// the holder's process, which needs root: without it there is no coordinator,
// actorrent peers are sampled from their JSON lines, and wire/disk fault windows
// are refused).
//
// Paths: the runner's commands name files of this machine; each peer's container
// mounts the run's folder read-only and its own peer folder read-write at the same
// paths, so commands, the data check and the report are the backend's own.
// /config and /downloads are tmpfs (no anonymous volume is made). Every object is
// named alab-<run>-* and labelled actorrent.lab.run=<run>; teardown removes them
// by label, and `lab cleanup` removes every actorrent.lab object.
#pragma once

#include "lab/backend.hpp"

#include <map>
#include <vector>

namespace actorrent::lab {

inline constexpr std::string_view docker_lab_label = "actorrent.lab";
inline constexpr std::string_view docker_run_label = "actorrent.lab.run";

class docker_backend : public lab_backend {
public:
  docker_backend(const resolved_plan& rp, const backend_options& opt, std::string run_id, command_sink run);
  ~docker_backend() override;

  std::string_view name() const override { return "docker"; }
  status build() override;
  argv_t tracker_command(const argv_t& argv) override;
  status tracker_ready() override;
  argv_t peer_command(std::size_t peer, const argv_t& argv) override { return peer_run_command(peer, argv); }
  std::unique_ptr<peer_driver> make_peer(std::size_t peer, const argv_t& argv, const std::string& out_file,
                                         const std::string& err_file) override;
  argv_t on_lab_network(const argv_t& argv) override;
  status set_link(std::size_t peer, const link_spec& l) override;
  status block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped) override;
  status blackhole(std::size_t peer, bool on, std::uint64_t* dropped) override;
  /// Runs what set_link, block and blackhole queued: first the drop counters of
  /// rules about to go (one listing per holder), then each holder's commands in
  /// order in one `docker exec`, the holders side by side (a docker call takes
  /// 0.1 to 1 s; one per rule made a fault's start late by seconds).
  status commit() override;
  std::string teardown() override;
  /// /proc/PID/ns/net of the coordinator's holder, once build() made it (root only).
  std::string coordinator_netns() const override { return coord_netns_; }
  void describe(std::ostream& out) override;

  const std::string& network() const { return network_; }
  std::string container(std::size_t peer) const;
  std::string holder(std::size_t peer) const;
  /// The container holding the bridge address: the tracker's and the coordinator's network.
  std::string coordinator_holder() const { return network_ + "-coord"; }
  bool has_holder(std::size_t peer) const { return holder_.at(peer); }
  /// The `docker run` (or, once made, `docker start -a`) of peer `peer`.
  argv_t peer_run_command(std::size_t peer, const argv_t& argv) const;

private:
  struct queued_command {
    argv_t argv;
    bool optional = false; ///< its failure is fine ("none there")
  };
  struct drop_read {
    std::size_t peer = 0;
    std::string chain;
    int column = 0;
    std::string value;
    std::uint64_t* out = nullptr;
  };
  status must(const argv_t& argv);
  status make_coordinator_holder();
  void queue(std::size_t peer, argv_t argv, bool optional = false);
  std::vector<command_result> run_all(const std::vector<argv_t>& cmds);
  argv_t in_holder(std::size_t peer, const argv_t& argv) const;
  argv_t labels() const;
  const resolved_plan& rp_;
  backend_options opt_;
  std::string run_id_, network_;
  command_sink run_;
  std::vector<bool> holder_;           ///< which peers get a NET_ADMIN holder
  std::vector<link_spec> current_;     ///< each peer's shaping now
  std::vector<bool> ifb_;              ///< ingress redirected to ifb0 in the holder
  std::vector<argv_t> loss_rule_;      ///< iptables loss rule (without -I/-D), if any
  std::map<std::size_t, std::vector<queued_command>> queued_; ///< by peer, in order
  std::vector<drop_read> reads_;
  std::string coord_netns_;
  bool netem_ = true;
  bool made_network_ = false;
};

/// Removes every container, network and volume labelled actorrent.lab (any
/// run); one line per object. "" when there is no docker command or engine.
std::string cleanup_docker_labs();

} // namespace actorrent::lab
