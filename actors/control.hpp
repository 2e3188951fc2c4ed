// The control actor of one actorrent peer process (issue 12, "Running"): what
// the swarm lab's coordinator talks to over BASP. `download` and `seed` spawn
// it with `--control HOST:PORT` and publish it with CAF's middleman
// (caf::io::publish; port 0: any free port, printed on stderr and in the JSON
// progress as `control_port`). It answers a sample (progress, rates, peers,
// bans, errors, state, memory, the torrent's status values with the wire.* and
// disk.* counters), pauses and resumes the torrent, asks the command to end
// cleanly (the torrent announces `stopped`), and turns wire and disk faults on
// and off by forwarding them to the torrent. Thin: the numbers come from the
// torrent; memory from /proc/self/status.
//
// Both ends register the message types the interface sends
// (add_control_types) and turn BASP heartbeats and connection timeouts on
// (configure_basp), so a coordinator that vanishes is noticed.
#pragma once

#include "messages/interfaces.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace actorrent {

struct control_config {
  torrent_actor torrent;
  /// Receives (stop_atom) when the coordinator asks the process to end; null:
  /// stop requests are refused with an error.
  caf::actor owner;
  /// How long the torrent may take to answer a sample's requests.
  std::chrono::milliseconds request_timeout{2000};
};

struct control_state {
  control_config cfg;
  std::chrono::steady_clock::time_point started;
  std::uint64_t samples = 0;
  static inline const char* name = "control";
};

control_actor::behavior_type control(control_actor::stateful_pointer<control_state> self, control_config cfg);

/// Registers the types control_actor's messages carry over BASP (control_sample).
void add_control_types(caf::actor_system_config& cfg);

/// BASP heartbeats every `heartbeat`, connections silent for `timeout` closed.
void configure_basp(caf::actor_system_config& cfg, std::chrono::milliseconds heartbeat = std::chrono::seconds{1},
                    std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// VmRSS and VmHWM of this process in bytes (0 when unknown).
std::uint64_t own_rss_bytes();
std::uint64_t own_peak_rss_bytes();

} // namespace actorrent
