// Outgoing TCP connects with a timeout. CAF 0.17's own connect (spawn_client,
// add_tcp_scribe) blocks the calling thread, so each attempt runs in a short-
// lived detached actor: a non-blocking connect() and poll() bounded by the
// timeout, then the connected socket (or the reason it failed) goes back to the
// torrent, which hands the socket to a new peer-connection broker.
#pragma once

#include "messages/interfaces.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <string>

namespace actorrent {

/// Connects to `ep` within `timeout`; returns the connected non-blocking socket
/// (TCP_NODELAY set) or an error message.
result<int> connect_with_timeout(const peer_endpoint& ep, std::chrono::milliseconds timeout);

/// Spawns a detached actor that connects and reports to `torrent`:
/// (connected_atom, index, fd) or (failed_atom, index, reason).
void spawn_connector(caf::actor_system& sys, peer_endpoint ep, std::chrono::milliseconds timeout,
                     torrent_actor torrent, peer_index index);

} // namespace actorrent
