// Where a lab run's peers live: the seam between the runner (plan, timeline,
// samples, oracles, report) and the machinery that makes the network and runs
// programs on it. Two implementations:
//   netns  (lab/backend.cpp)         one network namespace per peer, a bridge namespace
//                                    for the tracker (lab/netns.*), peers are processes
//   docker (lab/docker_backend.*)    one container per peer on a private, internal Docker
//                                    network; the tracker a container too
// The runner builds every command with paths of this machine; a backend runs it
// where the peer lives (the docker backend mounts those paths into the container
// at the same place). CAF-free.
#pragma once

#include "lab/driver.hpp"
#include "lab/netns.hpp"
#include "lab/plan.hpp"
#include "lab/process.hpp"

#include <iosfwd>
#include <memory>
#include <string>

namespace actorrent::lab {

class lab_backend {
public:
  virtual ~lab_backend() = default;
  /// "netns" or "docker".
  virtual std::string_view name() const = 0;
  /// Makes the network and each peer's own link shaping. On an error, what was
  /// made stays recorded for teardown.
  virtual status build() = 0;
  /// The command that runs `argv` (opentracker) at the plan's bridge address,
  /// as a foreground process the runner starts, polls and stops by PID.
  virtual argv_t tracker_command(const argv_t& argv) = 0;
  /// Waits (bounded) until the tracker started with tracker_command() runs.
  virtual status tracker_ready() { return {}; }
  /// The command make_peer() runs for `argv` (for --dry-run).
  virtual argv_t peer_command(std::size_t peer, const argv_t& argv) = 0;
  /// A driver for peer `peer` running `argv` (stdout: JSON progress lines into
  /// `out_file`, stderr into `err_file`). Not started yet.
  virtual std::unique_ptr<peer_driver> make_peer(std::size_t peer, const argv_t& argv, const std::string& out_file,
                                                 const std::string& err_file) = 0;
  /// A command run on the lab network, beside the peers (a coordinator's
  /// connections to their control ports go from there; see deploy/README.md).
  virtual argv_t on_lab_network(const argv_t& argv) = 0;
  /// Replaces a peer's shaping ({}: none).
  virtual status set_link(std::size_t peer, const link_spec& l) = 0;
  /// Drops packets from `from` to `to`, or removes that (adding what was dropped to `*dropped`).
  virtual status block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped = nullptr) = 0;
  /// Cuts a peer off from everyone, or lets it back.
  virtual status blackhole(std::size_t peer, bool on, std::uint64_t* dropped = nullptr) = 0;
  /// reset faults: every TCP connection of the peer is reset once it has carried
  /// `bytes` (both ways), or that stops (adding the packets answered with a reset
  /// to `*resets`).
  virtual status reset_after(std::size_t /*peer*/, std::uint64_t /*bytes*/, bool /*on*/,
                             std::uint64_t* /*resets*/ = nullptr) {
    return make_error("the " + std::string{name()} + " backend cannot reset connections");
  }
  /// burst_loss faults: the peer's burst-loss rule now drops `ppm` of its
  /// outgoing packets (0: no rule); what the replaced rule dropped is added to
  /// `*dropped`.
  virtual status burst_drop(std::size_t /*peer*/, std::uint32_t /*ppm*/, std::uint64_t* /*dropped*/ = nullptr) {
    return make_error("the " + std::string{name()} + " backend cannot drop packets in bursts");
  }
  /// What the peer's userspace delayers (delay/jitter without netem) did since
  /// the last call; all zero where netem made the delay.
  virtual delay_counts take_delay_counts(std::size_t /*peer*/) { return {}; }
  /// Carries out what set_link, block and blackhole asked for, if a backend
  /// queues them (the runner calls it after each timeline event).
  virtual status commit() { return {}; }
  /// Removes everything the run made (idempotent, best effort: problems in the text).
  virtual std::string teardown() = 0;
  /// The network namespace (a path such as /run/netns/NAME) in which the lab's
  /// coordinator runs to reach the peers' control actors over BASP; empty when
  /// this backend has none (the peers are then sampled from their JSON lines and
  /// timeline wire/disk faults are refused).
  virtual std::string coordinator_netns() const { return {}; }
  /// Describes to `out` what build() and teardown() do, for --dry-run.
  virtual void describe(std::ostream& out) = 0;
};

struct backend_options {
  std::string name = "netns";     ///< "netns" or "docker"
  std::string out_dir;            ///< absolute: the run's folder (the docker backend mounts it)
  std::string actorrent;          ///< the binary the runner's commands name (docker: replaced by the image's)
  std::string image = "actorrent:latest";         ///< docker: the peers' and the tracker's image
  std::string lab_image = "actorrent-lab:latest"; ///< docker: the image of the NET_ADMIN holders (ip, tc, iptables)
  bool dry_run = false;           ///< commands are printed, not run (in order, one at a time)
};

/// The backend `opt.name` names for this run (`run_id`: a few letters and
/// digits naming its objects), or an error for an unknown name. `run` executes
/// (or, for a dry run, records) every command.
result<std::unique_ptr<lab_backend>> make_backend(const resolved_plan& rp, const backend_options& opt,
                                                  const std::string& run_id, command_sink run);

/// Parts of a plan the backend cannot carry out ("" when it can).
std::string backend_unsupported_parts(const resolved_plan& rp, const std::string& backend);

} // namespace actorrent::lab
