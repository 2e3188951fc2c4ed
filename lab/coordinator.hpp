// The swarm lab's coordinator (issue 12, "Running"): a CAF actor system that
// drives the actorrent peers of a run as actors. Each actorrent peer publishes
// a control actor with CAF's middleman (`--control ADDRESS:7070`, see
// actors/control.hpp); the coordinator actor connects to every one with the
// middleman's asynchronous connect (request(mm, timeout, connect_atom, host,
// port), never a blocking remote_actor), reconnects after a loss or a restart,
// samples each connected peer once a second into a board the runner reads,
// and relays fault windows (wire, disk), pause and stop as typed requests.
// BASP heartbeats (1 s) and connection timeouts (10 s) are on at both ends.
//
// Reaching the peers: their addresses exist only inside the lab's network
// namespaces. `start(netns)` switches the calling thread into the bridge's
// namespace (setns on /run/netns/NAME), builds the actor system there, and
// switches the thread back. Linux gives a new thread the network namespace of
// the thread that creates it, so every CAF thread (scheduler workers, the
// middleman's multiplexer) lives in the bridge namespace, where the bridge
// holds the lab's first address (10.77.0.1): every socket the coordinator
// opens is made inside the lab network. The runner's own thread stays in the
// host's namespace and talks to the coordinator actor in-process only.
//
// Node IDs: CAF 0.17.6 (Debian's) makes a node ID from a hash of the host's
// MAC addresses and root-disk UUID, and the process ID, with no random part.
// Peers of one lab run in one PID namespace (distinct PIDs) and each in its
// own network namespace (distinct veth MACs), so they differ. Two processes
// in one container differ by PID. Processes in separate PID namespaces that
// see the same interfaces (the same network namespace, or namespaces with
// only `lo`, or containers whose MACs are derived from equal IPs on different
// machines) can both be PID 1 and get the same node ID; BASP cannot tell them
// apart. The coordinator compares every new connection's node ID with those
// of the other peers and, on a match, stops with an error naming both peers
// (fatal()).
#pragma once

#include "protocol/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace actorrent::lab {

/// The port every actorrent peer of a lab publishes its control actor on (in
/// its own namespace, on its own address).
inline constexpr std::uint16_t control_port = 7070;

/// What the board holds for one peer.
struct board_entry {
  bool known = false;                      ///< add_peer was called
  bool connected = false;
  std::string node;                        ///< its CAF node ID, once connected
  std::optional<nlohmann::json> progress;  ///< the last sample, as the runner's progress object
  double age_s = -1;                       ///< seconds since that sample (-1: none)
  std::uint64_t samples = 0;               ///< samples received so far
  std::uint64_t connects = 0;              ///< connections made (restarts make more)
  std::string error;                       ///< the last connect or sample error
};

enum class fault_layer { wire, disk };

class coordinator {
public:
  /// Starts the actor system with its threads in the network namespace at
  /// `netns_path` (e.g. /run/netns/alab-x-br; empty: the caller's).
  static result<std::unique_ptr<coordinator>> start(const std::string& netns_path);
  ~coordinator();
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  /// Keep peer `peer` connected (its control actor at host:port).
  void add_peer(std::size_t peer, const std::string& name, const std::string& host, std::uint16_t port);
  /// The peer is gone (killed); its restart is a new node.
  void forget(std::size_t peer);
  /// A peer that was stopped for good: no more connects or samples, but its
  /// last sample stays on the board for the report.
  void retire(std::size_t peer);
  board_entry latest(std::size_t peer) const;
  /// Set when something makes the run meaningless (two peers with one node ID).
  std::optional<std::string> fatal() const;

  /// Requests relayed to a peer's control actor, bounded by `timeout`.
  result<bool> set_fault(std::size_t peer, fault_layer layer, const std::string& spec,
                         std::chrono::milliseconds timeout = std::chrono::seconds{3});
  result<nlohmann::json> sample_now(std::size_t peer, std::chrono::milliseconds timeout = std::chrono::seconds{3});
  result<bool> pause(std::size_t peer, bool on, std::chrono::milliseconds timeout = std::chrono::seconds{3});
  result<bool> stop(std::size_t peer, std::chrono::milliseconds timeout = std::chrono::seconds{3});
  /// Asks the peer to stop without waiting for its answer.
  void request_stop(std::size_t peer);

  /// Ends the actor system (idempotent); later requests fail.
  void shutdown();

  struct impl;

private:
  coordinator();
  std::unique_ptr<impl> impl_;
};

} // namespace actorrent::lab
