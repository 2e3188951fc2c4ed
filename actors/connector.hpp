// Outgoing TCP connects with a timeout. CAF 0.17's own connect (spawn_client,
// add_tcp_scribe) blocks the calling thread, so each attempt runs in a short-
// lived detached actor: a non-blocking connect() and poll() bounded by the
// timeout, then the connected socket (or the reason it failed) goes back to the
// torrent, which hands the socket to a new peer-connection broker.
#pragma once

#include "logic/engine_metrics.hpp"
#include "messages/interfaces.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace actorrent {

/// Set by the torrent when it ends: connects in flight give up within 100 ms
/// (a detached actor still waiting would hold up the actor system's shutdown).
using cancel_flag = std::shared_ptr<std::atomic<bool>>;

/// Connects to `ep` within `timeout`; returns the connected non-blocking socket
/// (TCP_NODELAY set) or an error message. Gives up early once `cancel` is set.
/// With `how`, also says how it ended (connected, refused, timeout, ...).
result<int> connect_with_timeout(const peer_endpoint& ep, std::chrono::milliseconds timeout,
                                 const cancel_flag& cancel = nullptr, logic::connect_result* how = nullptr);

/// Spawns a detached actor that connects and reports to `torrent`:
/// (dialed_atom, index, fd) or (peer_failed_atom, index, reason). With
/// `metrics`, counts the attempt by its result.
void spawn_connector(caf::actor_system& sys, peer_endpoint ep, std::chrono::milliseconds timeout,
                     torrent_actor torrent, peer_index index, cancel_flag cancel = nullptr,
                     std::shared_ptr<logic::engine_metrics> metrics = nullptr);

} // namespace actorrent
