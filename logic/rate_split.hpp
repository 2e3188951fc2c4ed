// Splitting one rate limit among several peers, without actors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace actorrent::logic {

/// Splits `limit` (bytes/s, > 0) among peers by max-min fairness over what
/// each one is using now (`used`, bytes/s). A peer using less than an equal
/// part keeps what it uses plus room to grow (a quarter more, at least
/// `min_headroom`); what it leaves goes to the others in equal parts. So a
/// slow peer does not hold back bandwidth it cannot use, and a fast one cannot
/// starve the rest. The shares add up to `limit` (one share per peer, in order).
std::vector<double> split_limit(double limit, const std::vector<double>& used, double min_headroom = 16 * 1024);

/// Splits `total` unchoke slots among torrents by max-min fairness over what
/// each one can use now (`wanted`: its interested peers, at most its own slot
/// count). A torrent that wants less than an equal part gets what it wants; the
/// rest is shared equally among the others. When the slots do not divide
/// evenly (or are fewer than the torrents that want one), the odd ones go to
/// torrents in turn starting at index `turn % n`, so a caller that advances
/// `turn` each round lets every torrent have them in its turn. The shares add
/// up to min(total, sum of wanted); a torrent never gets more than it wants.
std::vector<std::uint32_t> split_slots(std::uint32_t total, const std::vector<std::uint32_t>& wanted,
                                       std::size_t turn = 0);

} // namespace actorrent::logic
