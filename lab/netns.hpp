// The lab network: one network namespace per peer, joined by veth pairs to a
// bridge that lives in a namespace of its own. Addresses exist only inside those
// namespaces (no interface is ever made in the host's namespace and nothing routes
// to the host), so host firewall rules (Docker's FORWARD DROP) do not matter.
// Link shaping is tc netem (the peer's egress) and tbf (its ingress, on the
// bridge side); partitions and blackholes are iptables rules inside the peers'
// namespaces. Every object is named with the run's prefix ("alab-<id>-"), so
// `lab cleanup` finds what a crashed run left, and deleting a namespace takes its
// interfaces, qdiscs and rules with it. All commands are argument vectors.
#pragma once

#include "lab/plan.hpp"
#include "lab/process.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace actorrent::lab {

/// Every lab namespace starts with this.
inline constexpr std::string_view lab_prefix = "alab-";

/// Runs (or, for a dry run, records) one command.
using command_sink = std::function<command_result(const argv_t&)>;

/// What the userspace delayers (lab/delayer.hpp) of one peer did, summed over
/// the delayers that ran (one per delay setting).
struct delay_counts {
  std::uint64_t runs = 0;        ///< delayers stopped and read
  std::uint64_t delayed = 0;     ///< packets held and released
  std::uint64_t dropped = 0;     ///< packets dropped because the delayer's queue was full
  std::uint64_t order_waits = 0; ///< packets held longer to keep their flow in order
  double total_hold_ms = 0, max_hold_ms = 0;
  std::uint64_t died = 0;        ///< delayers that had ended before they were stopped
  std::uint64_t lost = 0;        ///< times the kernel could not tell a delayer of packets (ENOBUFS)
  void add(const delay_counts& o);
};

class lab_network {
public:
  /// `run_id`: a few letters and digits naming this run's objects.
  lab_network(const resolved_plan& rp, std::string run_id, command_sink run);
  ~lab_network();
  lab_network(const lab_network&) = delete;
  lab_network& operator=(const lab_network&) = delete;

  const std::string& bridge_ns() const { return bridge_ns_; }
  std::string peer_ns(std::size_t peer) const;
  /// argv run inside the peer's (or the bridge's) namespace.
  argv_t in_peer(std::size_t peer, const argv_t& argv) const;
  argv_t in_bridge(const argv_t& argv) const;

  /// Creates the namespaces, the bridge, the veth pairs, the addresses and each
  /// peer's own link shaping. On an error, what was made stays recorded for teardown.
  status build();
  /// Without netem, delay and jitter are made by `actorrent lab delayer`
  /// processes: `actorrent` is the binary, `stats_dir` (made if missing) gets
  /// their counters and errors. A dry run only prints their commands.
  void use_delayer(std::string actorrent, std::string stats_dir, bool dry_run);
  /// Replaces a peer's shaping; an empty spec removes it. Rate: tbf both ways
  /// (netem's own rate on the egress when netem is there). Delay, jitter, loss:
  /// netem on the egress; without netem (some kernels lack it) loss is an
  /// iptables `statistic` drop on the egress, and delay/jitter a userspace
  /// delayer inside the peer's namespace, fed by an iptables NFQUEUE rule on its
  /// incoming packets (mangle PREROUTING on eth0; why not outgoing: netns.cpp).
  status set_link(std::size_t peer, const link_spec& l);
  /// Whether the kernel has the netem qdisc (probed by build()).
  bool has_netem() const { return netem_; }
  /// An error naming the first peer link or fault this machine cannot shape.
  status check_shaping() const;
  /// Drops packets from `from` to `to` (rules in both namespaces), or removes
  /// that; when removing, adds the packets the rules dropped to `*dropped`.
  status block(std::size_t from, std::size_t to, bool on, std::uint64_t* dropped = nullptr);
  /// Cuts a peer off from everyone, or lets it back (counting as block does).
  status blackhole(std::size_t peer, bool on, std::uint64_t* dropped = nullptr);
  /// Resets every TCP connection of the peer once it has carried `bytes` (rules
  /// in INPUT and OUTPUT: iptables connbytes + REJECT --reject-with tcp-reset), or
  /// removes that, adding the packets the rules answered with a reset to `*resets`.
  status reset_after(std::size_t peer, std::uint64_t bytes, bool on, std::uint64_t* resets = nullptr);
  /// Replaces the peer's burst-loss rule (iptables statistic DROP on its
  /// outgoing packets) by one dropping `ppm` (0: none), adding what the replaced
  /// rule dropped to `*dropped`.
  status burst_drop(std::size_t peer, std::uint32_t ppm, std::uint64_t* dropped = nullptr);
  /// Waits (at most about 25 s) until a TCP connection to the tracker's address
  /// and port opens from every peer's namespace: the veths, the bridge and the
  /// tracker all work before any peer announces. An error names the first peer
  /// that could not reach it.
  status tracker_reachable();
  /// Counts of the peer's delayers stopped since the last call (then zeroed).
  delay_counts take_delay_counts(std::size_t peer);
  /// Stops every running delayer (SIGTERM, its held packets leave), reading its counts.
  void stop_delayers();
  /// Kills anything left in the namespaces and deletes them (idempotent,
  /// best effort: failures are collected in the returned text).
  std::string teardown();

private:
  status must(const argv_t& argv);
  /// A permanent ARP entry for every lab address in every lab namespace.
  status add_neighbours();
  /// Packets dropped so far by the DROP rules of `chain` in the peer's
  /// namespace whose `column` (source, destination, in, out) reads `value`.
  std::uint64_t drops(std::size_t peer, const std::string& chain, int column, const std::string& value);
  const resolved_plan& rp_;
  std::string run_id_;
  std::string bridge_ns_;
  command_sink run_;
  std::vector<std::string> made_; ///< namespaces created, in order
  bool netem_ = true;
  std::vector<link_spec> current_;      ///< each peer's shaping now
  std::vector<argv_t> loss_rule_;       ///< each peer's iptables loss rule (without -I/-D), if any
  std::vector<argv_t> burst_rule_;      ///< each peer's burst-loss rule (without -I/-D), if any
  std::vector<std::vector<argv_t>> reset_rules_; ///< each peer's reset rules (without -I/-D)
  struct delayer;
  /// Starts a delayer for the peer's `l` (delay set) on the queue the running one
  /// does not use, moves the NFQUEUE rule to it, and stops the old one.
  status start_delayer(std::size_t peer, const link_spec& l);
  /// Removes the rule of the peer's delayer and stops it, keeping its counts.
  status stop_delayer(std::size_t peer);
  std::string delayer_binary_, delayer_dir_;
  bool dry_run_ = false;
  std::vector<std::unique_ptr<delayer>> delayers_; ///< each peer's running delayer, if any
  std::vector<delay_counts> delay_counts_;         ///< each peer's counts not taken yet
  std::uint64_t delayers_started_ = 0;
  /// Packets counted so far by the rules of `chain` whose comment is `marker`.
  std::uint64_t marked(std::size_t peer, const std::string& chain, const std::string& marker);
};

/// Names of lab namespaces present on this machine (from `ip netns list`).
std::vector<std::string> list_lab_namespaces();

/// Kills the processes inside every lab namespace (or, given a run ID, only
/// inside that run's, alab-ID-*) and deletes them; returns what it did, one line
/// per object.
std::string cleanup_all_labs(const std::string& run_id = {});

/// Columns of `iptables -L CHAIN -v -x -n` that count_drops matches on.
namespace drop_column {
inline constexpr int in = 5, out = 6, source = 7, destination = 8;
}

/// Packets counted by the rules of an `iptables -L CHAIN -v -x -n` listing whose
/// comment is `marker` ("/* marker */").
std::uint64_t count_marked(const std::string& listing, const std::string& marker);

/// Packets counted by the DROP rules of an `iptables -L CHAIN -v -x -n` listing
/// whose `column` reads `value` (or `value`/32).
std::uint64_t count_drops(const std::string& listing, int column, const std::string& value);

/// lab_mac's argument for the bridge.
inline constexpr std::size_t bridge_mac_index = static_cast<std::size_t>(-1);
/// The MAC address of peer `peer`'s eth0 (or, for bridge_mac_index, of the
/// bridge): 02:61:6c and the peer's index + 1, so the runner knows every MAC.
std::string lab_mac(std::size_t peer);

/// tc arguments for a peer's egress: {"netem", "delay", "40ms", "10ms", ...} ({}
/// for no shaping).
argv_t netem_args(const link_spec& l);

} // namespace actorrent::lab
