// The swarm lab's side of the wire-fault layer: the `--wire-fault` argument of
// a misbehaving actorrent peer, and who banned whom at the end of a run (the
// ban oracles and `bans {precision, recall}` of report.json).
//
// Each actorrent peer's JSON progress carries `banned_peers` (the addresses it
// banned), `hash_failures_from` (failed pieces per sender address) and, when it
// misbehaves, `wire_corrupted_to` (corrupted blocks sent, per remote address).
// Peers are matched by IP address: each lab peer has its own, and a ban names
// the address it connected from or to.
//
// A liar "sent bad data" to an honest peer when that peer hashed a failed
// piece with a block from it: corrupted blocks that arrive after their piece
// was complete from others are dropped unhashed, and nobody can judge a peer
// by data it never checked (the detail still counts them).
#pragma once

#include "lab/plan.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace actorrent::lab {

/// `--wire-fault` for a peer of a group with a behaviour: the group's entries,
/// seed = the plan's seed, peer = the peer's name (so decisions differ per
/// peer and repeat per seed). Empty for honest peers.
std::string wire_fault_arg(const resolved_plan& rp, std::size_t peer);

/// Whether the peer's group has a behaviour whose data fails hash checks.
bool sends_bad_data(const resolved_plan& rp, std::size_t peer);

/// What one peer reported at the end of a run.
struct ban_report {
  bool reported = false;                          ///< a JSON progress line was read
  std::optional<std::vector<std::string>> banned; ///< banned addresses, if the peer reports them
  std::map<std::string, std::uint64_t> corrupted_to; ///< address -> corrupted blocks sent
  std::map<std::string, std::uint64_t> failed_from;  ///< address -> failed pieces it sent a block of
};

/// Who banned whom, judged over the honest actorrent peers.
struct ban_analysis {
  std::vector<std::vector<std::string>> banned_peers; ///< per peer: names (an address no peer has stays as it is)
  std::vector<bool> known;                            ///< per peer: it reported its bans
  std::optional<double> precision; ///< bans of misbehaving peers / all bans (none: no ban)
  std::optional<double> recall;    ///< (honest, liar) pairs banned / pairs where the honest peer failed a piece with the liar's blocks (none: no pair)
  bool misbehaving_banned = true;
  std::string misbehaving_detail;
  bool no_honest_banned = true;
  std::string no_honest_detail;
};

/// `reports` has one entry per peer of `rp`.
ban_analysis analyse_bans(const resolved_plan& rp, const std::vector<ban_report>& reports);

/// "10.77.0.5:6881" -> "10.77.0.5", "[fd00::1]:80" -> "fd00::1".
std::string address_host(const std::string& address);

} // namespace actorrent::lab
