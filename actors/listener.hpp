// The listener: one broker that owns the listening socket and routes incoming
// peer connections to torrents by the info-hash of their handshake, so any
// number of torrents share one port.
//
// For each accepted connection it reads until the first 48 bytes of the
// remote handshake are in (protocol string, reserved bits, info-hash; BEP 3
// lets the initiator hold back its peer id until it sees ours), looks up the
// torrent attached for that info-hash, asks it whether it takes the peer
// (connection limits, bans, shutdown) and, if so, moves the socket into a new
// peer connection broker (`fork`) together with every byte read so far; the
// torrent then holds that broker. An info-hash no torrent is attached for
// goes to the waker, if one is set (the daemon's session, whose sleeping
// torrents detach): it spawns the torrent again, which is then asked as
// usual. Unknown info-hashes, other protocols
// (including encrypted handshakes, not supported) and connections that do not
// complete the handshake in time are closed. Nothing here touches the disk or
// hashes: the listener runs on the middleman thread like every broker.
#pragma once

#include "messages/interfaces.hpp"

#include <caf/fwd.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/io/connection_handle.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace actorrent {

struct listener_config {
  std::uint16_t port = 6881;         ///< 0: any free port (ask with get_atom)
  std::string bind_address;          ///< empty: every IPv4 and IPv6 address
  std::uint32_t max_pending = 64;    ///< connections still in their handshake
  std::chrono::seconds handshake_timeout{10};
};

struct listener_state {
  struct pending {
    std::vector<std::uint8_t> bytes;
    std::chrono::steady_clock::time_point since;
    bool asked = false;              ///< waiting for the torrent's answer
  };
  listener_config cfg;
  std::uint16_t port = 0;
  std::map<caf::io::connection_handle, pending> pending;
  std::unordered_map<sha1_hash, torrent_actor> routes; ///< attached torrents by info-hash
  waker_actor waker;                 ///< asked for unknown info-hashes (sleeping torrents); may be null
  caf::error bind_error;             ///< the port could not be opened: answer get_atom with it
  std::uint64_t accepted = 0;        ///< handed to a torrent (status)
  std::uint64_t refused = 0;         ///< closed here (status)

  static inline const char* name = "listener";
};

using listener_broker = listener_impl_actor::stateful_broker_base<listener_state>;

/// The listener's behavior (its messages: listener_impl_actor in messages/interfaces.hpp).
listener_impl_actor::behavior_type listener(listener_broker* self, listener_config cfg);

/// Spawns the listener; fails if the port cannot be opened.
caf::expected<listener_actor> spawn_listener(caf::actor_system& sys, listener_config cfg);

} // namespace actorrent
