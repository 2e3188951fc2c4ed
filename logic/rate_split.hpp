// Splitting one rate limit among several peers, without actors.
#pragma once

#include <vector>

namespace actorrent::logic {

/// Splits `limit` (bytes/s, > 0) among peers by max-min fairness over what
/// each one is using now (`used`, bytes/s). A peer using less than an equal
/// part keeps what it uses plus room to grow (a quarter more, at least
/// `min_headroom`); what it leaves goes to the others in equal parts. So a
/// slow peer does not hold back bandwidth it cannot use, and a fast one cannot
/// starve the rest. The shares add up to `limit` (one share per peer, in order).
std::vector<double> split_limit(double limit, const std::vector<double>& used, double min_headroom = 16 * 1024);

} // namespace actorrent::logic
